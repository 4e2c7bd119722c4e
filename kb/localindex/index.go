package localindex

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/internal/envelope"
	"github.com/bedrockkit/bedrockkit/internal/simd"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// Quantization selects how vectors are held for scanning.
type Quantization int

const (
	// Auto, the zero value, keeps the float32 vectors in memory and, beside
	// them, int8 codes that screen the scan: the codes are scanned first and
	// only vectors whose error bound could place them in the top K are
	// scored in float32 (see Int8). Results are exactly Float32's; scans
	// read about a quarter of the bytes (2.5-3x faster at 100k x 384 here)
	// for dim+8 more bytes per vector (+25% at 384 dimensions). With HNSW
	// the graph walk scores with the codes too and rescores its candidates
	// in float32, so returned scores are exact.
	Auto Quantization = iota
	// Float32 scans the full float32 vectors: exact results, least memory
	// of the in-memory modes.
	Float32
	// Int8 scans one signed byte per dimension (per-vector scale), rescores
	// the best K*RescoreFactor candidates with the float32 vectors, then
	// rescores every other vector whose error bound (the norm of its
	// quantisation residual) could still place it in the top K. Results
	// are therefore the same as Float32's, while the scan reads a quarter
	// of the bytes. With a Dir (and no HNSW) the float32 vectors live only
	// on disk, so memory per vector is about a quarter of Float32's.
	Int8
)

// HNSWOptions configures the optional HNSW graph.
type HNSWOptions struct {
	// M is the number of links per node on upper layers (layer 0 has 2*M).
	// Default 16.
	M int
	// EfConstruction is the candidate list size while inserting. Default 128.
	EfConstruction int
	// EfSearch is the candidate list size while searching (at least K).
	// Default 96.
	EfSearch int
	// MinRecords is the collection size below which searches stay exact and
	// no graph is kept. Default 10,000.
	MinRecords int
	// Seed makes level assignment reproducible. Default 1.
	Seed uint64
}

// Options configures an Index. The zero value is an in-memory, exact,
// single-tenant index whose dimensions are set by the first vector.
type Options struct {
	// Dir holds the write-ahead log and snapshots. Empty means in memory
	// only: nothing survives Close.
	Dir string
	// Dimensions fixes the vector length. 0 takes it from the first vector
	// written (and from the data on reopen).
	Dimensions int
	// RequirePartition makes every call name a partition (tenant); calls
	// without one fail with kbstore.ErrPartitionRequired.
	RequirePartition bool
	// Quantization selects Auto (default: exact, int8-screened float32
	// scan), Float32 or Int8 (floats on disk when there is a Dir).
	Quantization Quantization
	// RescoreFactor is, for Auto and Int8 scans, how many candidates per
	// wanted result are rescored exactly before the error bound is applied
	// (at least 64 in total). Default 10.
	RescoreFactor int
	// HNSW enables an approximate HNSW graph for large collections. Nil
	// means exact search only.
	HNSW *HNSWOptions
	// NoSync skips fsync on commit: faster bulk loads, but a machine crash
	// (not a process crash) may lose the last commits.
	NoSync bool
	// SnapshotBytes is the log size that triggers a snapshot. Default 64
	// MiB. Once snapshots are larger than twice this, the log may grow to
	// half the newest snapshot's size before the next one, so snapshots
	// never write more than about twice what the log received (a fixed
	// threshold would rewrite a large index over and over while loading).
	SnapshotBytes int64
	// Workers bounds the goroutines one search uses. Default GOMAXPROCS.
	Workers int
	// Encryption encrypts the files in Dir at rest (see
	// EncryptionOptions). Nil means they are not encrypted.
	Encryption *EncryptionOptions
	// AllowDataLoss lets Open succeed when damaged files hold records it
	// cannot read. Open then keeps every record it can read (it skips a
	// damaged log record and goes on with the next one that verifies, and
	// salvages what still verifies in a damaged snapshot), copies the
	// damaged files aside as *.corrupt, writes a fresh snapshot so the next
	// Open starts clean, and lists what was lost in Recovery().Damage.
	// Without it such an Open fails with a *kbstore.CorruptionError and changes
	// nothing. Damage that loses nothing (a damaged snapshot whose records
	// an older snapshot and the log still hold, a damaged segment header, a
	// torn last write after a crash) never needs it.
	AllowDataLoss bool
}

