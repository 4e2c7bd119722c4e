package localindex

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bedrockkit/bedrockkit/internal/envelope"
	"github.com/bedrockkit/bedrockkit/kb/internal/framelog"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/keyprovider"
)

// On-disk layout of Dir:
//
//	wal-<lsn>.log   log segment whose first record has log sequence number lsn
//	snap-<lsn>.snap snapshot of the state after record lsn
//	graph-<lsn>.hnsw HNSW graph saved with snap-<lsn>.snap (see graphfile.go)
//	vectors.f32     Int8 only: float32 vectors by slot (rebuilt on every open)
//
// A log segment starts with walMagic and holds framed records:
//
//	u32 payload length | u32 CRC-32C of payload | payload
//	payload = u64 lsn | u8 op | body
//
// A snapshot starts with snapMagic, then u64 lsn, u32 dims, u64 count, then
// count framed records (payload = one encoded record) and a framed trailer
// (payload = "END" + u64 count). Snapshots are written to a temporary file,
// fsynced and renamed, and the directory is fsynced.
//
// Open loads the newest snapshot that verifies (older ones and the log
// segments since the previous snapshot are kept for this), then replays the
// log records after it in order (recover.go). A record that does not
// verify is skipped and the log resynchronised at the next one that does
// (kb/internal/framelog); the positions it held are counted as lost. Only
// an unfinished last write at the end of the newest segment (a crash) is
// cut silently. Any other loss makes Open fail with a *CorruptionError
// unless Options.AllowDataLoss; damaged files are copied (segments) or
// moved (snapshots) aside as *.corrupt before anything is repaired.
const (
	walMagic  = "BKWAL01\n"
	snapMagic = "BKSNP01\n"

	opUpsert byte = 1
	opDelete byte = 2

	maxRecord = 1 << 30
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// configError is a conflict between Options and the data on disk: Open
// fails with it rather than setting the data aside.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }

// errDimensions is the conflict of a Dir holding stored-dimension vectors
// with a different Options.Dimensions. It names each number once, says
// whose it is, and matches kbstore.ErrDimensionMismatch (so also
// bedrockkit.ErrDimensionMismatch and bedrockkit.ErrInvalidInput).
func (ix *Index) errDimensions(stored int) error {
	return fmt.Errorf("localindex: %s holds %d-dimension vectors but Options.Dimensions is %d; open it with Dimensions %d (or 0, which takes the index's), or use a new Dir and re-embed every document with the other model: %w",
		ix.opts.Dir, stored, ix.opts.Dimensions, stored, kbstore.ErrDimensionMismatch)
}

type wal struct {
	dir     string
	f       *os.File
	start   uint64 // first lsn of the current segment
	lsn     uint64 // last lsn written
	size    int64  // bytes in the current segment
	good    int64  // size after the last complete record
	records int    // records in the current segment
	snapLSN []uint64
	// With encryption: the keyring, and the sealer of the current
	// segment's records (a new one, with a new key, for every segment and
	// every process that appends to it).
	keys *envelope.Keyring
	seal *envelope.Sealer
	// snapSize is the size of the newest snapshot (written or loaded);
	// snapCount and snapTotal count the snapshots this process wrote and
	// their bytes.
	snapSize  atomic.Int64 // written under snapMu, read under walMu
	snapCount int
	snapTotal int64
}

func segName(dir string, lsn uint64) string {
	return filepath.Join(dir, fmt.Sprintf("wal-%016x.log", lsn))
}

func snapName(dir string, lsn uint64) string {
	return filepath.Join(dir, fmt.Sprintf("snap-%016x.snap", lsn))
}

// listFiles returns the LSNs of files named prefix-<hex>suffix, ascending.
func listFiles(dir, prefix, suffix string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, prefix) || !strings.HasSuffix(n, suffix) {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(n, prefix), suffix), 16, 64)
		if err != nil {
			continue
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func frame(payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.LittleEndian.PutUint32(b[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(payload, crcTable))
	return append(b, payload...)
}

// readFrame reads one framed payload. io.EOF means a clean end; any other
// error means a torn or corrupt record.
func readFrame(r *bufio.Reader) ([]byte, error) {
	var h [8]byte
	n, err := io.ReadFull(r, h[:])
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("torn record header (%d bytes)", n)
	}
	size := binary.LittleEndian.Uint32(h[0:])
	if size > maxRecord {
		return nil, fmt.Errorf("record length %d is corrupt", size)
	}
	p := make([]byte, size)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, fmt.Errorf("torn record (want %d bytes)", size)
	}
	if crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, errors.New("record checksum mismatch")
	}
	return p, nil
}

