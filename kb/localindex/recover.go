package localindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bedrockkit/bedrockkit/internal/envelope"
	"github.com/bedrockkit/bedrockkit/kb/internal/framelog"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/keyprovider"
)

// lossy reports whether ds loses (or may lose) any record.
func lossy(ds []kbstore.Damage) bool {
	n, exact := kbstore.RecordsLost(ds)
	return n > 0 || !exact
}

// minFrame is the smallest log frame: header, log position, operation.
const minFrame = 8 + 9

// recoverer carries the state of one Open's recovery.
type recoverer struct {
	ix  *Index
	dir string

	damage   []kbstore.Damage
	badSnaps []uint64 // snapshots that did not verify (set aside on success)
	salvaged bool     // the state came from a damaged snapshot
	logHurt  bool     // a log segment was damaged (a snapshot is written)

	// Replay of one segment.
	seg      string
	segStart uint64
	segLast  uint64 // last log position seen in this segment (0: none)
	lastEnd  int64  // end of the last record yielded
	last     bool
	// pending are damage entries (indexes) waiting for the next applied
	// log position to tell how many records they held.
	pending []pendingDamage
	cached  decodedOp

	// keyErr is set when a record could not be read for want of a key
	// (or, encrypted, was not encrypted): Open fails with it rather than
	// counting damage. buf holds decrypted payloads.
	keyErr error
	buf    []byte

	torn       *tornTail
	freshSeg   string // last segment to recreate (torn header)
	activeSeg  string // last segment to keep appending to
	activeFrom uint64
}

type pendingDamage struct {
	i      int
	before uint64 // last log position before the region
	frames int    // the region's own frame count (framelog)
}

type tornTail struct {
	name      string
	off, size int64
	why       string
}

type decodedOp struct {
	off  int64
	seg  string
	lsn  uint64
	op   byte
	recs []kbstore.Record
	part string
	docs []string
}

// recover loads the newest usable snapshot and replays the log after it;
// see the package documentation for what happens with damaged files.
func (ix *Index) recover() error {
	dir := ix.opts.Dir
	snaps, err := listFiles(dir, "snap-", ".snap")
	if err != nil {
		return fmt.Errorf("localindex: read %s: %w", dir, err)
	}
	segs, err := listFiles(dir, "wal-", ".log")
	if err != nil {
		return fmt.Errorf("localindex: read %s: %w", dir, err)
	}
	ix.removeLeftovers(snaps)
	w := &wal{dir: dir, keys: ix.keys}
	ix.log = w
	rc := &recoverer{ix: ix, dir: dir}
	loaded, err := rc.loadBase(snaps, segs)
	if err != nil {
		return err
	}
	ix.recov.SnapshotLSN = loaded
	w.lsn = loaded
	if fi, err := os.Stat(snapName(dir, loaded)); loaded > 0 && err == nil {
		w.snapSize.Store(fi.Size())
	}
	for _, s := range snaps {
		if s <= loaded && !slices.Contains(rc.badSnaps, s) {
			w.snapLSN = append(w.snapLSN, s)
		}
	}
	for i, start := range segs {
		if i+1 < len(segs) && segs[i+1] <= loaded+1 {
			continue // entirely covered by the snapshot
		}
		if err := rc.replaySegment(start, i == len(segs)-1); err != nil {
			return err
		}
	}
	rc.settlePending()
	if rc.keyErr != nil {
		return rc.keyErr
	}
	if lossy(rc.damage) && !ix.opts.AllowDataLoss {
		return &kbstore.CorruptionError{Store: "localindex", Dir: dir, Damage: rc.damage, SetAsideAs: "*.corrupt"}
	}
	return rc.repair()
}