// Recovery reports what Open found and repaired.
type Recovery struct {
	// SnapshotLSN is the log position of the snapshot loaded (0 for none).
	SnapshotLSN uint64
	// Replayed is how many log records were applied after the snapshot.
	Replayed int
	// TruncatedBytes is how many bytes of torn or corrupt log tail were cut.
	TruncatedBytes int64
	// GraphLoaded reports that the HNSW graph was read from the file saved
	// with the snapshot instead of being rebuilt.
	GraphLoaded bool
	// Problems lists, for people, what Open found and repaired: a torn
	// tail cut, a snapshot skipped, a graph rebuilt, each damaged region.
	Problems []string
	// Damage lists the damaged regions of files in Dir (see kbstore.Damage), with
	// the records each lost; empty after a clean open or the repair of a
	// torn tail. Regions that lose records appear here only when
	// Options.AllowDataLoss let Open proceed.
	Damage []kbstore.Damage
}

// RecordsLost returns how many records the damage lost; exact is false
// when some region's count is unknown (n is then a lower bound).
func (r Recovery) RecordsLost() (n int, exact bool) { return kbstore.RecordsLost(r.Damage) }

// ErrVectorFile reports that a float32 vector could not be read back from
// the index's vector file (Int8 with a Dir keeps them only on disk). The
// search or Get that met it fails rather than scoring a vector it could
// not read; check the disk and reopen the index, which rebuilds the file
// from the snapshot and log.
var ErrVectorFile = errors.New("localindex: the on-disk vector file could not be read")

type pkey struct{ part, id string }

type entry struct {
	rec  kbstore.Record // Vector is nil: the vector lives in the slot arrays
	slot int32          // -1 for a record without a vector
}

// Index is the embedded vector store: exact (optionally int8 or HNSW)
// search over contiguous vectors, durable through a write-ahead log.
// It implements kbstore.Store and is safe for concurrent use.
type Index struct {
	opts Options

	walMu sync.Mutex // serialises writers so log order equals apply order
	// snapMu is held while a snapshot is captured and written (taken
	// after walMu, never before it); snapshotting stops slot reuse
	// meanwhile, so the captured slots keep their vectors.
	snapMu       sync.Mutex
	snapshotting atomic.Bool
	mu           sync.RWMutex // guards the state below
	// closed is set by Close.
	closed bool
	broken error // a failed log write that could not be undone

	dim      int
	entries  map[pkey]*entry
	docs     map[string]map[string]map[string]struct{} // partition -> document -> IDs
	partID   map[string]uint32
	partLive map[uint32]int // vectors per partition

	// Slot arrays: slot s holds one vector.
	slots  []*entry // owner; nil = free (or an HNSW tombstone)
	vecs   paged[float32]
	inv    []float32 // 1/|v|
	part   []uint32
	codes  paged[int8] // Int8: quantised unit vectors
	scales []float32   // Int8: per-vector scale
	resid  []float32   // Int8: |unit vector - scale*codes|, bounds the approximation error
	free   []int32
	live   int

	pending []int32 // slots not yet in the graph (see flushGraph)

	vfile *os.File            // Int8 on disk: float32 vectors by slot
	spill map[int32][]float32 // vectors whose vfile write failed
	lock  *os.File
	graph *hnsw

	keys  *envelope.Keyring // nil without Options.Encryption
	vseal *envelope.Sealer  // seals vfile's slots (key only in memory)

	log   *wal
	recov Recovery
}

var _ kbstore.Store = (*Index)(nil)

// Open opens (or creates) an index. With a Dir it loads the newest
// snapshot that verifies and replays the log after it. The unfinished last
// write a crash can leave is cut, and a damaged file whose records other
// files still hold is set aside, without an error (see Recovery). If
// damaged files hold records that cannot be read, Open fails with a
// *kbstore.CorruptionError (matching kbstore.ErrCorrupt) naming them, unless
// Options.AllowDataLoss. An encrypted Dir opened without its key fails
// with an error matching keyprovider.ErrWrongKey or
// keyprovider.ErrKeyUnavailable, having read and changed nothing. Open is
// OpenContext with context.Background().
func Open(opts Options) (*Index, error) {
	return OpenContext(context.Background(), opts)
}