// append writes one record and, if sync, fsyncs it.
func (w *wal) append(op byte, body []byte, sync bool) error {
	var rec []byte
	if w.keys != nil {
		if w.seal == nil {
			s, err := w.keys.NewSealer("wal")
			if err != nil {
				return err
			}
			w.seal = s
		}
		p := make([]byte, 9, 9+len(body)+envelope.Overhead)
		binary.LittleEndian.PutUint64(p, w.lsn+1)
		p[8] = op | opSealed
		p, _ = w.seal.Seal(p, body, walAAD(w.start, w.lsn+1, op))
		rec = frame(p)
	} else {
		p := make([]byte, 9, 9+len(body))
		binary.LittleEndian.PutUint64(p, w.lsn+1)
		p[8] = op
		p = append(p, body...)
		rec = frame(p)
	}
	if _, err := w.f.Write(rec); err != nil {
		w.size = -1
		return err
	}
	if sync {
		if err := w.f.Sync(); err != nil {
			w.size = -1
			return err
		}
	}
	w.lsn++
	w.size += int64(len(rec))
	w.good = w.size
	w.records++
	return nil
}

// rollback cuts a partly written record off the segment.
func (w *wal) rollback() error {
	if err := w.f.Truncate(w.good); err != nil {
		return err
	}
	if _, err := w.f.Seek(w.good, io.SeekStart); err != nil {
		return err
	}
	w.size = w.good
	return w.f.Sync()
}

func (w *wal) close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// newSegment starts a fresh segment whose first record will be lsn+1.
// If it cannot be created, the current segment stays in use, so a failed
// snapshot start never stops writes. With force (a key rotation) it starts
// one even if the current segment is empty.
func (w *wal) newSegment(force bool) error {
	name := segName(w.dir, w.lsn+1)
	if w.f != nil && w.records == 0 && w.start == w.lsn+1 && !force {
		return nil // the current segment is empty and already starts there
	}
	if force && w.f != nil && w.start == w.lsn+1 {
		// The current segment holds no record this process wrote and its
		// name is the one a new segment would take: seal what follows
		// under the current key instead of replacing the file.
		if w.records > 0 {
			return fmt.Errorf("localindex: internal error: segment %d holds records past its start", w.start)
		}
		s, err := w.keys.NewSealer("wal")
		if err != nil {
			return err
		}
		w.seal = s
		return nil
	}
	var seal *envelope.Sealer
	magic := walMagic
	if w.keys != nil {
		s, err := w.keys.NewSealer("wal")
		if err != nil {
			return err
		}
		seal, magic = s, walMagicSealed
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(name)
		return err
	}
	if _, err := f.WriteString(magic); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := syncDir(w.dir); err != nil {
		return fail(err)
	}
	if w.f != nil {
		w.f.Close() // every record in it is already synced (or NoSync)
	}
	w.f, w.start, w.size, w.good, w.records = f, w.lsn+1, int64(len(walMagic)), int64(len(walMagic)), 0
	w.seal = seal
	return nil
}