// loadBase loads the state the log replay starts from and returns its log
// position: the newest snapshot that verifies; else, if the log since the
// first write is still there, nothing; else the damaged snapshot that
// loses the fewest records, salvaged frame by frame.
func (rc *recoverer) loadBase(snaps, segs []uint64) (uint64, error) {
	ix := rc.ix
	var bad []uint64
	why := map[uint64]error{}
	for i := len(snaps) - 1; i >= 0; i-- {
		err := ix.loadSnapshot(snapName(rc.dir, snaps[i]), snaps[i])
		if err == nil {
			rc.noteBadSnaps(bad, why, fmt.Sprintf("the older snapshot %d and the log hold its records", snaps[i]))
			return snaps[i], nil
		}
		var ce *configError
		if errors.As(err, &ce) {
			return 0, ce.err
		}
		bad = append(bad, snaps[i])
		why[snaps[i]] = err
		ix.resetState()
	}
	if len(bad) == 0 {
		return 0, nil
	}
	if len(segs) > 0 && segs[0] == 1 {
		rc.noteBadSnaps(bad, why, "the log since the first write holds its records")
		return 0, nil
	}
	// Salvage: count what each damaged snapshot still holds, load the best.
	best, bestLost := -1, 0
	for i, s := range bad {
		_, ds, err := ix.salvageSnapshot(s, false)
		if err != nil {
			return 0, err
		}
		n, exact := kbstore.RecordsLost(ds)
		if !exact {
			n = 1 << 62
		}
		if best < 0 || n < bestLost {
			best, bestLost = i, n
		}
	}
	s := bad[best]
	ix.resetState()
	n, ds, err := ix.salvageSnapshot(s, true)
	if err != nil {
		return 0, err
	}
	rc.salvaged = true
	rc.badSnaps = bad
	for _, o := range bad {
		if o != s {
			rc.damage = append(rc.damage, kbstore.Damage{File: filepath.Base(snapName(rc.dir, o)), Records: 0,
				Reason: fmt.Sprintf("snapshot does not verify (%v); snapshot %d was salvaged instead", why[o], s)})
		}
	}
	rc.damage = append(rc.damage, ds...)
	ix.recov.Problems = append(ix.recov.Problems, fmt.Sprintf("no snapshot verifies; %d records salvaged from %s", n, filepath.Base(snapName(rc.dir, s))))
	return s, nil
}

func (rc *recoverer) noteBadSnaps(bad []uint64, why map[uint64]error, rebuilt string) {
	rc.badSnaps = bad
	for _, s := range bad {
		name := filepath.Base(snapName(rc.dir, s))
		rc.damage = append(rc.damage, kbstore.Damage{File: name, Records: 0, Reason: fmt.Sprintf("snapshot does not verify (%v); nothing lost: %s", why[s], rebuilt)})
		rc.ix.recov.Problems = append(rc.ix.recov.Problems, fmt.Sprintf("snapshot %s skipped: %v", name, why[s]))
	}
}

// salvageSnapshot reads every record of snapshot lsn that still verifies
// and, if apply, loads them. It returns how many it read and the damaged
// regions with the records each lost.
func (ix *Index) salvageSnapshot(lsn uint64, apply bool) (int, []kbstore.Damage, error) {
	name := snapName(ix.opts.Dir, lsn)
	base := filepath.Base(name)
	data, err := os.ReadFile(name)
	if err != nil {
		return 0, []kbstore.Damage{{File: base, Records: -1, Reason: err.Error()}}, nil
	}
	magic := ""
	if len(data) >= len(snapMagic) {
		magic = string(data[:len(snapMagic)])
	}
	if magic == snapMagicSealed && ix.keys == nil {
		return 0, nil, ix.errNoKey(base)
	}
	hdrDim, counts, ds := salvageHeader(data, magic, lsn, base)
	s := &snapSalvage{ix: ix, lsn: lsn, seen: map[uint64]bool{}, dims: map[int]int{}, counts: counts}
	s.scan(data)
	if s.keyErr != nil {
		return 0, nil, fmt.Errorf("localindex: %s: %w", base, s.keyErr)
	}
	dim := salvagedDim(hdrDim, s.dims)
	if ix.opts.Dimensions != 0 && dim != 0 && dim != ix.opts.Dimensions {
		return 0, nil, ix.errDimensions(dim)
	}
	kept, odd := ix.keepSalvaged(s.recs, dim, apply)
	lost, known := lostRecords(s.counts, len(s.recs))
	ds = salvageDamage(ds, base, len(data), s.regions, lost, known)
	if odd > 0 {
		ds = append(ds, kbstore.Damage{File: base, Records: odd, Reason: fmt.Sprintf("%d records have vectors of another length than the %d the others have", odd, dim)})
	}
	return kept, ds, nil
}

