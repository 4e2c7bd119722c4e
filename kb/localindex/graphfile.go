package localindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/bedrockkit/bedrockkit/internal/envelope"
)

// The HNSW graph is saved beside each snapshot, so Open does not rebuild it
// (a rebuild costs tens of seconds at 100,000 vectors):
//
//	graph-<lsn>.hnsw  graphMagic | u64 lsn | u32 idsum | u32 n | u32 m |
//	                  u32 maxLevel | u32 entry | n nodes | u32 CRC-32C
//	node              u8 level | for each layer 0..level: u32 count, count x u32
//
// Nodes are numbered in the order the snapshot writes the records that have
// vectors (slot order), which is the order Open gives them slots again;
// idsum, a CRC-32C over those records' partition and ID, ties the file to
// its snapshot. Tombstones (deleted slots the graph still walks through) are
// left out with their links. A missing, damaged or mismatching file only
// costs a rebuild.
const graphMagic = "BKHNSW1\n"

// maxGraphTombstones is the share of tombstones above which no graph file is
// written: dropping that many links would weaken the graph, and a rebuild
// on open yields a clean one.
const maxGraphTombstones = 0.1

func graphName(dir string, lsn uint64) string {
	return filepath.Join(dir, fmt.Sprintf("graph-%016x.hnsw", lsn))
}

// idSum accumulates the identity check of the records with vectors, in
// snapshot order.
type idSum struct{ h hash.Hash32 }

func newIDSum() idSum { return idSum{crc32.New(crcTable)} }

func (s idSum) add(partition, id string) {
	var n [binary.MaxVarintLen64]byte
	s.h.Write(n[:binary.PutUvarint(n[:], uint64(len(partition)))])
	s.h.Write([]byte(partition))
	s.h.Write(n[:binary.PutUvarint(n[:], uint64(len(id)))])
	s.h.Write([]byte(id))
}

func (s idSum) sum() uint32 { return s.h.Sum32() }