// removeLeftovers deletes what a crash during a snapshot can leave: its
// temporary files, and graph files whose snapshot never landed.
func (ix *Index) removeLeftovers(snaps []uint64) {
	dir := ix.opts.Dir
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		n := e.Name()
		if (strings.HasPrefix(n, "snap-") || strings.HasPrefix(n, "graph-") || strings.HasPrefix(n, "wal-")) && strings.HasSuffix(n, ".tmp") {
			os.Remove(filepath.Join(dir, n))
		}
	}
	graphs, _ := listFiles(dir, "graph-", ".hnsw")
	for _, g := range graphs {
		if !slices.Contains(snaps, g) {
			os.Remove(graphName(dir, g))
		}
	}
}

func (ix *Index) resetState() {
	ix.dim = ix.opts.Dimensions
	ix.entries = map[pkey]*entry{}
	ix.docs = map[string]map[string]map[string]struct{}{}
	ix.partID = map[string]uint32{}
	ix.partLive = map[uint32]int{}
	ix.slots, ix.inv, ix.part, ix.scales, ix.resid, ix.free = nil, nil, nil, nil, nil, nil
	ix.vecs, ix.codes = paged[float32]{}, paged[int8]{}
	ix.live = 0
	ix.graph = nil
	ix.pending = nil
}

func (ix *Index) loadSnapshot(name string, lsn uint64) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	sealed, count, err := ix.readSnapHeader(r, name, lsn)
	if err != nil {
		return err
	}
	// The slot arrays are sized once (the count is bounded by what the
	// file can hold, in case the header is damaged).
	if fi, err := f.Stat(); err == nil && ix.dim > 0 {
		ix.reserve(int(min(count, uint64(fi.Size())/uint64(4*ix.dim+8))))
	}
	l := &snapLoader{ix: ix, name: name, lsn: lsn, sealed: sealed}
	ids, buf, err := l.records(r, count)
	if err != nil {
		return err
	}
	p, err := readFrame(r)
	if err == nil {
		p, _, err = ix.openSnapFrame(sealed, lsn, p, buf, int64(count))
	}
	if err != nil || len(p) != 11 || string(p[:3]) != "END" || binary.LittleEndian.Uint64(p[3:]) != count {
		return errors.New("missing or bad trailer")
	}
	ix.loadSnapGraph(lsn, ids)
	ix.flushGraph()
	return nil
}

// readSnapHeader reads and checks the header of snapshot name at lsn: its
// magic against the index's keys, its log position, and its vector length,
// which becomes the index's. It returns whether the records are sealed and
// how many the header counts.
func (ix *Index) readSnapHeader(r *bufio.Reader, name string, lsn uint64) (sealed bool, count uint64, err error) {
	var h [snapHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return false, 0, errors.New("bad header")
	}
	switch string(h[:len(snapMagic)]) {
	case snapMagic:
		if ix.keys != nil && !ix.opts.Encryption.AllowPlaintext {
			return false, 0, &configError{ix.errPlaintext(filepath.Base(name))}
		}
	case snapMagicSealed:
		if ix.keys == nil {
			return false, 0, &configError{ix.errNoKey(filepath.Base(name))}
		}
		sealed = true
	default:
		return false, 0, errors.New("bad header")
	}
	if got := binary.LittleEndian.Uint64(h[len(snapMagic):]); got != lsn {
		return false, 0, fmt.Errorf("header says log position %d, name says %d", got, lsn)
	}
	dim := int(binary.LittleEndian.Uint32(h[len(snapMagic)+8:]))
	count = binary.LittleEndian.Uint64(h[len(snapMagic)+12:])
	if ix.opts.Dimensions != 0 && dim != 0 && dim != ix.opts.Dimensions {
		return false, 0, &configError{ix.errDimensions(dim)}
	}
	if dim != 0 {
		ix.dim = dim
	}
	return sealed, count, nil
}

// snapLoader loads the records of one snapshot: they are decoded,
// decrypted and quantised by ix.opts.Workers goroutines a chunk at a time,
// then applied in order.
type snapLoader struct {
	ix     *Index
	name   string
	lsn    uint64
	sealed bool
}