// snapHeaderLen is the length of a snapshot's header: the magic, u64 lsn,
// u32 dims, u64 count.
const snapHeaderLen = len(snapMagic) + 20

// salvageHeader reads the vector length and record count a snapshot's
// header states, or notes the header's damage.
func salvageHeader(data []byte, magic string, lsn uint64, base string) (dim int, counts []uint64, ds []kbstore.Damage) {
	if len(data) >= snapHeaderLen && (magic == snapMagic || magic == snapMagicSealed) && binary.LittleEndian.Uint64(data[len(snapMagic):]) == lsn {
		dim = int(binary.LittleEndian.Uint32(data[len(snapMagic)+8:]))
		return dim, []uint64{binary.LittleEndian.Uint64(data[len(snapMagic)+12:])}, nil
	}
	return 0, nil, []kbstore.Damage{{File: base, Bytes: int64(min(snapHeaderLen, len(data))), Records: 0, Reason: "snapshot header damaged"}}
}

// snapSalvage is what salvageSnapshot reads from a snapshot's frames: every
// frame that verifies (and, encrypted, authenticates: a frame's counter is
// its place, so a repeated one is skipped).
type snapSalvage struct {
	ix      *Index
	lsn     uint64
	buf     []byte
	seen    map[uint64]bool // counters of the encrypted frames read
	keyErr  error           // the first ErrKeyUnavailable
	recs    []kbstore.Record
	dims    map[int]int // how many records have each vector length
	regions []framelog.Piece
	counts  []uint64 // the header's count, then each trailer's
}

// plain returns frame payload p decrypted when the index has keys; false
// means the frame does not authenticate (or repeats one already read).
func (s *snapSalvage) plain(p []byte) ([]byte, bool) {
	ix := s.ix
	if ix.keys != nil {
		out, c, err := ix.keys.Open(s.buf[:0], p, snapAAD(s.lsn), "snap")
		if err == nil && !s.seen[c] {
			s.buf = out
			return out, true
		}
		if errors.Is(err, keyprovider.ErrKeyUnavailable) && s.keyErr == nil {
			s.keyErr = err
		}
		if !ix.opts.Encryption.AllowPlaintext {
			return nil, false
		}
	}
	return p, true
}

// accept tells framelog.Scan whether a frame holds a whole record or a
// trailer.
func (s *snapSalvage) accept(_ int64, p []byte, _ bool) bool {
	q, ok := s.plain(p)
	if !ok {
		return false
	}
	if isTrailer(q) {
		return true
	}
	_, rest, err := decodeRecord(q)
	return err == nil && len(rest) == 0
}

// scan reads the frames after the header, collecting records, trailer
// counts and damaged regions.
func (s *snapSalvage) scan(data []byte) {
	if len(data) <= snapHeaderLen {
		return
	}
	for pc := range framelog.Scan(data, framelog.ScanOptions{Start: int64(snapHeaderLen), MinPayload: 1, MaxPayload: maxRecord, Accept: s.accept}) {
		if pc.Kind != framelog.Record {
			s.regions = append(s.regions, pc)
			continue
		}
		p, _ := s.plain(pc.Payload)
		if s.ix.keys != nil {
			if _, _, c, _, err := envelope.Parse(pc.Payload); err == nil {
				s.seen[c] = true
			}
		}
		if isTrailer(p) {
			s.counts = append(s.counts, binary.LittleEndian.Uint64(p[3:]))
			continue
		}
		r, _, _ := decodeRecord(p)
		s.recs = append(s.recs, r)
		if r.Vector != nil {
			s.dims[len(r.Vector)]++
		}
	}
}