// OpenContext is Open with a context for the calls to the key provider
// (Options.Encryption), the only part of opening that can wait on the
// network.
func OpenContext(ctx context.Context, opts Options) (*Index, error) {
	opts, err := withOpenDefaults(opts)
	if err != nil {
		return nil, err
	}
	ix := &Index{
		opts:     opts,
		dim:      opts.Dimensions,
		entries:  map[pkey]*entry{},
		docs:     map[string]map[string]map[string]struct{}{},
		partID:   map[string]uint32{},
		partLive: map[uint32]int{},
	}
	if e := opts.Encryption; e != nil {
		c := *e
		ix.opts.Encryption = &c
	}
	if opts.Dir == "" {
		return ix, nil
	}
	if err := ix.openDir(ctx); err != nil {
		return nil, err
	}
	return ix, nil
}

// withOpenDefaults checks opts and fills in the defaults of the settings
// left zero (HNSW's in a copy).
func withOpenDefaults(opts Options) (Options, error) {
	if opts.Dimensions < 0 {
		return opts, fmt.Errorf("localindex: Dimensions %d is negative: %w", opts.Dimensions, bedrockkit.ErrInvalidInput)
	}
	if opts.Quantization < Auto || opts.Quantization > Int8 {
		return opts, fmt.Errorf("localindex: unknown Quantization %d; use Auto, Float32 or Int8: %w", opts.Quantization, bedrockkit.ErrInvalidInput)
	}
	if opts.RescoreFactor <= 0 {
		opts.RescoreFactor = 10
	}
	if opts.SnapshotBytes <= 0 {
		opts.SnapshotBytes = 64 << 20
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if h := opts.HNSW; h != nil {
		opts.HNSW = hnswDefaults(*h)
	}
	if e := opts.Encryption; e != nil {
		if e.Keys == nil {
			return opts, fmt.Errorf("localindex: Encryption without a key provider; set Encryption.Keys: %w", bedrockkit.ErrInvalidInput)
		}
		if opts.Dir == "" {
			return opts, fmt.Errorf("localindex: Encryption needs a Dir (an in-memory index writes nothing to encrypt): %w", bedrockkit.ErrInvalidInput)
		}
	}
	return opts, nil
}

// hnswDefaults returns c with the defaults of the settings left zero.
func hnswDefaults(c HNSWOptions) *HNSWOptions {
	if c.M <= 0 {
		c.M = 16
	}
	if c.EfConstruction <= 0 {
		c.EfConstruction = 128
	}
	if c.EfSearch <= 0 {
		c.EfSearch = 96
	}
	if c.MinRecords <= 0 {
		c.MinRecords = 10000
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	return &c
}

// openDir creates and locks the index's Dir, opens its keys and the
// vector file, and recovers the records the Dir holds. On an error the
// files opened are closed.
func (ix *Index) openDir(ctx context.Context) error {
	dir := ix.opts.Dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("localindex: create %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return err
	}
	ix.lock = lock
	if err := ix.openKeys(ctx); err != nil {
		ix.closeFiles()
		return err
	}
	if ix.onDiskFloats() {
		if ix.keys != nil {
			ix.vseal = envelope.NewEphemeralSealer("vec")
		}
		f, err := os.OpenFile(filepath.Join(dir, "vectors.f32"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			ix.closeFiles()
			return fmt.Errorf("localindex: %w", err)
		}
		ix.vfile = f
	}
	if err := ix.recover(); err != nil {
		ix.closeFiles()
		return err
	}
	return nil
}

// onDiskFloats reports whether float32 vectors live in the vector file
// rather than in memory.
func (ix *Index) onDiskFloats() bool {
	return ix.opts.Dir != "" && ix.opts.Quantization == Int8 && ix.opts.HNSW == nil
}

// hasCodes reports whether slots carry int8 codes.
func (ix *Index) hasCodes() bool {
	switch ix.opts.Quantization {
	case Int8:
		return true
	case Auto:
		return true
	}
	return false
}

// minScreened is the collection size from which Auto screens the scan with
// the int8 codes; below it a plain float32 scan is as fast.
const minScreened = 4096

// Recovery reports what Open found and repaired.
func (ix *Index) Recovery() Recovery {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	r := ix.recov
	r.Problems = append([]string(nil), r.Problems...)
	r.Damage = append([]kbstore.Damage(nil), r.Damage...)
	return r
}

// Len returns the number of records (with or without vectors), not
// counting the record a knowledge base keeps its configuration in
// (kbstore.ConfigRecordID).
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := len(ix.entries)
	for _, docs := range ix.docs {
		n -= len(docs[kbstore.ConfigRecordID])
	}
	return n
}

// Dimensions returns the vector length, or 0 before the first vector.
func (ix *Index) Dimensions() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.dim
}

// BytesPerVector returns the memory the index holds per vector for
// scanning: float32 vectors (4 bytes a dimension, unless Int8 keeps them on
// disk) plus 4 bytes of norm, plus, with Auto or Int8 codes, one byte a
// dimension and 4 bytes each of scale and residual.
func (ix *Index) BytesPerVector() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := 4 // inverse norm
	if ix.hasCodes() {
		n += ix.dim + 8
	}
	if !ix.onDiskFloats() {
		n += 4 * ix.dim
	}
	return n
}

