package localindex

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// graphByID describes the graph by record IDs: for each live node, its
// level and its links per layer to live nodes (tombstones left out).
func graphByID(ix *Index) map[string][][]string {
	g := ix.graph
	out := map[string][][]string{}
	for s, e := range ix.slots {
		if e == nil {
			continue
		}
		var layers [][]string
		for l := 0; l <= int(g.level[s]); l++ {
			var ids []string
			for _, x := range g.get(int32(s), l) {
				if ix.slots[x] != nil {
					ids = append(ids, ix.slots[x].rec.ID)
				}
			}
			layers = append(layers, ids)
		}
		out[e.rec.ID] = layers
	}
	return out
}

func sameGraph(t *testing.T, a, b map[string][][]string) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("graph has %d nodes after reopen, want %d", len(b), len(a))
	}
	for id, la := range a {
		lb := b[id]
		if len(la) != len(lb) {
			t.Fatalf("node %s: %d layers after reopen, want %d", id, len(lb), len(la))
		}
		for l := range la {
			if !slices.Equal(la[l], lb[l]) {
				t.Fatalf("node %s layer %d: links %v after reopen, want %v", id, l, lb[l], la[l])
			}
		}
	}
}

// TestHNSWGraphSaved: Close saves the graph beside the snapshot and Open
// loads it (no rebuild) with every node's links intact, tombstones left
// out; a damaged file or changed options cost only a rebuild.
func TestHNSWGraphSaved(t *testing.T) { bothModes(t, testHNSWGraphSaved) }

func testHNSWGraphSaved(t *testing.T) {
	dir := t.TempDir()
	vecs := clustered(3000, 16, 21)
	o := Options{Dir: dir, NoSync: true, HNSW: &HNSWOptions{MinRecords: 1000, M: 8, EfConstruction: 32}}
	ix, err := Open(tOpts(o))
	if err != nil {
		t.Fatal(err)
	}
	load(t, ix, vecs)
	// 150 records of another document, then deleted: tombstones (5%).
	var extra []kbstore.Record
	for i := range 150 {
		extra = append(extra, kbstore.Record{ID: "x" + strconv.Itoa(i), DocumentID: "x", Vector: vecs[i]})
	}
	if err := ix.Upsert(bg, extra); err != nil {
		t.Fatal(err)
	}
	if n, err := ix.DeleteDocuments(bg, "", []string{"x"}); err != nil || n != 150 {
		t.Fatalf("delete: %d %v", n, err)
	}
	if len(ix.slots) == ix.live {
		t.Fatal("expected tombstones in the graph")
	}
	want := graphByID(ix)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	ix, err = Open(tOpts(o))
	if err != nil {
		t.Fatal(err)
	}
	if r := ix.Recovery(); !r.GraphLoaded || len(r.Problems) > 0 {
		t.Fatalf("graph not loaded on open: %+v", r)
	}
	sameGraph(t, want, graphByID(ix))
	if len(ix.slots) != 3000 {
		t.Fatalf("%d slots after reopen, want 3000 (tombstones dropped)", len(ix.slots))
	}
	hits, err := ix.Search(bg, kbstore.Query{Vector: vecs[42], K: 1})
	if err != nil || len(hits) != 1 || hits[0].ID != "42" {
		t.Fatalf("search after loading the graph: %v %v", ids(hits), err)
	}
	// The loaded graph keeps growing: new records are found.
	q := slices.Clone(vecs[7])
	q[0] += 25
	if err := ix.Upsert(bg, []kbstore.Record{{ID: "new", DocumentID: "n", Vector: q}}); err != nil {
		t.Fatal(err)
	}
	if hits, _ := ix.Search(bg, kbstore.Query{Vector: q, K: 1}); len(hits) != 1 || hits[0].ID != "new" {
		t.Fatalf("record added after loading the graph not found: %v", ids(hits))
	}
	want = graphByID(ix)
	ix.Close()

	// A damaged graph file: rebuilt, reported, nothing else lost.
	names, _ := listFiles(dir, "graph-", ".hnsw")
	snaps, _ := listFiles(dir, "snap-", ".snap")
	if !slices.Equal(names, snaps) {
		t.Fatalf("graph files %v, snapshots %v: each snapshot keeps its graph, no other", names, snaps)
	}
	gname := graphName(dir, names[len(names)-1])
	b, _ := os.ReadFile(gname)
	b[len(b)/2] ^= 0x40
	os.WriteFile(gname, b, 0o644)
	ix, err = Open(tOpts(o))
	if err != nil {
		t.Fatal(err)
	}
	r := ix.Recovery()
	if r.GraphLoaded || len(r.Problems) != 1 || !(strings.Contains(r.Problems[0], "checksum") || testEnc != nil && strings.Contains(r.Problems[0], "authenticate")) {
		t.Fatalf("damaged graph file: %+v", r)
	}
	if ix.graph == nil || ix.Len() != 3001 {
		t.Fatalf("after a damaged graph file: graph %v, %d records", ix.graph != nil, ix.Len())
	}
	ix.close(false) // no new snapshot: the damaged file stays the newest
	b[len(b)/2] ^= 0x40
	os.WriteFile(gname, b, 0o644)

	// Other HNSW options: the saved graph does not fit and is rebuilt.
	o2 := o
	o2.HNSW = &HNSWOptions{MinRecords: 1000, M: 12, EfConstruction: 32}
	ix, err = Open(tOpts(o2))
	if err != nil {
		t.Fatal(err)
	}
	if r := ix.Recovery(); r.GraphLoaded || ix.graph == nil || len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "options") {
		t.Fatalf("changed M: %+v", r)
	}
	ix.close(false)

	// Same options again, with the file repaired: it loads and equals the
	// graph before the damage.
	ix, err = Open(tOpts(o))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if !ix.Recovery().GraphLoaded {
		t.Fatalf("repaired graph file not loaded: %+v", ix.Recovery())
	}
	sameGraph(t, want, graphByID(ix))
}