// salvagedDim is the index's vector length: the header's if some record
// has it, else the length most records agree on (the smallest of a tie).
func salvagedDim(hdrDim int, dims map[int]int) int {
	dim := hdrDim
	if dims[dim] == 0 {
		for d, c := range dims {
			if c > dims[dim] || (c == dims[dim] && d < dim) {
				dim = d
			}
		}
	}
	return dim
}

// keepSalvaged counts the records whose vectors have length dim (or no
// vector) and, if apply, loads them; odd counts the others.
func (ix *Index) keepSalvaged(recs []kbstore.Record, dim int, apply bool) (kept, odd int) {
	for _, r := range recs {
		if r.Vector != nil && len(r.Vector) != dim {
			odd++
			continue
		}
		kept++
		if apply {
			if ix.dim == 0 && r.Vector != nil {
				ix.dim = dim
			}
			ix.applyUpsert(r)
		}
	}
	if apply {
		ix.flushGraph()
	}
	return kept, odd
}

// lostRecords counts what was lost: the stored count (header or trailer,
// whichever agrees with what was read) minus what was read. known is false
// when no stored count is usable.
func lostRecords(counts []uint64, read int) (lost int, known bool) {
	for _, c := range counts {
		if c == uint64(read) {
			return 0, true
		}
		if c > uint64(read) && c-uint64(read) < 1<<40 && (!known || int(c-uint64(read)) > lost) {
			lost, known = int(c-uint64(read)), true
		}
	}
	return lost, known
}

// salvageDamage adds the damaged regions to ds and charges the lost records:
// with a stored count, all to the first region (or to the end of the file);
// without one, an unknown number.
func salvageDamage(ds []kbstore.Damage, base string, size int, regions []framelog.Piece, lost int, known bool) []kbstore.Damage {
	for _, pc := range regions {
		ds = append(ds, kbstore.Damage{File: base, Offset: pc.Off, Bytes: pc.End - pc.Off, Records: pc.Frames, Reason: pc.Reason})
	}
	switch {
	case known:
		// The stored count settles the total, charged to the first region.
		first := -1
		for i := range ds {
			if ds[i].Offset > 0 || ds[i].Bytes > int64(snapHeaderLen) {
				ds[i].Records = 0
				if first < 0 {
					first = i
				}
			}
		}
		if lost > 0 && first >= 0 {
			ds[first].Records = lost
		} else if lost > 0 {
			ds = append(ds, kbstore.Damage{File: base, Offset: int64(size), Records: lost, Reason: "the snapshot holds fewer records than it counts"})
		}
	case len(regions) == 0:
		ds = append(ds, kbstore.Damage{File: base, Offset: int64(size), Records: -1, Reason: "snapshot count and trailer unreadable"})
	}
	return ds
}

func isTrailer(p []byte) bool { return len(p) == 11 && string(p[:3]) == "END" }

// replaySegment applies the records of one segment that follow the
// state, and notes damage.
func (rc *recoverer) replaySegment(start uint64, last bool) error {
	ix := rc.ix
	name := segName(rc.dir, start)
	base := filepath.Base(name)
	rc.seg, rc.segStart, rc.segLast, rc.last = base, start, 0, last
	data, err := os.ReadFile(name)
	if err != nil {
		rc.logHurt = true
		rc.addPending(kbstore.Damage{File: base, Records: -1, Reason: "unreadable: " + err.Error()}, -1)
		return nil
	}
	from := int64(len(walMagic))
	switch {
	case len(data) >= len(walMagic) && string(data[:len(walMagic)]) == walMagic:
	case len(data) >= len(walMagic) && string(data[:len(walMagic)]) == walMagicSealed:
	case last && (strings.HasPrefix(walMagic, string(data)) || strings.HasPrefix(walMagicSealed, string(data))):
		// A crash while the segment was being created: it holds nothing.
		rc.freshSeg = name
		return nil
	default:
		rc.logHurt = true
		rc.damage = append(rc.damage, kbstore.Damage{File: base, Bytes: int64(min(len(data), len(walMagic))), Records: 0,
			Reason: "segment header damaged (a segment header holds no records)"})
		from = min(from, int64(len(data)))
	}
	rc.lastEnd = from
	if start > ix.log.lsn+1 {
		// The positions before this segment's first were never applied:
		// lost in damage met before, or a segment is missing.
		rc.gap(ix.log.lsn+1, start-1, 0, "log positions %d-%d are missing (a log segment was deleted)")
		ix.log.lsn = start - 1 // counted once
	}
	for pc := range framelog.Scan(data, framelog.ScanOptions{Start: from, Tail: last, MinPayload: 9, MaxPayload: maxRecord,
		Accept: rc.accept, Plausible: rc.plausible}) {
		switch pc.Kind {
		case framelog.Record:
			if err := rc.apply(pc); err != nil {
				return err
			}
		case framelog.Damaged:
			rc.logHurt = true
			rc.addPending(kbstore.Damage{File: base, Offset: pc.Off, Bytes: pc.End - pc.Off, Reason: pc.Reason}, pc.Frames)
		case framelog.Torn:
			rc.torn = &tornTail{name: name, off: pc.Off, size: int64(len(data)), why: pc.Reason}
		}
	}
	if last {
		rc.activeSeg, rc.activeFrom = name, start
	}
	return nil
}

