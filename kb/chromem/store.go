package chromem

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"sync"

	cg "github.com/philippgille/chromem-go"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// Options configures a Store. The zero value is an in-memory store whose
// dimensions are set by the first vector written.
type Options struct {
	// Dimensions is the vector length. Zero takes it from the first vector
	// stored (or replayed from the log).
	Dimensions int
	// RequirePartition makes every call name a partition (tenant); calls
	// without one fail with kbstore.ErrPartitionRequired.
	RequirePartition bool
	// Dir, if set, makes the store durable: every write is appended to a
	// checksummed log in Dir and fsynced before the call returns, and Open
	// replays it. Empty keeps everything in memory only.
	Dir string
	// NoSync skips the fsync after each write (the log is still written
	// and synced on Close). A crash can then lose recent acknowledged
	// writes, never corrupt older ones. For bulk loads and tests.
	NoSync bool
	// CompactBytes is the log size from which the log is rewritten with
	// only the live records, once it is also more than twice their size.
	// Zero means 64 MiB; negative never compacts automatically (Compact
	// still does).
	CompactBytes int64
	// AllowDataLoss lets Open succeed when the log is damaged and holds
	// records it cannot read. Open then keeps every record it can read (it
	// skips a damaged record and goes on with the next one that verifies),
	// copies the damaged log aside as chromem.log.corrupt, rewrites the
	// log with the records read, and lists what was lost in
	// Recovery().Damage. Without it such an Open fails with a
	// *kbstore.CorruptionError and changes nothing. A torn last write after a
	// crash, or damage that loses nothing, never needs it.
	AllowDataLoss bool
}

// Recovery reports what Open found in the log.
type Recovery struct {
	// Replayed is the number of log records (write calls) replayed.
	Replayed int
	// CutBytes is the size of the torn tail (the unfinished last write of
	// a crash) cut from the log; zero when the log ended cleanly.
	CutBytes int64
	// Torn says what the torn tail looked like when CutBytes > 0.
	Torn string
	// SetAside is the file holding the cut torn tail, kept for inspection.
	SetAside string
	// Damage lists the damaged regions of the log, with the records each
	// lost; empty after a clean open or the repair of a torn tail. Regions
	// that lose records appear here only when Options.AllowDataLoss let
	// Open proceed.
	Damage []kbstore.Damage
}

// RecordsLost returns how many log records the damage lost; exact is
// false when some region's count is unknown (n is then a lower bound).
func (r Recovery) RecordsLost() (n int, exact bool) { return kbstore.RecordsLost(r.Damage) }

// entry is one stored record.
type entry struct {
	rec  kbstore.Record // normalised copy; rec.Vector is the caller's vector
	norm []float32      // unit vector held by chromem-go; aliases rec.Vector when that is already unit length
	size int64          // encoded size, for the compaction estimate
}

// partition is one tenant: a chromem-go collection holding its records
// that have vectors, and the typed records themselves.
type partition struct {
	name    string
	coll    *cg.Collection
	entries map[string]*entry
	docs    map[string]map[string]struct{} // document ID -> record IDs
	vectors int                            // records with vectors = documents in coll
}

// Store is a kbstore.Store on chromem-go, held in memory and optionally made
// durable by a checksummed log (see the package documentation). It is
// safe for concurrent use.
type Store struct {
	opts Options

	// mu guards everything below and serialises chromem-go: searches hold
	// it shared, writes exclusively, so no chromem-go write ever runs
	// concurrently with another chromem-go call.
	mu        sync.RWMutex
	closed    bool
	dim       int
	db        *cg.DB
	parts     map[string]*partition
	seq       int
	wal       *wlog
	lock      *os.File
	liveBytes int64
	nextCheck int64
	recovery  Recovery
	plans     planCounts
}

var _ kbstore.Store = (*Store)(nil)

// errNoEmbed is what chromem-go would get if it ever tried to embed text:
// this backend always passes vectors.
var errNoEmbed = errors.New("kb/chromem: records are stored with their vectors; this store never embeds text")

func noEmbed(context.Context, string) ([]float32, error) { return nil, errNoEmbed }