// snapDecoded is one decoded snapshot record, or why it could not be.
type snapDecoded struct {
	rec kbstore.Record
	pre *vecPre
	err error
}

// snapChunk is how many records snapLoader decodes at a time.
const snapChunk = 1024

// records reads, decodes and applies count records. It returns the
// identity check of the records with vectors and the decryption buffer
// (for the trailer).
func (l *snapLoader) records(r *bufio.Reader, count uint64) (idSum, []byte, error) {
	ids := newIDSum()
	frames := make([][]byte, 0, snapChunk)
	out := make([]snapDecoded, snapChunk)
	var buf []byte
	for i := uint64(0); i < count; {
		frames = frames[:0]
		first := i
		for ; i < count && len(frames) < snapChunk; i++ {
			p, err := readFrame(r)
			if err != nil {
				return ids, buf, fmt.Errorf("record %d: %v", i, err)
			}
			frames = append(frames, p)
		}
		l.decodeAll(frames, first, out, &buf)
		for j := range frames {
			d := out[j]
			out[j] = snapDecoded{}
			if d.err != nil {
				return ids, buf, d.err
			}
			if d.rec.Vector != nil {
				ids.add(d.rec.Partition, d.rec.ID)
			}
			l.ix.applyUpsertPre(d.rec, d.pre)
		}
	}
	return ids, buf, nil
}

// decodeAll decodes frames, numbered from first, into out: with up to
// ix.opts.Workers goroutines (each with its own buffer) when there are
// enough, else in turn with buf.
func (l *snapLoader) decodeAll(frames [][]byte, first uint64, out []snapDecoded, buf *[]byte) {
	w := min(l.ix.opts.Workers, len(frames)/64)
	if w <= 1 {
		for j := range frames {
			out[j] = l.decode(frames[j], first+uint64(j), buf)
		}
		return
	}
	var wg sync.WaitGroup
	for k := range w {
		lo, hi := len(frames)*k/w, len(frames)*(k+1)/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for j := lo; j < hi; j++ {
				out[j] = l.decode(frames[j], first+uint64(j), &buf)
			}
		}()
	}
	wg.Wait()
}

// decode opens and decodes record i of the snapshot and prepares its
// vector.
func (l *snapLoader) decode(p []byte, i uint64, buf *[]byte) snapDecoded {
	ix := l.ix
	p, _, err := ix.openSnapFrame(l.sealed, l.lsn, p, *buf, int64(i))
	if err != nil {
		if errors.Is(err, keyprovider.ErrKeyUnavailable) {
			return snapDecoded{err: &configError{fmt.Errorf("localindex: %s: %w", filepath.Base(l.name), err)}}
		}
		return snapDecoded{err: fmt.Errorf("record %d: %v", i, err)}
	}
	if l.sealed {
		*buf = p[:0]
	}
	rec, _, err := decodeRecord(p)
	if err != nil {
		return snapDecoded{err: fmt.Errorf("record %d: %v", i, err)}
	}
	if rec.Vector != nil && len(rec.Vector) != ix.dim {
		return snapDecoded{err: fmt.Errorf("record %d has %d dimensions, snapshot %d", i, len(rec.Vector), ix.dim)}
	}
	d := snapDecoded{rec: rec}
	if rec.Vector != nil {
		d.pre = ix.prepare(rec.Vector)
	}
	return d
}

// loadSnapGraph loads the graph file written with snapshot lsn when the
// index uses HNSW and is large enough; a graph that does not match (ids)
// is noted and rebuilt.
func (ix *Index) loadSnapGraph(lsn uint64, ids idSum) {
	h := ix.opts.HNSW
	if h == nil || ix.live < h.MinRecords {
		return
	}
	err := ix.readGraph(lsn, ids.sum())
	switch {
	case err == nil:
		ix.pending = ix.pending[:0]
		ix.recov.GraphLoaded = true
	case !errors.Is(err, os.ErrNotExist):
		ix.recov.Problems = append(ix.recov.Problems, fmt.Sprintf("graph %s not used, rebuilt (%v)", filepath.Base(graphName(ix.opts.Dir, lsn)), err))
	}
}

