package framelog

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"iter"
)

// HeaderSize is the size of a frame header: length and checksum.
const HeaderSize = 8

// SectorSize is the unit a disk writes atomically (at least); a torn
// write leaves whole sectors unwritten.
const SectorSize = 512

var table = crc32.MakeTable(crc32.Castagnoli)

// invTop maps the top byte of a table entry back to its index (the top
// bytes of a CRC-32C table are a permutation of 0..255).
var invTop = func() (inv [256]byte) {
	for i := range 256 {
		inv[table[i]>>24] = byte(i)
	}
	return inv
}()

// Checksum returns the CRC-32C of p, the checksum a frame stores.
func Checksum(p []byte) uint32 { return crc32.Checksum(p, table) }

// Append appends the frame of payload to dst.
func Append(dst, payload []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.LittleEndian.AppendUint32(dst, Checksum(payload))
	return append(dst, payload...)
}

// Kind classifies a Piece.
type Kind int

const (
	// Record is a frame that verifies and that Accept accepted.
	Record Kind = iota
	// Damaged is a region of bytes that do not frame.
	Damaged
	// Torn is the incomplete last write at the end of the newest file.
	Torn
)

func (k Kind) String() string {
	switch k {
	case Record:
		return "record"
	case Damaged:
		return "damaged"
	case Torn:
		return "torn"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Piece is one part of a scanned file, [Off, End).
type Piece struct {
	Kind     Kind
	Off, End int64
	// Payload is a Record's payload (it aliases the scanned data).
	Payload []byte
	// Repaired marks a Record whose length field was damaged; its payload
	// verified against the stored checksum.
	Repaired bool
	// Frames is, for a Damaged region, how many frames it held: 1 when
	// the damaged frame's header announced exactly the region, 0 when the
	// region is too short to hold a frame, -1 when unknown.
	Frames int
	// Reason says what was wrong with a Damaged or Torn piece.
	Reason string
}

// ScanOptions configures Scan.
type ScanOptions struct {
	// Start is the offset of the first frame (after the file's header).
	Start int64
	// Tail marks the newest file of a log, whose end may hold a torn
	// write.
	Tail bool
	// MinPayload and MaxPayload bound the payload lengths a writer
	// produces; frames outside them are damage. MinPayload defaults to 1.
	MinPayload, MaxPayload int
	// Accept reports whether a verified payload found at off is a record
	// of this log (it decodes, its sequence number fits). resync is true
	// for a candidate found while resynchronising. Nil accepts all.
	Accept func(off int64, payload []byte, resync bool) bool
	// Plausible, if set, is a cheap check on the first bytes of a
	// candidate payload at off (at most 16, fewer if the payload is
	// shorter) found while resynchronising after damage that began at
	// from; candidates it rejects are not checksummed.
	Plausible func(from, off int64, prefix []byte) bool
	// Budget bounds the payload bytes checksummed while resynchronising
	// (0: 4 times the data plus 256 MiB). When it runs out, the rest of
	// the data is one Damaged piece of unknown content.
	Budget int64
}

// Scan splits data[o.Start:] into pieces, in order: Records, Damaged
// regions and at most one final Torn piece. The pieces cover every byte
// from o.Start to the end. Accept is called in file order, interleaved
// with the pieces yielded, so it may depend on the records yielded
// before.
func Scan(data []byte, o ScanOptions) iter.Seq[Piece] {
	if o.MinPayload < 1 {
		o.MinPayload = 1
	}
	if o.MaxPayload <= 0 || o.MaxPayload > 1<<31 {
		o.MaxPayload = 1 << 31
	}
	if o.Budget <= 0 {
		o.Budget = 4*int64(len(data)) + 256<<20
	}
	return func(yield func(Piece) bool) {
		s := &scanner{data: data, o: o, budget: o.Budget}
		s.run(yield)
	}
}

type scanner struct {
	data   []byte
	o      ScanOptions
	budget int64
}

func (s *scanner) size() int64 { return int64(len(s.data)) }

// header returns the length and checksum stored at off (ok false when
// fewer than HeaderSize bytes remain).
func (s *scanner) header(off int64) (n int64, sum uint32, ok bool) {
	if off+HeaderSize > s.size() {
		return 0, 0, false
	}
	return int64(binary.LittleEndian.Uint32(s.data[off:])), binary.LittleEndian.Uint32(s.data[off+4:]), true
}

// lengthOK reports whether n is a payload length the writer produces
// and a frame of it at off fits in the data.
func (s *scanner) lengthOK(off, n int64) bool {
	return n >= int64(s.o.MinPayload) && n <= int64(s.o.MaxPayload) && off+HeaderSize+n <= s.size()
}

func (s *scanner) accept(off int64, p []byte, resync bool) bool {
	return s.o.Accept == nil || s.o.Accept(off, p, resync)
}

// frameAt returns the payload of the frame at off if it verifies and is
// accepted.
func (s *scanner) frameAt(off int64, resync bool) ([]byte, bool) {
	n, sum, ok := s.header(off)
	if !ok || !s.lengthOK(off, n) {
		return nil, false
	}
	p := s.data[off+HeaderSize : off+HeaderSize+n]
	if Checksum(p) != sum {
		return nil, false
	}
	return p, s.accept(off, p, resync)
}

func (s *scanner) run(yield func(Piece) bool) {
	off := s.o.Start
	// resynced: the frame at off was found by resynchronising, and is
	// checked as a candidate again (Accept with resync true).
	resynced := false
	for off < s.size() {
		if p, ok := s.frameAt(off, resynced); ok {
			end := off + HeaderSize + int64(len(p))
			if !yield(Piece{Kind: Record, Off: off, End: end, Payload: p}) {
				return
			}
			off, resynced = end, false
			continue
		}
		next, exhausted := s.resync(off)
		if next < 0 {
			s.finish(off, exhausted, yield)
			return
		}
		if !yield(s.between(off, next)) {
			return
		}
		off, resynced = next, true
	}
}

// resync returns the offset of the next frame after the damage at d that
// verifies and is accepted, or -1 (exhausted reports that the budget ran
// out before the end of the data was reached).
func (s *scanner) resync(d int64) (int64, bool) {
	// The damaged frame's own length first: damage inside a payload
	// leaves the next frame where the header says.
	if n, _, ok := s.header(d); ok && n >= int64(s.o.MinPayload) && n <= int64(s.o.MaxPayload) {
		if next := d + HeaderSize + n; next < s.size() {
			if _, ok := s.frameAt(next, true); ok {
				return next, false
			}
		}
	}
	end := s.size() - HeaderSize - int64(s.o.MinPayload)
	for p := d + 1; p <= end; p++ {
		n, sum, _ := s.header(p)
		if !s.lengthOK(p, n) {
			continue
		}
		body := s.data[p+HeaderSize : p+HeaderSize+n]
		if s.o.Plausible != nil && !s.o.Plausible(d, p, body[:min(len(body), 16)]) {
			continue
		}
		if s.budget -= n; s.budget < 0 {
			return -1, true
		}
		if Checksum(body) != sum || !s.accept(p, body, true) {
			continue
		}
		return p, false
	}
	return -1, false
}

// between describes the bytes [d, next) before a resynchronised frame:
// a record whose length field was damaged, or a damaged region.
func (s *scanner) between(d, next int64) Piece {
	if p, ok := s.repaired(d, next); ok {
		return p
	}
	pc := Piece{Kind: Damaged, Off: d, End: next, Frames: -1, Reason: s.reason(d)}
	switch n, _, _ := s.header(d); {
	case next-d < HeaderSize+int64(s.o.MinPayload):
		pc.Frames = 0
	case d+HeaderSize+n == next && !s.hidden(d, next):
		// The header's length leads to the next frame and nothing inside
		// frames: one damaged frame. (A damaged length that happens to
		// land on a later frame would skip whole frames; they would show
		// here, and the count is then unknown.)
		pc.Frames = 1
	}
	return pc
}

// hidden reports whether a verified, accepted frame lies entirely inside
// (d, end).
func (s *scanner) hidden(d, end int64) bool {
	for p := d + 1; p+HeaderSize+int64(s.o.MinPayload) <= end; p++ {
		n, sum, _ := s.header(p)
		if n < int64(s.o.MinPayload) || n > int64(s.o.MaxPayload) || p+HeaderSize+n > end {
			continue
		}
		body := s.data[p+HeaderSize : p+HeaderSize+n]
		if s.o.Plausible != nil && !s.o.Plausible(d, p, body[:min(len(body), 16)]) {
			continue
		}
		if s.budget -= n; s.budget < 0 {
			return true // unknown: assume the worst
		}
		if Checksum(body) == sum && s.accept(p, body, true) {
			return true
		}
	}
	return false
}

// repaired checks whether [d, end) is one frame whose length field alone
// was damaged: the stored checksum verifies the bytes up to end.
func (s *scanner) repaired(d, end int64) (Piece, bool) {
	n := end - d - HeaderSize
	if n < int64(s.o.MinPayload) || n > int64(s.o.MaxPayload) {
		return Piece{}, false
	}
	if stored, _, _ := s.header(d); stored == n {
		return Piece{}, false // the length is right: the payload is damaged
	}
	_, sum, _ := s.header(d)
	p := s.data[d+HeaderSize : end]
	if Checksum(p) != sum || !s.accept(d, p, true) {
		return Piece{}, false
	}
	return Piece{Kind: Record, Off: d, End: end, Payload: p, Repaired: true}, true
}

func (s *scanner) reason(d int64) string {
	n, sum, ok := s.header(d)
	switch {
	case !ok:
		return fmt.Sprintf("%d stray bytes", s.size()-d)
	case n < int64(s.o.MinPayload) || n > int64(s.o.MaxPayload):
		return fmt.Sprintf("frame length %d is impossible", n)
	case d+HeaderSize+n > s.size():
		return fmt.Sprintf("frame length %d runs past the end of the file", n)
	}
	p := s.data[d+HeaderSize : d+HeaderSize+n]
	if Checksum(p) != sum {
		return "checksum mismatch"
	}
	return "the frame verifies but does not decode"
}

// finish handles damage at d that no valid frame follows.
func (s *scanner) finish(d int64, exhausted bool, yield func(Piece) bool) {
	end := s.size()
	if !exhausted {
		if p, ok := s.repaired(d, end); ok {
			yield(p)
			return
		}
		if s.o.Tail {
			if why, torn := s.torn(d); torn {
				yield(Piece{Kind: Torn, Off: d, End: end, Reason: why})
				return
			}
		}
	}
	pc := s.between(d, end)
	if exhausted {
		pc.Frames = -1
		pc.Reason += fmt.Sprintf("; resynchronisation stopped after checksumming %d bytes", s.o.Budget)
	}
	yield(pc)
}

// torn reports whether the bytes from d to the end look like one write
// cut short by a crash.
func (s *scanner) torn(d int64) (string, bool) {
	end := s.size()
	if end-d < HeaderSize {
		return fmt.Sprintf("%d-byte partial frame header", end-d), true
	}
	n, sum, _ := s.header(d)
	if n >= int64(s.o.MinPayload) && n <= int64(s.o.MaxPayload) && d+HeaderSize+n > end {
		return fmt.Sprintf("frame of %d bytes cut after %d", n, end-d-HeaderSize), true
	}
	if allZero(s.data[d:]) {
		return fmt.Sprintf("%d zero bytes (space the last write did not fill)", end-d), true
	}
	if !s.zeroSector(d, end) {
		return "", false
	}
	if d+HeaderSize+n == end && n >= int64(s.o.MinPayload) && SingleByteError(s.data[d+HeaderSize:end], sum) {
		return "", false // one changed byte, not an unfinished write
	}
	return "frame with unwritten (zero) sectors", true
}

// zeroSector reports whether some sector-aligned part of [d, end) reads
// as zeros.
func (s *scanner) zeroSector(d, end int64) bool {
	for lo := d; lo < end; {
		hi := min(end, (lo/SectorSize+1)*SectorSize)
		if allZero(s.data[lo:hi]) {
			return true
		}
		lo = hi
	}
	return false
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// SingleByteError reports whether payload differs from the bytes whose
// CRC-32C is stored in exactly one byte, of the payload or of stored
// itself: the signature of a corrupted byte rather than an unfinished
// write. It runs in time linear in the payload.
func SingleByteError(payload []byte, stored uint32) bool {
	syn := Checksum(payload) ^ stored
	if syn == 0 {
		return false
	}
	for sh := 0; sh < 32; sh += 8 {
		if syn&^(0xff<<sh) == 0 {
			return true // one byte of the stored checksum
		}
	}
	// The syndrome of byte value v at position i of an n-byte payload is
	// Z^(n-1-i)(table[v]), Z being one zero byte through the CRC register;
	// walk Z backwards from the syndrome looking for a table entry.
	for range payload {
		idx := invTop[syn>>24]
		if table[idx] == syn {
			return idx != 0
		}
		syn = (syn^table[idx])<<8 | uint32(idx)
	}
	return false
}