// bound is the highest log position a record found at off, after damage
// that began at the end of the last record, can have: each lost record
// takes at least minFrame bytes.
func (rc *recoverer) bound(off int64) uint64 {
	seen := max(rc.segLast, rc.segStart-1)
	return seen + 1 + uint64(max(0, off-rc.lastEnd))/minFrame
}

// plausible checks a resynchronisation candidate's log position and
// operation before its checksum is computed.
func (rc *recoverer) plausible(_, off int64, p []byte) bool {
	if len(p) < 9 || !validOp(p[8]) {
		return false
	}
	lsn := binary.LittleEndian.Uint64(p)
	return lsn >= rc.segStart && lsn > rc.segLast && lsn <= rc.bound(off)
}

// accept decides whether a verified frame is a record of this log. In
// sequence, log positions within a segment are consecutive, starting at
// the segment's name; after damage (resync) a candidate's position must
// be after the last one seen and within what the damaged bytes can hold.
// A position at or below the state's is a record the snapshot already
// holds: accepted, and skipped when applied. The decoded operation is
// kept for apply.
func (rc *recoverer) accept(off int64, p []byte, resync bool) bool {
	if len(p) < 9 {
		return false
	}
	lsn := binary.LittleEndian.Uint64(p)
	if resync {
		if !rc.plausible(0, off, p) {
			return false
		}
	} else {
		want := rc.segStart
		if rc.segLast != 0 {
			want = rc.segLast + 1
		}
		if lsn != want {
			return false
		}
	}
	_, op, body, kerr, ok := rc.ix.openWALPayload(rc.segStart, p, rc.buf)
	if !ok {
		if kerr != nil && rc.keyErr == nil {
			rc.keyErr = kerr
		}
		return false
	}
	if p[8]&opSealed != 0 {
		rc.buf = body[:0] // keep the grown buffer
	}
	d := decodedOp{off: off, seg: rc.seg, lsn: lsn, op: op}
	var err error
	switch op {
	case opUpsert:
		d.recs, err = decodeUpsert(body)
	case opDelete:
		d.part, d.docs, err = decodeDelete(body)
	default:
		err = errors.New("unknown operation")
	}
	if err != nil {
		return false
	}
	rc.cached = d
	return true
}