// Open opens a store. With Options.Dir it creates the directory if needed,
// takes an exclusive lock on it and replays the log. The unfinished last
// write a crash can leave is cut (see Recovery). If the log is damaged and
// holds records that cannot be read, Open fails with a *kbstore.CorruptionError
// (matching kbstore.ErrCorrupt) naming them, unless Options.AllowDataLoss.
func Open(opts Options) (*Store, error) {
	if opts.Dimensions < 0 {
		return nil, fmt.Errorf("kb/chromem: Dimensions %d is negative: %w", opts.Dimensions, bedrockkit.ErrInvalidInput)
	}
	if opts.CompactBytes == 0 {
		opts.CompactBytes = 64 << 20
	}
	s := &Store{opts: opts, dim: opts.Dimensions, db: cg.NewDB(), parts: map[string]*partition{}}
	if opts.Dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("kb/chromem: create %s: %w", opts.Dir, err)
	}
	lock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	s.lock = lock
	r, err := replayLog(opts.Dir, decodeOp, s.replay, &s.recovery)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("kb/chromem: %w", err)
	}
	fail := func(err error) (*Store, error) {
		r.f.Close()
		lock.Close()
		return nil, err
	}
	if lossy(r.damage) && !opts.AllowDataLoss {
		return fail(&kbstore.CorruptionError{Store: "kb/chromem", Dir: opts.Dir, Damage: r.damage, SetAsideAs: logName + ".corrupt"})
	}
	if len(r.damage) == 0 {
		if s.wal, err = r.keep(opts.Dir, !opts.NoSync, &s.recovery); err != nil {
			return fail(fmt.Errorf("kb/chromem: %w", err))
		}
	} else {
		// Keep the damaged log, then rewrite it with what was read, so
		// the next Open is clean.
		aside, err := copyAside(opts.Dir, logName)
		if err != nil {
			return fail(fmt.Errorf("kb/chromem: keep a copy of the damaged log before rewriting it (free space and retry): %w", err))
		}
		for i := range r.damage {
			r.damage[i].SetAside = aside
		}
		s.recovery.Damage = r.damage
		if t := r.torn; t != nil { // dropped by the rewrite; the copy keeps it
			s.recovery.CutBytes, s.recovery.Torn = r.size-t.Off, t.Reason
		}
		s.wal = &wlog{dir: opts.Dir, f: r.f, size: r.size, sync: !opts.NoSync}
		if err := s.compact(); err != nil {
			return fail(fmt.Errorf("kb/chromem: rewrite the damaged log: %w", err))
		}
	}
	s.nextCheck = max(opts.CompactBytes, 2*s.liveBytes)
	return s, nil
}

// logOp is one decoded log payload.
type logOp struct {
	op   byte
	recs []kbstore.Record
	part string
	docs []string
}

// decodeOp decodes a verified log payload.
func decodeOp(p []byte) (logOp, error) {
	o := logOp{op: p[0]}
	var err error
	switch p[0] {
	case opUpsert:
		o.recs, err = decodeUpsert(p[1:], 0)
	case opDelete:
		o.part, o.docs, err = decodeDelete(p[1:])
	default:
		err = fmt.Errorf("chromem: unknown operation %d: %w", p[0], errCorrupt)
	}
	return o, err
}

// replay applies one decoded log payload.
func (s *Store) replay(o logOp) error {
	switch o.op {
	case opUpsert:
		recs := o.recs
		dim := s.dim
		for _, r := range recs {
			if r.Vector == nil {
				continue
			}
			if dim == 0 {
				dim = len(r.Vector)
			} else if len(r.Vector) != dim {
				if s.opts.Dimensions > 0 {
					return fmt.Errorf("it holds %d-dimensional vectors but Options.Dimensions is %d; open with the log's dimensions: %w",
						len(r.Vector), s.opts.Dimensions, bedrockkit.ErrInvalidInput)
				}
				return fmt.Errorf("chromem: vectors of %d and %d dimensions: %w", dim, len(r.Vector), errCorrupt)
			}
		}
		s.dim = dim
		return s.applyUpsert(recs)
	case opDelete:
		s.applyDelete(o.part, o.docs)
		return nil
	}
	return fmt.Errorf("chromem: unknown operation %d: %w", o.op, errCorrupt)
}