// snapState is what one snapshot writes, captured under the index's locks
// so that writers can go on while the files are written.
type snapState struct {
	lsn     uint64
	dim     int
	recs    []kbstore.Record // records with vectors (in slot order) first, Vector nil
	slots   []int32          // slots of the first len(slots) records
	vecs    paged[float32]   // the vectors as captured (empty with a vector file)
	spill   map[int32][]float32
	graph   []byte // encoded graph file, nil for none
	entries int
	err     error // starting the snapshot failed (nothing else is set)
}

// maybeSnapshot starts a snapshot when the log has grown past
// SnapshotBytes and none is running. It returns the captured state for
// the caller to write with finishSnapshot after releasing walMu, or nil.
// Caller holds walMu.
func (ix *Index) maybeSnapshot() *snapState {
	if ix.log == nil || ix.log.size < ix.snapshotThreshold() || !ix.snapMu.TryLock() {
		return nil
	}
	st, err := ix.beginSnapshot()
	if err != nil {
		ix.snapMu.Unlock()
		return &snapState{err: err}
	}
	return st
}

// snapshotThreshold is the log size that starts a snapshot:
// Options.SnapshotBytes, or half the newest snapshot's size if that is
// more. A snapshot rewrites the whole state, so a fixed threshold made
// the cost of loading grow with the square of the index size; with this
// one, snapshots write at most about twice the bytes the log received,
// and a reopen replays at most about half a snapshot's worth of log.
func (ix *Index) snapshotThreshold() int64 {
	return max(ix.opts.SnapshotBytes, ix.log.snapSize.Load()/2)
}

// writeSnapshot writes a snapshot started by maybeSnapshot (st may be nil)
// and reports a failure; the data stays safe in the log either way.
func (ix *Index) writeSnapshot(st *snapState) error {
	var err error
	switch {
	case st == nil:
	case st.err != nil:
		err = st.err
	default:
		err = ix.finishSnapshot(st)
	}
	if err != nil {
		return fmt.Errorf("localindex: snapshot failed (data is safe in the log): %w", err)
	}
	return nil
}

// snapshot writes a snapshot while the caller holds walMu and snapMu
// (Close, tests): writers wait.
func (ix *Index) snapshot() error {
	st, err := ix.beginSnapshot()
	if err != nil {
		return err
	}
	return ix.writeSnapshotFiles(st)
}

// beginSnapshot captures the state after the last log record and starts a
// new log segment for the records that follow. From here until the
// snapshot is written, freed slots are not reused, so the captured slots
// keep their vectors while writers go on. Caller holds walMu and snapMu.
func (ix *Index) beginSnapshot() (*snapState, error) {
	ix.mu.RLock()
	st := &snapState{lsn: ix.log.lsn, dim: ix.dim, vecs: ix.vecs.capture(), entries: len(ix.entries)}
	st.recs = make([]kbstore.Record, 0, len(ix.entries))
	st.slots = make([]int32, 0, ix.live)
	ids := newIDSum()
	for s, e := range ix.slots {
		if e == nil {
			continue
		}
		st.recs = append(st.recs, e.rec)
		st.slots = append(st.slots, int32(s))
		ids.add(e.rec.Partition, e.rec.ID)
		if v, ok := ix.spill[int32(s)]; ok {
			if st.spill == nil {
				st.spill = map[int32][]float32{}
			}
			st.spill[int32(s)] = v // spilled vectors are never written to
		}
	}
	for _, e := range ix.entries {
		if e.slot < 0 {
			st.recs = append(st.recs, e.rec)
		}
	}
	st.graph = ix.encodeGraph(st.lsn, st.slots, ids.sum())
	ix.snapshotting.Store(true)
	ix.mu.RUnlock()
	if err := ix.log.newSegment(false); err != nil {
		ix.snapshotting.Store(false)
		return nil, err
	}
	return st, nil
}