// TestHNSWGraphLeftovers: a crash during a snapshot can leave temporary
// files and a graph file whose snapshot never landed; Open removes them.
func TestHNSWGraphLeftovers(t *testing.T) { bothModes(t, testHNSWGraphLeftovers) }

func testHNSWGraphLeftovers(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"snap-0000000000000009.snap.tmp", "graph-0000000000000009.hnsw.tmp", "graph-0000000000000009.hnsw"} {
		os.WriteFile(dir+"/"+n, []byte("partial"), 0o644)
	}
	ix, err := Open(tOpts(Options{Dir: dir, NoSync: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), "0000000000000009") {
			t.Errorf("leftover %s not removed", e.Name())
		}
	}
}

// FuzzReadGraph: whatever a graph file holds, loading it never panics, and
// a graph it accepts only links existing nodes on their layers.
func FuzzReadGraph(f *testing.F) {
	dir := f.TempDir()
	vecs := clustered(60, 8, 3)
	o := Options{Dir: dir, NoSync: true, HNSW: &HNSWOptions{MinRecords: 50, M: 4, EfConstruction: 16}}
	ix, err := Open(tOpts(o))
	if err != nil {
		f.Fatal(err)
	}
	load(f, ix, vecs)
	ix.Close()
	snaps, _ := listFiles(dir, "snap-", ".snap")
	lsn := snaps[len(snaps)-1]
	valid, err := os.ReadFile(graphName(dir, lsn))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-5])
	f.Add([]byte(graphMagic))
	flipped := slices.Clone(valid)
	flipped[40] ^= 1
	f.Add(flipped)
	negEntry := slices.Clone(valid) // entry point field = -1 (the fuzz body fixes the checksum)
	binary.LittleEndian.PutUint32(negEntry[len(graphMagic)+8+16:], 0xFFFFFFFF)
	f.Add(negEntry)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4 { // fix the checksum so the parser behind it is reached
			body := data[:len(data)-4]
			data = binary.LittleEndian.AppendUint32(slices.Clone(body), crc32.Checksum(body, crcTable))
		}
		os.WriteFile(graphName(dir, lsn), data, 0o644)
		ix, err := Open(tOpts(o))
		if err != nil {
			t.Fatal(err)
		}
		defer ix.close(false)
		if ix.graph == nil || ix.Len() != 60 {
			t.Fatalf("graph %v, %d records", ix.graph != nil, ix.Len())
		}
		g := ix.graph
		for s := range int32(len(ix.slots)) {
			for l := 0; l <= int(g.level[s]); l++ {
				for _, x := range g.get(s, l) {
					if int(x) >= len(ix.slots) || int(g.level[x]) < l {
						t.Fatalf("node %d layer %d links to %d", s, l, x)
					}
				}
			}
		}
		if hits, err := ix.Search(bg, kbstore.Query{Vector: vecs[5], K: 3}); err != nil || len(hits) == 0 {
			t.Fatalf("search: %v %v", hits, err)
		}
	})
}