func (ix *Index) usable() error {
	if ix.closed {
		return kbstore.ErrClosed
	}
	return nil
}

// Upsert implements kbstore.Store. The batch is one log record: durable (fsync)
// before Upsert returns, and all-or-nothing after a crash. The call that
// crosses Options.SnapshotBytes also writes a snapshot before returning;
// other writers and readers go on meanwhile.
func (ix *Index) Upsert(ctx context.Context, records []kbstore.Record) error {
	st, err := ix.upsert(ctx, records)
	if err != nil {
		return err
	}
	return ix.writeSnapshot(st)
}

func (ix *Index) upsert(ctx context.Context, records []kbstore.Record) (*snapState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ix.walMu.Lock()
	defer ix.walMu.Unlock()
	ix.mu.RLock()
	err, dim := ix.usable(), ix.dim
	ix.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if ix.broken != nil {
		return nil, ix.broken
	}
	valid := make([]kbstore.Record, len(records))
	for i, r := range records {
		if dim == 0 && r.Vector != nil {
			dim = len(r.Vector)
		}
		v, err := kbstore.ValidateRecord(r, dim, ix.opts.RequirePartition)
		if err != nil {
			return nil, err
		}
		valid[i] = v
	}
	if len(valid) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ix.log != nil {
		if err := ix.log.append(opUpsert, encodeUpsert(valid), !ix.opts.NoSync); err != nil {
			return nil, ix.logFailed(err)
		}
	}
	ix.mu.Lock()
	for _, r := range valid {
		ix.applyUpsert(r)
	}
	ix.flushGraph()
	ix.mu.Unlock()
	return ix.maybeSnapshot(), nil
}

// DeleteDocuments implements kbstore.Store. Like Upsert, the call that crosses
// Options.SnapshotBytes writes a snapshot before returning.
func (ix *Index) DeleteDocuments(ctx context.Context, partition string, documentIDs []string) (int, error) {
	n, st, err := ix.deleteDocuments(ctx, partition, documentIDs)
	if err != nil {
		return 0, err
	}
	return n, ix.writeSnapshot(st)
}

func (ix *Index) deleteDocuments(ctx context.Context, partition string, documentIDs []string) (int, *snapState, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	if ix.opts.RequirePartition && partition == "" {
		return 0, nil, kbstore.ErrPartitionRequired
	}
	ix.walMu.Lock()
	defer ix.walMu.Unlock()
	ix.mu.RLock()
	err := ix.usable()
	n := 0
	if err == nil {
		for _, d := range documentIDs {
			n += len(ix.docs[partition][d])
		}
	}
	ix.mu.RUnlock()
	if err != nil || n == 0 {
		return 0, nil, err
	}
	if ix.broken != nil {
		return 0, nil, ix.broken
	}
	if ix.log != nil {
		if err := ix.log.append(opDelete, encodeDelete(partition, documentIDs), !ix.opts.NoSync); err != nil {
			return 0, nil, ix.logFailed(err)
		}
	}
	ix.mu.Lock()
	n = ix.applyDelete(partition, documentIDs)
	ix.mu.Unlock()
	return n, ix.maybeSnapshot(), nil
}