// finishSnapshot writes the files of a snapshot begun by maybeSnapshot
// and releases snapMu. Caller holds neither walMu nor mu.
func (ix *Index) finishSnapshot(st *snapState) error {
	defer ix.snapMu.Unlock()
	return ix.writeSnapshotFiles(st)
}

// writeSnapshotFiles writes the snapshot (and graph) files of st, then
// removes files no longer needed. Caller holds snapMu.
func (ix *Index) writeSnapshotFiles(st *snapState) error {
	defer ix.snapshotting.Store(false)
	if testSnapshotHook != nil {
		testSnapshotHook()
	}
	dir := ix.opts.Dir
	final := snapName(dir, st.lsn)
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := ix.encodeSnapshot(bw, st); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	size, err := closeSnapFile(f, bw)
	// The graph file goes first: a crash before the snapshot's rename
	// leaves a graph file without a snapshot, which Open removes.
	graphSaved := ix.writeSnapGraph(st, err == nil)
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		if graphSaved {
			os.Remove(graphName(dir, st.lsn))
		}
		return err
	}
	ix.noteSnapshot(st.lsn, size)
	// Data keys only files removed above used (after RotateKey failed
	// part way, say) are no longer needed.
	ix.retireKeys()
	return nil
}

// encodeSnapshot writes the header, the records (sealed when the index
// has keys) and the trailer of st to bw.
func (ix *Index) encodeSnapshot(bw *bufio.Writer, st *snapState) error {
	var seal *envelope.Sealer
	magic := snapMagic
	if ix.keys != nil {
		var err error
		if seal, err = ix.keys.NewSealer("snap"); err != nil {
			return err
		}
		magic = snapMagicSealed
	}
	var h [snapHeaderLen]byte
	copy(h[:], magic)
	binary.LittleEndian.PutUint64(h[len(snapMagic):], st.lsn)
	binary.LittleEndian.PutUint32(h[len(snapMagic)+8:], uint32(st.dim))
	binary.LittleEndian.PutUint64(h[len(snapMagic)+12:], uint64(st.entries))
	bw.Write(h[:])
	buf := make([]float32, st.dim)
	var enc, sealed, fr []byte
	aad := snapAAD(st.lsn)
	put := func(p []byte) {
		if seal != nil {
			sealed, _ = seal.Seal(sealed[:0], p, aad)
			p = sealed
		}
		fr = framelog.Append(fr[:0], p)
		bw.Write(fr)
	}
	for i, r := range st.recs {
		if i < len(st.slots) {
			var err error
			if r.Vector, err = st.vector(ix, st.slots[i], buf); err != nil {
				return err
			}
		}
		enc = appendRecord(enc[:0], r)
		put(enc)
	}
	trailer := make([]byte, 11)
	copy(trailer, "END")
	binary.LittleEndian.PutUint64(trailer[3:], uint64(st.entries))
	put(trailer)
	return nil
}