// Recovery reports what Open found in the log.
func (s *Store) Recovery() Recovery {
	r := s.recovery
	r.Damage = append([]kbstore.Damage(nil), r.Damage...)
	return r
}

// Len returns the number of records (with or without vectors) across all
// partitions, not counting the record in which a knowledge base keeps its
// configuration (kbstore.ConfigRecordID).
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, p := range s.parts {
		n += len(p.entries) - len(p.docs[kbstore.ConfigRecordID])
	}
	return n
}

// Dimensions returns the vector length, or 0 before the first vector.
func (s *Store) Dimensions() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dim
}

func errClosed() error {
	return fmt.Errorf("kb/chromem: %w", kbstore.ErrClosed)
}

// Upsert implements kbstore.Store. The batch is validated as a whole, written to
// the log as one record (fsynced) and only then applied, so it is atomic.
func (s *Store) Upsert(ctx context.Context, records []kbstore.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	dim, closed := s.dim, s.closed
	s.mu.RUnlock()
	if closed {
		return errClosed()
	}
	recs, dim, err := s.validate(records, dim)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed()
	}
	if s.dim != 0 && dim != s.dim {
		// Another writer fixed the dimensions meanwhile: check again.
		if recs, dim, err = s.validate(records, s.dim); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.wal != nil {
		if err := s.wal.append(encodeUpsert(recs)); err != nil {
			return fmt.Errorf("kb/chromem: write log: %w", err)
		}
	}
	s.dim = dim
	if err := s.applyUpsert(recs); err != nil {
		return err
	}
	return s.maybeCompact()
}

// validate checks and copies records for a store of dim dimensions (0:
// not yet known) and returns the dimensions after the batch.
func (s *Store) validate(records []kbstore.Record, dim int) ([]kbstore.Record, int, error) {
	out := make([]kbstore.Record, len(records))
	for i, r := range records {
		v, err := kbstore.ValidateRecord(r, dim, s.opts.RequirePartition)
		if err != nil {
			return nil, 0, err
		}
		if v.Vector != nil && dim == 0 {
			dim = len(v.Vector)
		}
		out[i] = v
	}
	return out, dim, nil
}

// DeleteDocuments implements kbstore.Store.
func (s *Store) DeleteDocuments(ctx context.Context, partition string, documentIDs []string) (int, error) {
	if s.opts.RequirePartition && partition == "" {
		return 0, errPartition()
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errClosed()
	}
	p := s.parts[partition]
	if p == nil {
		return 0, nil
	}
	var docs []string
	for _, d := range documentIDs {
		if len(p.docs[d]) > 0 {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		return 0, nil
	}
	if s.wal != nil {
		if err := s.wal.append(encodeDelete(partition, docs)); err != nil {
			return 0, fmt.Errorf("kb/chromem: write log: %w", err)
		}
	}
	n := s.applyDelete(partition, docs)
	return n, s.maybeCompact()
}

// errPartition is kbstore.ErrPartitionRequired with this package's name.
func errPartition() error {
	return fmt.Errorf("kb/chromem: %w", kbstore.ErrPartitionRequired)
}

// part returns the partition, creating it (and its collection) if asked.
func (s *Store) part(name string, create bool) (*partition, error) {
	if p := s.parts[name]; p != nil || !create {
		return p, nil
	}
	s.seq++
	// Collections are named by a counter: chromem-go's own name handling
	// never sees tenant strings, and the store keeps the pointer itself
	// instead of calling DB.GetCollection.
	c, err := s.db.CreateCollection("p"+strconv.Itoa(s.seq), nil, noEmbed)
	if err != nil {
		return nil, fmt.Errorf("kb/chromem: create collection: %w", err)
	}
	p := &partition{name: "p" + strconv.Itoa(s.seq), coll: c, entries: map[string]*entry{}, docs: map[string]map[string]struct{}{}}
	s.parts[name] = p
	return p, nil
}

// unit returns v scaled to unit length, or v itself when chromem-go would
// consider it normalised already (so it keeps v instead of a copy).
func unit(v []float32) []float32 {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	norm := math.Sqrt(sum)
	if math.Abs(norm-1) < 1e-6 {
		return v
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / norm)
	}
	return out
}