// logFailed handles a failed log append: the log is rolled back to its
// last good record, or, if that fails too, the index refuses further
// writes (reads keep working) until reopened.
func (ix *Index) logFailed(err error) error {
	if rerr := ix.log.rollback(); rerr != nil {
		ix.broken = fmt.Errorf("localindex: the write-ahead log could not be written or repaired (%v, then %v); reopen the index", err, rerr)
		return ix.broken
	}
	return fmt.Errorf("localindex: write-ahead log: %w", err)
}

// applyUpsert stores r (validated) in memory. Caller holds mu.
func (ix *Index) applyUpsert(r kbstore.Record) { ix.applyUpsertPre(r, nil) }

// applyUpsertPre is applyUpsert with r's vector already quantised (pre
// may be nil).
func (ix *Index) applyUpsertPre(r kbstore.Record, pre *vecPre) {
	k := pkey{r.Partition, r.ID}
	if old := ix.entries[k]; old != nil {
		ix.removeEntry(k, old)
	}
	vec := r.Vector
	r.Vector = nil
	e := &entry{rec: r, slot: -1}
	ix.entries[k] = e
	pd := ix.docs[r.Partition]
	if pd == nil {
		pd = map[string]map[string]struct{}{}
		ix.docs[r.Partition] = pd
	}
	ids := pd[r.DocumentID]
	if ids == nil {
		ids = map[string]struct{}{}
		pd[r.DocumentID] = ids
	}
	ids[r.ID] = struct{}{}
	if vec != nil {
		if ix.dim == 0 {
			ix.dim = len(vec)
		}
		ix.addVectorPre(e, vec, pre)
	}
}

func (ix *Index) removeEntry(k pkey, e *entry) {
	delete(ix.entries, k)
	if pd := ix.docs[k.part]; pd != nil {
		if ids := pd[e.rec.DocumentID]; ids != nil {
			delete(ids, k.id)
			if len(ids) == 0 {
				delete(pd, e.rec.DocumentID)
			}
		}
		if len(pd) == 0 {
			delete(ix.docs, k.part)
		}
	}
	if e.slot >= 0 {
		ix.freeSlot(e.slot)
	}
}

// applyDelete removes the documents' records. Caller holds mu.
func (ix *Index) applyDelete(partition string, documentIDs []string) int {
	n := 0
	for _, d := range documentIDs {
		ids := ix.docs[partition][d]
		for id := range ids {
			k := pkey{partition, id}
			if e := ix.entries[k]; e != nil {
				ix.removeEntry(k, e)
				n++
			}
		}
	}
	ix.maybeCompact()
	return n
}

func (ix *Index) partitionID(p string) uint32 {
	id, ok := ix.partID[p]
	if !ok {
		id = uint32(len(ix.partID))
		ix.partID[p] = id
	}
	return id
}

// vecPre is what addVector computes from a vector alone (its inverse
// norm and int8 codes), computed ahead, in parallel, while loading.
type vecPre struct {
	inv, scale, resid float32
	codes             []int8
}

// prepare computes vec's vecPre (codes only if the index keeps them).
func (ix *Index) prepare(vec []float32) *vecPre {
	p := &vecPre{inv: invNorm(vec)}
	if ix.hasCodes() {
		p.codes = make([]int8, len(vec))
		p.resid = quantize(vec, p.inv, p.codes, &p.scale)
	}
	return p
}

func invNorm(vec []float32) float32 {
	var sum float64
	for _, x := range vec {
		sum += float64(x) * float64(x)
	}
	return float32(1 / math.Sqrt(sum))
}

// reserve makes room for n more slots, so loading a snapshot does not
// copy the slot arrays over and over as they grow.
func (ix *Index) reserve(n int) {
	if n <= 0 || ix.dim == 0 {
		return
	}
	ix.slots = slices.Grow(ix.slots, n)
	ix.inv = slices.Grow(ix.inv, n)
	ix.part = slices.Grow(ix.part, n)
	if ix.hasCodes() {
		ix.scales = slices.Grow(ix.scales, n)
		ix.resid = slices.Grow(ix.resid, n)
	}
}

// addVector gives e a slot holding vec.
func (ix *Index) addVector(e *entry, vec []float32) { ix.addVectorPre(e, vec, nil) }