// closeSnapFile flushes bw, syncs and closes f, and returns the file's
// size.
func closeSnapFile(f *os.File, bw *bufio.Writer) (int64, error) {
	err := bw.Flush()
	var size int64
	if err == nil {
		size, err = f.Seek(0, io.SeekCurrent)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return size, err
}

// writeSnapGraph writes st's graph file when the snapshot file was written
// (ok) and there is a graph, and reports whether it did; otherwise it
// removes any graph file under st's log position.
func (ix *Index) writeSnapGraph(st *snapState, ok bool) bool {
	graphSaved := false
	if ok && st.graph != nil {
		// Only speed is lost if this fails: Open rebuilds the graph.
		data, gerr := ix.sealGraph(st.lsn, st.graph)
		graphSaved = gerr == nil && writeFileAtomic(graphName(ix.opts.Dir, st.lsn), data, !ix.opts.NoSync) == nil
	}
	if !graphSaved {
		// A graph file left under this log position by an earlier history
		// (a position reused after a damaged segment) must not be loaded
		// with this snapshot.
		os.Remove(graphName(ix.opts.Dir, st.lsn))
	}
	return graphSaved
}

// noteSnapshot records the snapshot at lsn, of size bytes, in the log's
// statistics and removes the files it makes unneeded.
func (ix *Index) noteSnapshot(lsn uint64, size int64) {
	w := ix.log
	w.snapSize.Store(size)
	w.snapCount++
	w.snapTotal += size
	if n := len(w.snapLSN); n == 0 || w.snapLSN[n-1] != lsn {
		w.snapLSN = append(w.snapLSN, lsn)
	}
	ix.pruneSnapshots()
}

// pruneSnapshots keeps the newest two snapshots and the segments after the
// older one, so a damaged newest snapshot still leaves a way back.
func (ix *Index) pruneSnapshots() {
	w, dir := ix.log, ix.opts.Dir
	n := len(w.snapLSN)
	if n <= 2 {
		return
	}
	keep := w.snapLSN[n-2]
	for _, s := range w.snapLSN[:n-2] {
		os.Remove(snapName(dir, s))
		os.Remove(graphName(dir, s))
	}
	w.snapLSN = w.snapLSN[n-2:]
	segs, _ := listFiles(dir, "wal-", ".log")
	for i, s := range segs {
		if i+1 < len(segs) && segs[i+1] <= keep+1 {
			os.Remove(segName(dir, s)) // every record in it is <= keep
		}
	}
}

// testSnapshotHook, when set by a test, runs as a snapshot starts writing.
var testSnapshotHook func()

// vector returns the captured vector of slot s.
func (st *snapState) vector(ix *Index, s int32, buf []float32) ([]float32, error) {
	if v, ok := st.spill[s]; ok {
		return v, nil
	}
	if ix.vfile == nil {
		return st.vecs.at(int(s)), nil
	}
	return ix.readVectorFileAt(s, buf)
}

// writeFileAtomic writes data to name through a temporary file, fsync (if
// sync) and rename.
func writeFileAtomic(name string, data []byte, sync bool) error {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// Record encoding: strings as uvarint length + bytes; vector as uvarint
// length + little-endian float32s; metadata as uvarint length + JSON.

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendRecord(b []byte, r kbstore.Record) []byte {
	for _, s := range []string{r.Partition, r.ID, r.DocumentID, r.ParentID, r.Fingerprint, r.Text} {
		b = appendString(b, s)
	}
	if r.Vector == nil {
		b = binary.AppendUvarint(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(r.Vector))+1)
		for _, x := range r.Vector {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	}
	var md []byte
	if len(r.Metadata) > 0 {
		md, _ = json.Marshal(r.Metadata) // normalised values always marshal
	}
	return appendString(b, string(md))
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errors.New("truncated field")
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func decodeRecord(b []byte) (kbstore.Record, []byte, error) {
	d := &decoder{b: b}
	var r kbstore.Record
	for _, p := range []*string{&r.Partition, &r.ID, &r.DocumentID, &r.ParentID, &r.Fingerprint, &r.Text} {
		*p = string(d.bytes())
	}
	if n := d.uvarint(); n > 0 && d.err == nil {
		n--
		if n == 0 || n*4 > uint64(len(d.b)) {
			return r, nil, errors.New("bad vector length")
		}
		r.Vector = make([]float32, n)
		for i := range r.Vector {
			r.Vector[i] = math.Float32frombits(binary.LittleEndian.Uint32(d.b[4*i:]))
		}
		d.b = d.b[4*n:]
	}
	md := d.bytes()
	if d.err != nil {
		return r, nil, d.err
	}
	if len(md) > 0 {
		if err := json.Unmarshal(md, &r.Metadata); err != nil {
			return r, nil, fmt.Errorf("metadata: %v", err)
		}
	}
	if r.ID == "" || r.DocumentID == "" {
		return r, nil, errors.New("record without ID or document ID")
	}
	return r, d.b, nil
}

func encodeUpsert(recs []kbstore.Record) []byte {
	b := binary.AppendUvarint(nil, uint64(len(recs)))
	var enc []byte
	for _, r := range recs {
		enc = appendRecord(enc[:0], r)
		b = appendString(b, string(enc))
	}
	return b
}

func decodeUpsert(b []byte) ([]kbstore.Record, error) {
	d := &decoder{b: b}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(b)) {
		return nil, errors.New("bad upsert record")
	}
	recs := make([]kbstore.Record, 0, n)
	for range n {
		p := d.bytes()
		if d.err != nil {
			return nil, d.err
		}
		r, rest, err := decodeRecord(p)
		if err != nil {
			return nil, err
		}
		if len(rest) != 0 {
			return nil, errors.New("trailing bytes in record")
		}
		recs = append(recs, r)
	}
	return recs, nil
}

func encodeDelete(partition string, docs []string) []byte {
	b := appendString(nil, partition)
	b = binary.AppendUvarint(b, uint64(len(docs)))
	for _, d := range docs {
		b = appendString(b, d)
	}
	return b
}

func decodeDelete(b []byte) (string, []string, error) {
	d := &decoder{b: b}
	part := string(d.bytes())
	n := d.uvarint()
	if d.err != nil || n > uint64(len(b)) {
		return "", nil, errors.New("bad delete record")
	}
	docs := make([]string, n)
	for i := range docs {
		docs[i] = string(d.bytes())
	}
	return part, docs, d.err
}

// writeVectorFile stores slot s's float32 vector in the vector file. If
// the write fails (a full disk, say), the vector is kept in memory instead,
// so nothing is lost and searches stay exact; the log already holds it.
func (ix *Index) writeVectorFile(s int32, vec []float32) {
	b := make([]byte, 4*len(vec))
	for i, x := range vec {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	if ix.vseal != nil {
		b, _ = ix.vseal.Seal(make([]byte, 0, len(b)+envelope.Overhead), b, vecAAD(s))
	}
	if _, err := ix.vfile.WriteAt(b, int64(s)*int64(ix.vecFileStride())); err != nil {
		if ix.spill == nil {
			ix.spill = map[int32][]float32{}
		}
		ix.spill[s] = slices.Clone(vec)
		return
	}
	delete(ix.spill, s)
}

// readVectorFile reads slot s's vector into buf. A read error is returned
// (wrapped in ErrVectorFile): scoring a vector it could not read would
// silently change results, and a snapshot would persist the damage.
func (ix *Index) readVectorFile(s int32, buf []float32) ([]float32, error) {
	if v, ok := ix.spill[s]; ok {
		return v, nil
	}
	return ix.readVectorFileAt(s, buf)
}

// readVectorFileAt reads slot s's vector from the file (safe without mu:
// a slot's bytes are not rewritten while anyone may read them).
func (ix *Index) readVectorFileAt(s int32, buf []float32) ([]float32, error) {
	stride := ix.vecFileStride()
	b := make([]byte, stride)
	if _, err := ix.vfile.ReadAt(b, int64(s)*int64(stride)); err != nil {
		return nil, fmt.Errorf("localindex: slot %d: %w: %w", s, err, ErrVectorFile)
	}
	if ix.vseal != nil {
		var err error
		if b, err = ix.vseal.Open(make([]byte, 0, 4*len(buf)), b, vecAAD(s)); err != nil || len(b) != 4*len(buf) {
			return nil, fmt.Errorf("localindex: slot %d does not authenticate: %w", s, ErrVectorFile)
		}
	}
	for i := range buf {
		buf[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return buf, nil
}

// vecFileStride is the bytes a slot takes in the vector file.
func (ix *Index) vecFileStride() int {
	if ix.vseal != nil {
		return 4*ix.dim + envelope.Overhead
	}
	return 4 * ix.dim
}