// chromemMetadata is what chromem-go stores for a record: each scalar
// attribute encoded with its type (see whereOf), lists left out.
func chromemMetadata(md map[string]any) map[string]string {
	var out map[string]string
	for k, v := range md {
		if e, ok := encodeScalar(v); ok {
			if out == nil {
				out = make(map[string]string, len(md))
			}
			out[k] = e
		}
	}
	return out
}

// encodeScalar gives the exact-match string for a scalar: a type letter
// and the value, so "1", 1 and true never compare equal.
func encodeScalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return "s" + x, true
	case float64:
		if x == 0 {
			x = 0 // -0 == 0 for kbstore.Filter
		}
		return "n" + strconv.FormatFloat(x, 'g', -1, 64), true
	case bool:
		if x {
			return "bt", true
		}
		return "bf", true
	}
	return "", false
}

// applyUpsert applies validated records in order (so the last of a key
// wins). Caller holds mu exclusively (or is Open).
func (s *Store) applyUpsert(recs []kbstore.Record) error {
	for i := range recs {
		r := recs[i]
		p, err := s.part(r.Partition, true)
		if err != nil {
			return err
		}
		e := &entry{rec: r, size: sizeOf(&r)}
		old := p.entries[r.ID]
		if r.Vector != nil {
			e.norm = unit(r.Vector)
			doc := cg.Document{ID: r.ID, Metadata: chromemMetadata(r.Metadata), Embedding: e.norm, Content: r.Text}
			if err := p.coll.AddDocument(context.Background(), doc); err != nil {
				return fmt.Errorf("kb/chromem: chromem-go refused record %q: %w", r.ID, err)
			}
			if old == nil || old.rec.Vector == nil {
				p.vectors++
			}
		} else if old != nil && old.rec.Vector != nil {
			if err := p.coll.Delete(context.Background(), nil, nil, r.ID); err != nil {
				return fmt.Errorf("kb/chromem: chromem-go delete %q: %w", r.ID, err)
			}
			p.vectors--
		}
		if old != nil {
			p.unindex(old)
			s.liveBytes -= old.size
		}
		p.entries[r.ID] = e
		ids := p.docs[r.DocumentID]
		if ids == nil {
			ids = map[string]struct{}{}
			p.docs[r.DocumentID] = ids
		}
		ids[r.ID] = struct{}{}
		s.liveBytes += e.size
	}
	return nil
}

// sizeOf estimates a record's encoded size in the log, without encoding it.
func sizeOf(r *kbstore.Record) int64 {
	n := 32 + len(r.Partition) + len(r.ID) + len(r.DocumentID) + len(r.ParentID) + len(r.Fingerprint) + len(r.Text) + 4*len(r.Vector)
	for k, v := range r.Metadata {
		n += 4 + len(k) + 9
		switch x := v.(type) {
		case string:
			n += len(x)
		case []any:
			n += 10 * len(x)
			for _, e := range x {
				if s, ok := e.(string); ok {
					n += len(s)
				}
			}
		}
	}
	return int64(n)
}

func (p *partition) unindex(e *entry) {
	ids := p.docs[e.rec.DocumentID]
	delete(ids, e.rec.ID)
	if len(ids) == 0 {
		delete(p.docs, e.rec.DocumentID)
	}
}