// addVectorPre is addVector with vec's vecPre computed ahead (or nil).
func (ix *Index) addVectorPre(e *entry, vec []float32, pre *vecPre) {
	dim := ix.dim
	var s int32
	if n := len(ix.free); n > 0 && ix.graph == nil && !ix.snapshotting.Load() {
		s = ix.free[n-1]
		ix.free = ix.free[:n-1]
	} else {
		s = int32(len(ix.slots))
		ix.slots = append(ix.slots, nil)
		ix.inv = append(ix.inv, 0)
		ix.part = append(ix.part, 0)
		if !ix.onDiskFloats() {
			ix.vecs.add(dim)
		}
		if ix.hasCodes() {
			ix.codes.add(dim)
			ix.scales = append(ix.scales, 0)
			ix.resid = append(ix.resid, 0)
		}
	}
	e.slot = s
	ix.slots[s] = e
	var inv float32
	if pre != nil {
		inv = pre.inv
	} else {
		inv = invNorm(vec)
	}
	ix.inv[s] = inv
	pid := ix.partitionID(e.rec.Partition)
	ix.part[s] = pid
	ix.partLive[pid]++
	ix.live++
	if ix.onDiskFloats() {
		ix.writeVectorFile(s, vec)
	} else {
		copy(ix.vecs.at(int(s)), vec)
	}
	if ix.hasCodes() {
		if pre != nil && len(pre.codes) == dim {
			copy(ix.codes.at(int(s)), pre.codes)
			ix.scales[s], ix.resid[s] = pre.scale, pre.resid
		} else {
			ix.resid[s] = quantize(vec, inv, ix.codes.at(int(s)), &ix.scales[s])
		}
	}
	if ix.graph != nil {
		ix.pending = append(ix.pending, s)
	}
}

// flushGraph adds the slots written since the last flush to the HNSW
// graph (building it once the collection reaches MinRecords). Callers
// apply a whole batch, then flush, so large batches insert in parallel.
// Caller holds mu.
func (ix *Index) flushGraph() {
	h := ix.opts.HNSW
	if h == nil {
		return
	}
	if ix.graph == nil {
		if ix.live >= h.MinRecords {
			ix.buildGraph()
		}
	} else if len(ix.pending) > 0 {
		ix.graph.insertBatch(ix.pending, ix.opts.Workers)
	}
	ix.pending = ix.pending[:0]
}

func (ix *Index) freeSlot(s int32) {
	ix.partLive[ix.part[s]]--
	ix.slots[s] = nil
	ix.live--
	delete(ix.spill, s)
	if ix.graph == nil {
		ix.inv[s] = 0
		ix.free = append(ix.free, s)
	}
}

// quantize writes the int8 codes of the unit vector u = vec*inv and its
// scale, and returns the residual norm |u - scale*codes|. For a unit query
// q, Cauchy-Schwarz gives |q.u - scale*(q.codes)| <= residual, which lets a
// search skip exact rescoring only where it provably cannot matter.
func quantize(vec []float32, inv float32, codes []int8, scale *float32) float32 {
	var m float32
	for _, x := range vec {
		if a := float32(math.Abs(float64(x * inv))); a > m {
			m = a
		}
	}
	if m == 0 {
		*scale = 0
		return 0
	}
	s := m / 127
	var r float64
	for i, x := range vec {
		c := math.Round(float64(x * inv / s))
		codes[i] = int8(c)
		d := float64(x*inv) - c*float64(s)
		r += d * d
	}
	*scale = s
	return float32(math.Sqrt(r))
}

// vector returns slot s's float32 vector (read into buf when it lives on
// disk; the error is then a failed read).
func (ix *Index) vector(s int32, buf []float32) ([]float32, error) {
	if ix.vfile == nil {
		return ix.vecs.at(int(s)), nil
	}
	return ix.readVectorFile(s, buf)
}