// encodeGraph returns the graph file for the snapshot at lsn, whose
// records with vectors are those of the live slots, in that order (ids is
// their identity check), or nil when no file should be written. Caller
// holds mu (read).
func (ix *Index) encodeGraph(lsn uint64, live []int32, ids uint32) []byte {
	g := ix.graph
	if g == nil || len(live) == 0 {
		return nil
	}
	if dead := len(ix.slots) - len(live); float64(dead) > maxGraphTombstones*float64(len(live)) {
		return nil
	}
	num := make([]int32, len(ix.slots)) // slot -> node number + 1 (0: not saved)
	entry, top := int32(-1), -1
	for i, s := range live {
		if int(s) >= len(g.level) || g.level[s] < 0 {
			return nil // not in the graph (cannot happen after a flush)
		}
		num[s] = int32(i) + 1
		if l := int(g.level[s]); l > top || (l == top && s == g.entry) {
			entry, top = int32(i), l
		}
	}
	b := make([]byte, 0, len(graphMagic)+28+len(live)*(1+4*(g.m0+2)))
	b = append(b, graphMagic...)
	b = binary.LittleEndian.AppendUint64(b, lsn)
	for _, v := range []uint32{ids, uint32(len(live)), uint32(g.m), uint32(top), uint32(entry)} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	for _, s := range live {
		lvl := int(g.level[s])
		b = append(b, byte(lvl))
		for l := 0; l <= lvl; l++ {
			at := len(b)
			b = append(b, 0, 0, 0, 0)
			n := uint32(0)
			for _, x := range g.get(s, l) {
				if num[x] > 0 {
					b = binary.LittleEndian.AppendUint32(b, uint32(num[x]-1))
					n++
				}
			}
			binary.LittleEndian.PutUint32(b[at:], n)
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// sealGraph returns the bytes of the graph file: data itself, or with
// encryption graphMagicSealed followed by data (without its magic) sealed.
func (ix *Index) sealGraph(lsn uint64, data []byte) ([]byte, error) {
	if ix.keys == nil {
		return data, nil
	}
	seal, err := ix.keys.NewSealer("graph")
	if err != nil {
		return nil, err
	}
	out := append(make([]byte, 0, len(graphMagicSealed)+len(data)+envelope.Overhead), graphMagicSealed...)
	out, _ = seal.Seal(out, data[len(graphMagic):], graphAAD(lsn))
	return out, nil
}

// openGraph returns the plain graph file of data read from disk.
func (ix *Index) openGraph(lsn uint64, data []byte) ([]byte, error) {
	sealed := len(data) >= len(graphMagicSealed) && string(data[:len(graphMagicSealed)]) == graphMagicSealed
	switch {
	case sealed && ix.keys == nil:
		return nil, errors.New("encrypted, and the index is opened without Encryption")
	case sealed:
		out := append(make([]byte, 0, len(data)), graphMagic...)
		out, _, err := ix.keys.Open(out, data[len(graphMagicSealed):], graphAAD(lsn), "graph")
		if err != nil {
			return nil, fmt.Errorf("does not decrypt: %w", err)
		}
		return out, nil
	case ix.keys != nil && !ix.opts.Encryption.AllowPlaintext:
		return nil, errors.New("not encrypted")
	}
	return data, nil
}

// errGraphMismatch: the graph file belongs to other data or other HNSW
// options; the graph is rebuilt.
var errGraphMismatch = errors.New("does not match the snapshot or the HNSW options")

// readGraph installs the graph saved for the snapshot at lsn, whose records
// with vectors were just loaded into slots 0..n-1 in order (ids is their
// identity check). Any error leaves ix.graph nil.
func (ix *Index) readGraph(lsn uint64, ids uint32) error {
	data, err := os.ReadFile(graphName(ix.opts.Dir, lsn))
	if err != nil {
		return err
	}
	if data, err = ix.openGraph(lsn, data); err != nil {
		return err
	}
	body, top, entry, err := ix.checkGraphHeader(data, lsn, ids)
	if err != nil {
		return err
	}
	n := len(ix.slots)
	h := ix.opts.HNSW
	g := newHNSW(ix, h.M, h.EfConstruction, h.EfSearch, h.Seed)
	g.grow()
	p := graphHeaderLen
	for s := range int32(n) {
		if p, err = g.readNode(body, p, s, top, n); err != nil {
			return err
		}
	}
	if p != len(body) {
		return errors.New("trailing bytes")
	}
	if err := g.checkLayers(entry, top, n); err != nil {
		return err
	}
	g.entry, g.maxLevel = entry, top
	ix.graph = g
	return nil
}

// graphHeaderLen is the length of a graph file's header: the magic, u64
// lsn, then u32 ids, nodes, M, top layer and entry point.
const graphHeaderLen = len(graphMagic) + 8 + 5*4

// checkGraphHeader checks a graph file's checksum and that its header
// matches the snapshot at lsn (ids), the index and its HNSW settings. It
// returns the file without its checksum, the top layer and the entry
// point.
func (ix *Index) checkGraphHeader(data []byte, lsn uint64, ids uint32) (body []byte, top int, entry int32, err error) {
	if len(data) < graphHeaderLen+4 || string(data[:len(graphMagic)]) != graphMagic {
		return nil, 0, 0, errors.New("bad header")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return nil, 0, 0, errors.New("checksum mismatch")
	}
	u32 := func(off int) uint32 { return binary.LittleEndian.Uint32(body[off:]) }
	o := len(graphMagic)
	n := int(u32(o + 12))
	if binary.LittleEndian.Uint64(body[o:]) != lsn || u32(o+8) != ids || n != len(ix.slots) || n != ix.live || int(u32(o+16)) != ix.opts.HNSW.M {
		return nil, 0, 0, errGraphMismatch
	}
	top, entry = int(u32(o+20)), int32(u32(o+24))
	if top > 30 || entry < 0 || int(entry) >= n {
		return nil, 0, 0, errors.New("bad entry point")
	}
	return body, top, entry, nil
}

// readNode reads node s of a graph file at body[p:]: its level (at most
// top) and its links, to nodes below n, on each layer. It returns the
// offset after the node.
func (g *hnsw) readNode(body []byte, p int, s int32, top, n int) (int, error) {
	if p >= len(body) {
		return p, errors.New("truncated")
	}
	lvl := int(body[p])
	p++
	if lvl > top {
		return p, errors.New("node above the top layer")
	}
	g.level[s] = int8(lvl)
	if lvl > 0 {
		g.links[s] = make([][]int32, lvl+1) // layer 0 lives in g.l0
	}
	for l := 0; l <= lvl; l++ {
		var err error
		if p, err = g.readLinks(body, p, s, l, n); err != nil {
			return p, err
		}
	}
	return p, nil
}

// readLinks reads node s's links on layer l at body[p:], each to a node
// below n, and returns the offset after them.
func (g *hnsw) readLinks(body []byte, p int, s int32, l, n int) (int, error) {
	if p+4 > len(body) {
		return p, errors.New("truncated")
	}
	c := int(binary.LittleEndian.Uint32(body[p:]))
	p += 4
	mmax := g.m
	if l == 0 {
		mmax = g.m0
	}
	if c > mmax || p+4*c > len(body) {
		return p, errors.New("bad link count")
	}
	var list []int32
	if l == 0 {
		// Straight into the layer-0 array: no allocation per node.
		base := int(s) * (g.m0 + 1)
		g.l0[base] = int32(c)
		list = g.l0[base+1 : base+1+c]
	} else {
		list = make([]int32, c)
		g.links[s][l] = list
	}
	for i := range list {
		x := binary.LittleEndian.Uint32(body[p:])
		p += 4
		if int(x) >= n {
			return p, errors.New("link out of range")
		}
		list[i] = int32(x)
	}
	return p, nil
}

// checkLayers checks that the entry point is on the top layer and that
// links point to a node only on layers the node is on; n is the number of
// nodes.
func (g *hnsw) checkLayers(entry int32, top, n int) error {
	if g.level[entry] != int8(top) {
		return errors.New("bad entry point")
	}
	for s := range int32(n) {
		for l := 1; l < len(g.links[s]); l++ {
			for _, x := range g.links[s][l] {
				if int(g.level[x]) < l {
					return errors.New("link to a node below its layer")
				}
			}
		}
	}
	return nil
}