// apply applies one record of the log (unless the state already holds
// its position) and settles the damage before it.
func (rc *recoverer) apply(pc framelog.Piece) error {
	ix := rc.ix
	d := rc.cached
	if d.off != pc.Off || d.seg != rc.seg {
		if !rc.accept(pc.Off, pc.Payload, true) && !rc.accept(pc.Off, pc.Payload, false) {
			return fmt.Errorf("localindex: internal error: record at %s:%d no longer decodes", rc.seg, pc.Off)
		}
		d = rc.cached
	}
	rc.segLast = d.lsn
	rc.lastEnd = pc.End
	if pc.Repaired {
		rc.logHurt = true
		rc.damage = append(rc.damage, kbstore.Damage{File: rc.seg, Offset: pc.Off, Bytes: 4, Records: 0,
			Reason: "record length field damaged; the record verified against its checksum and was kept"})
	}
	if d.lsn <= ix.log.lsn {
		return nil // the snapshot holds it
	}
	if d.lsn > ix.log.lsn+1 {
		rc.gap(ix.log.lsn+1, d.lsn-1, pc.Off, "log positions %d-%d are missing")
	} else {
		rc.gap(d.lsn, d.lsn-1, pc.Off, "") // settles pending damage: nothing lost
	}
	var err error
	switch d.op {
	case opUpsert:
		err = ix.applyRecords(d.recs)
	case opDelete:
		ix.applyDelete(d.part, d.docs)
	}
	if err != nil {
		var ce *configError
		if errors.As(err, &ce) {
			return ce.err
		}
		rc.logHurt = true
		rc.damage = append(rc.damage, kbstore.Damage{File: rc.seg, Offset: pc.Off, Bytes: pc.End - pc.Off, Records: 1,
			FirstLSN: d.lsn, LastLSN: d.lsn, Reason: err.Error()})
	} else {
		ix.recov.Replayed++
		if rc.last {
			ix.log.records++
		}
	}
	ix.log.lsn = d.lsn
	return nil
}

func (rc *recoverer) addPending(d kbstore.Damage, frames int) {
	rc.pending = append(rc.pending, pendingDamage{i: len(rc.damage), before: max(rc.segLast, rc.segStart-1), frames: frames})
	rc.damage = append(rc.damage, d)
}

// gap records that positions from..to (none if to < from) were never
// applied: the pending damage held them (the last pending region is
// charged), or, with none pending, they are missing.
func (rc *recoverer) gap(from, to uint64, off int64, missing string) {
	n := 0
	if to >= from {
		n = int(min(to-from+1, 1<<40))
	}
	if len(rc.pending) == 0 {
		if n > 0 {
			rc.damage = append(rc.damage, kbstore.Damage{File: rc.seg, Offset: off, Records: n, FirstLSN: from, LastLSN: to,
				Reason: fmt.Sprintf(missing, from, to)})
		}
		return
	}
	for _, p := range rc.pending {
		rc.damage[p.i].Records = 0
	}
	if n > 0 {
		d := &rc.damage[rc.pending[len(rc.pending)-1].i]
		d.Records, d.FirstLSN, d.LastLSN = n, from, to
	}
	rc.pending = rc.pending[:0]
}

// settlePending counts the damage no later record explains: a region of
// known frames loses those after the state's position; otherwise unknown.
func (rc *recoverer) settlePending() {
	applied := rc.ix.log.lsn
	for _, p := range rc.pending {
		d := &rc.damage[p.i]
		switch {
		case p.frames < 0:
			d.Records = -1
		case p.before+uint64(p.frames) <= applied:
			d.Records = 0 // the snapshot holds them
		default:
			d.Records = int(p.before + uint64(p.frames) - max(applied, p.before))
			d.FirstLSN, d.LastLSN = max(applied, p.before)+1, p.before+uint64(p.frames)
		}
	}
	rc.pending = nil
}

// applyRecords validates a replayed upsert against the index's
// dimensions, then applies it. Caller holds nothing (Open).
func (ix *Index) applyRecords(recs []kbstore.Record) error {
	for _, r := range recs {
		if r.Vector != nil && ix.dim != 0 && len(r.Vector) != ix.dim {
			if ix.opts.Dimensions != 0 {
				// The log holds vectors of other dimensions than asked for.
				return &configError{ix.errDimensions(len(r.Vector))}
			}
			// The log disagrees with the snapshot: the record is damage.
			return fmt.Errorf("localindex: a logged record of %s has a %d-dimension vector but the index's vectors have %d dimensions; the record is skipped: %w",
				ix.opts.Dir, len(r.Vector), ix.dim, kbstore.ErrDimensionMismatch)
		}
	}
	for _, r := range recs {
		ix.applyUpsert(r)
	}
	ix.flushGraph()
	return nil
}