// Get implements kbstore.Store.
func (ix *Index) Get(ctx context.Context, partition string, ids []string) ([]kbstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ix.opts.RequirePartition && partition == "" {
		return nil, kbstore.ErrPartitionRequired
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if err := ix.usable(); err != nil {
		return nil, err
	}
	var out []kbstore.Record
	for _, id := range ids {
		if e := ix.entries[pkey{partition, id}]; e != nil {
			r, err := ix.export(e, true)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// export returns a deep copy of e's record, with its vector if asked.
func (ix *Index) export(e *entry, withVector bool) (kbstore.Record, error) {
	r := kbstore.CloneRecord(e.rec)
	if withVector && e.slot >= 0 {
		v, err := ix.vector(e.slot, make([]float32, ix.dim))
		if err != nil {
			return kbstore.Record{}, err
		}
		r.Vector = slices.Clone(v)
	}
	return r, nil
}

// Documents implements kbstore.Store. It leaves out the document a
// knowledge base keeps its configuration in (kbstore.ConfigRecordID).
func (ix *Index) Documents(ctx context.Context, partition string) ([]kbstore.DocumentInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ix.opts.RequirePartition && partition == "" {
		return nil, kbstore.ErrPartitionRequired
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if err := ix.usable(); err != nil {
		return nil, err
	}
	out := make([]kbstore.DocumentInfo, 0, len(ix.docs[partition]))
	for doc, ids := range ix.docs[partition] {
		if doc == kbstore.ConfigRecordID {
			continue
		}
		d := kbstore.DocumentInfo{ID: doc, Records: len(ids)}
		first := true
		for id := range ids {
			fp := ix.entries[pkey{partition, id}].rec.Fingerprint
			if first {
				d.Fingerprint, first = fp, false
			} else if fp != d.Fingerprint {
				d.Fingerprint = ""
				break
			}
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Search implements kbstore.Store. The filter and partition are applied while
// scanning (or walking the graph), so the result is the true top K of the
// matching records for exact search.
func (ix *Index) Search(ctx context.Context, q kbstore.Query) ([]kbstore.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if err := ix.usable(); err != nil {
		return nil, err
	}
	if err := kbstore.ValidateQuery(q, ix.dim, ix.opts.RequirePartition); err != nil {
		return nil, err
	}
	var filter *kbstore.CompiledFilter
	if !q.Filter.IsZero() {
		f, err := q.Filter.Compile() // hash sets for in/notIn: one lookup per record
		if err != nil {
			return nil, err
		}
		filter = f
	}
	pid, ok := ix.partID[q.Partition]
	if !ok || ix.partLive[pid] == 0 {
		return nil, nil
	}
	qn := make([]float32, len(q.Vector))
	var sum float64
	for _, x := range q.Vector {
		sum += float64(x) * float64(x)
	}
	qinv := float32(1 / math.Sqrt(sum))
	for i, x := range q.Vector {
		qn[i] = x * qinv
	}
	cands, err := ix.search(ctx, qn, q.K, pid, filter)
	if err != nil {
		return nil, err
	}
	hits := make([]kbstore.Hit, len(cands))
	for i, c := range cands {
		r, err := ix.export(ix.slots[c.slot], q.WithVectors)
		if err != nil {
			return nil, err
		}
		hits[i] = kbstore.Hit{Record: r, Score: float64(c.score)}
	}
	return hits, nil
}

// search picks the strategy and returns the best k slots, best first.
// Every path checks ctx as it goes (every checkEvery slots of a scan,
// every walkCheck nodes of a graph walk), so a done context ends the
// search, and releases the read lock, promptly.
func (ix *Index) search(ctx context.Context, qn []float32, k int, pid uint32, filter *kbstore.CompiledFilter) ([]cand, error) {
	// part is the cheap partition check; match evaluates the filter on a
	// record's metadata (a map lookup per operator), which the scans defer
	// until a record's score could place it among the best.
	var accept, part, match func(int32) bool
	needPart := len(ix.partLive) > 1
	if needPart {
		part = func(s int32) bool { return ix.part[s] == pid }
	}
	if filter != nil {
		match = func(s int32) bool { return filter.Match(ix.slots[s].rec.Metadata) }
		if testMatchCount != nil {
			m := match
			match = func(s int32) bool { testMatchCount.Add(1); return m(s) }
		}
	}
	switch {
	case match != nil && part != nil:
		accept = func(s int32) bool { return part(s) && match(s) }
	case match != nil:
		accept = match
	case part != nil:
		accept = part
	}
	if ix.graph != nil {
		if accept == nil {
			return ix.graph.search(ctx, qn, k, nil)
		}
		// Count the matches first: a selective filter is answered exactly
		// from the matching slots; a broad one walks the graph with the
		// filter applied inside the walk.
		var match []int32
		if filter == nil {
			if n := ix.partLive[pid]; n*10 >= ix.live && n >= ix.opts.HNSW.MinRecords {
				return ix.graph.search(ctx, qn, k, accept)
			}
		}
		for s, e := range ix.slots {
			if s%checkEvery == checkEvery-1 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if e != nil && accept(int32(s)) {
				match = append(match, int32(s))
			}
		}
		if len(match)*10 >= ix.live && len(match) >= ix.opts.HNSW.MinRecords {
			return ix.graph.search(ctx, qn, k, accept)
		}
		return ix.scanList(ctx, qn, k, match)
	}
	if ix.hasCodes() && (ix.opts.Quantization == Int8 || len(ix.slots) >= minScreened) {
		return ix.scanInt8(ctx, qn, k, part, match)
	}
	return ix.scanFloat(ctx, qn, k, part, match)
}

// testMatchCount, when set by a test, counts filter evaluations.
var testMatchCount *atomic.Int64

// Close implements kbstore.Store. With a Dir it writes a snapshot first, so the
// next Open does not replay the log. Closing twice is harmless.
func (ix *Index) Close() error {
	return ix.close(true)
}

func (ix *Index) close(snapshot bool) error {
	ix.walMu.Lock()
	defer ix.walMu.Unlock()
	ix.snapMu.Lock() // waits for a snapshot being written
	defer ix.snapMu.Unlock()
	ix.mu.Lock()
	if ix.closed {
		ix.mu.Unlock()
		return nil
	}
	ix.mu.Unlock()
	var err error
	if snapshot && ix.log != nil && ix.broken == nil && ix.log.records > 0 {
		err = ix.snapshot()
	}
	ix.mu.Lock()
	ix.closed = true
	ix.mu.Unlock()
	return errors.Join(err, ix.closeFiles())
}

func (ix *Index) closeFiles() error {
	var errs []error
	if ix.log != nil {
		errs = append(errs, ix.log.close())
	}
	if ix.vfile != nil {
		errs = append(errs, ix.vfile.Close())
		errs = append(errs, os.Remove(ix.vfile.Name()))
	}
	if ix.lock != nil {
		errs = append(errs, ix.lock.Close())
	}
	return errors.Join(errs...)
}

// maybeCompact rebuilds the slot arrays (and graph) when HNSW tombstones
// outnumber live vectors. Caller holds mu.
func (ix *Index) maybeCompact() {
	if ix.graph == nil {
		return
	}
	dead := len(ix.slots) - ix.live
	if dead < 1000 || dead < ix.live {
		return
	}
	ix.compact()
}

// compact moves live vectors to the front and rebuilds the graph. It runs
// only with a graph, whose vectors are always in memory.
func (ix *Index) compact() {
	oldSlots, oldVecs := ix.slots, ix.vecs
	ix.slots, ix.inv, ix.part, ix.scales, ix.resid, ix.free = nil, nil, nil, nil, nil, nil
	ix.vecs, ix.codes = paged[float32]{}, paged[int8]{}
	ix.live = 0
	ix.partLive = map[uint32]int{}
	ix.graph = nil
	ix.pending = nil
	for s, e := range oldSlots {
		if e != nil {
			ix.addVector(e, oldVecs.at(s))
		}
	}
	ix.flushGraph()
}

func (ix *Index) buildGraph() {
	h := ix.opts.HNSW
	ix.graph = newHNSW(ix, h.M, h.EfConstruction, h.EfSearch, h.Seed)
	var all []int32
	for s, e := range ix.slots {
		if e != nil {
			all = append(all, int32(s))
		}
	}
	ix.graph.insertBatch(all, ix.opts.Workers)
}

// simdDot is the kernel used everywhere (tests may compare it with scalar code).
var simdDot = simd.Dot

// SetEfSearch changes HNSWOptions.EfSearch of an open index: searches
// that start after it returns walk the graph with the new candidate list
// size (larger: better recall, slower), with no reopen. It does nothing
// without HNSW; ef below 1 restores the default, 96.
func (ix *Index) SetEfSearch(ef int) {
	if ef < 1 {
		ef = 96
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.opts.HNSW == nil {
		return
	}
	ix.opts.HNSW.EfSearch = ef
	if ix.graph != nil {
		ix.graph.efS = ef
	}
}