// applyDelete removes the documents' records. Caller holds mu exclusively.
func (s *Store) applyDelete(partition string, docs []string) int {
	p := s.parts[partition]
	if p == nil {
		return 0
	}
	n := 0
	var vecIDs []string
	for _, d := range docs {
		for id := range p.docs[d] {
			e := p.entries[id]
			if e.rec.Vector != nil {
				vecIDs = append(vecIDs, id)
				p.vectors--
			}
			delete(p.entries, id)
			s.liveBytes -= e.size
			n++
		}
		delete(p.docs, d)
	}
	if len(p.entries) == 0 {
		// Drop the collection with the tenant's last record.
		s.db.DeleteCollection(p.name)
		delete(s.parts, partition)
	} else if len(vecIDs) > 0 {
		// In memory chromem-go's Delete by IDs cannot fail.
		p.coll.Delete(context.Background(), nil, nil, vecIDs...)
	}
	return n
}

// maybeCompact rewrites the log when it has grown past Options.CompactBytes
// and is more than twice the live data. Caller holds mu exclusively.
func (s *Store) maybeCompact() error {
	if s.wal == nil || s.opts.CompactBytes < 0 || s.wal.size < s.nextCheck {
		return nil
	}
	if s.wal.size > 2*s.liveBytes {
		if err := s.compact(); err != nil {
			// The write itself is durable; report but keep going.
			return fmt.Errorf("kb/chromem: the write is durable, but compacting the log failed: %w", err)
		}
	}
	s.nextCheck = max(s.opts.CompactBytes, 2*s.wal.size)
	return nil
}

// Compact rewrites the log with only the live records (through a
// temporary file, fsync and rename). Writes wait while it runs. It does
// nothing for an in-memory store.
func (s *Store) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed()
	}
	if s.wal == nil {
		return nil
	}
	return s.compact()
}

func (s *Store) compact() error {
	names := make([]string, 0, len(s.parts))
	for n := range s.parts {
		names = append(names, n)
	}
	sort.Strings(names)
	return s.wal.replace(func(w *bufio.Writer) error {
		// One upsert record per partition chunk of about 4 MiB.
		var batch []kbstore.Record
		var size int64
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			_, err := w.Write(frame(encodeUpsert(batch)))
			batch, size = batch[:0], 0
			return err
		}
		for _, n := range names {
			p := s.parts[n]
			ids := make([]string, 0, len(p.entries))
			for id := range p.entries {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				e := p.entries[id]
				batch = append(batch, e.rec)
				size += e.size
				if size >= 4<<20 {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
		return flush()
	})
}

// Get implements kbstore.Store.
func (s *Store) Get(ctx context.Context, partition string, ids []string) ([]kbstore.Record, error) {
	if s.opts.RequirePartition && partition == "" {
		return nil, errPartition()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed()
	}
	p := s.parts[partition]
	var out []kbstore.Record
	if p == nil {
		return out, nil
	}
	for _, id := range ids {
		if e := p.entries[id]; e != nil {
			out = append(out, kbstore.CloneRecord(e.rec))
		}
	}
	return out, nil
}

// Documents implements kbstore.Store. It leaves out the document in which
// a knowledge base keeps its configuration (kbstore.ConfigRecordID).
func (s *Store) Documents(ctx context.Context, partition string) ([]kbstore.DocumentInfo, error) {
	if s.opts.RequirePartition && partition == "" {
		return nil, errPartition()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed()
	}
	p := s.parts[partition]
	if p == nil {
		return nil, nil
	}
	out := make([]kbstore.DocumentInfo, 0, len(p.docs))
	for d, ids := range p.docs {
		if d == kbstore.ConfigRecordID {
			continue // the knowledge base's, read with Get
		}
		info := kbstore.DocumentInfo{ID: d, Records: len(ids)}
		first := true
		for id := range ids {
			fp := p.entries[id].rec.Fingerprint
			if first {
				info.Fingerprint, first = fp, false
			} else if fp != info.Fingerprint {
				info.Fingerprint = ""
				break
			}
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Close releases the store: the log is synced and closed and the directory
// lock released. Later calls fail with kbstore.ErrClosed; Close again is a no-op.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.wal != nil {
		err = s.wal.close()
		s.wal = nil
	}
	if s.lock != nil {
		if cerr := s.lock.Close(); err == nil {
			err = cerr
		}
		s.lock = nil
	}
	s.parts, s.db = nil, nil
	return err
}