// repair makes the directory consistent with what Open keeps: damaged
// files are copied (log) or moved (snapshots) aside, a torn tail is cut,
// and after any damage a snapshot makes the recovered state the new
// starting point. Then the log is opened for appending.
func (rc *recoverer) repair() error {
	ix, w := rc.ix, rc.ix.log
	asides := map[string]string{}
	for i := range rc.damage {
		d := &rc.damage[i]
		aside, ok := asides[d.File]
		if !ok {
			var err error
			if strings.HasPrefix(d.File, "snap-") {
				aside, err = moveAside(rc.dir, d.File)
			} else {
				aside, err = copyAside(rc.dir, d.File)
			}
			if err != nil {
				return fmt.Errorf("localindex: keep a copy of the damaged file %s before repairing it (free space and retry): %w", d.File, err)
			}
			asides[d.File] = aside
		}
		d.SetAside = aside
		ix.recov.Problems = append(ix.recov.Problems, d.String())
	}
	for _, s := range rc.badSnaps {
		os.Remove(graphName(rc.dir, s))
	}
	ix.recov.Damage = rc.damage
	if t := rc.torn; t != nil {
		if err := os.Truncate(t.name, t.off); err != nil {
			return fmt.Errorf("localindex: cut torn log tail of %s: %w", t.name, err)
		}
		ix.recov.TruncatedBytes += t.size - t.off
		ix.recov.Problems = append(ix.recov.Problems, fmt.Sprintf("log %s: torn tail after a crash (%s); cut %d bytes at offset %d",
			filepath.Base(t.name), t.why, t.size-t.off, t.off))
	}
	if rc.freshSeg != "" {
		os.Remove(rc.freshSeg) // holds a partial header and nothing else
		rc.activeSeg = ""
	}
	if rc.logHurt || rc.salvaged {
		// Start afresh from the recovered state: the damaged segments are
		// then covered by the snapshot and never replayed again.
		if err := ix.snapshot(); err != nil {
			ix.recov.Problems = append(ix.recov.Problems, fmt.Sprintf("snapshot after recovery failed (%v); the damage will be met again on the next Open", err))
			if w.f == nil {
				if err := w.newSegment(false); err != nil {
					return fmt.Errorf("localindex: create log: %w", err)
				}
			}
		}
		w.records = 0
		return nil
	}
	if rc.activeSeg == "" {
		if err := w.newSegment(false); err != nil {
			return fmt.Errorf("localindex: create log: %w", err)
		}
		return nil
	}
	f, err := os.OpenFile(rc.activeSeg, os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("localindex: open log: %w", err)
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("localindex: open log: %w", err)
	}
	w.f, w.start, w.size, w.good = f, rc.activeFrom, size, size
	return nil
}

// copyAside copies name to a new name.corrupt file in dir (fsynced).
func copyAside(dir, name string) (string, error) {
	src, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	defer src.Close()
	aside, f, err := createAside(dir, name)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, src)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(filepath.Join(dir, aside))
		return "", err
	}
	return aside, nil
}

// moveAside renames name to a new name.corrupt file in dir.
func moveAside(dir, name string) (string, error) {
	aside, f, err := createAside(dir, name)
	if err != nil {
		return "", err
	}
	f.Close()
	if err := os.Rename(filepath.Join(dir, name), filepath.Join(dir, aside)); err != nil {
		os.Remove(filepath.Join(dir, aside))
		return "", err
	}
	return aside, syncDir(dir)
}

// createAside creates name.corrupt, or name.N.corrupt if taken.
func createAside(dir, name string) (string, *os.File, error) {
	for n := 1; ; n++ {
		aside := name + ".corrupt"
		if n > 1 {
			aside = fmt.Sprintf("%s.%d.corrupt", name, n)
		}
		f, err := os.OpenFile(filepath.Join(dir, aside), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) && n < 1000 {
			continue
		}
		return aside, f, err
	}
}
