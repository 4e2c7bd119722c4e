package framelog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testLog returns a log of n frames after a 4-byte header; payload i is
// "rec" + i, padded to a length that varies with i.
func testLog(n int) (data []byte, payloads [][]byte) {
	data = []byte("HDR\n")
	for i := range n {
		p := fmt.Appendf(nil, "rec%03d:", i)
		p = append(p, bytes.Repeat([]byte{byte('a' + i%26)}, 20+(i*7)%40)...)
		payloads = append(payloads, p)
		data = Append(data, p)
	}
	return data, payloads
}

func opts(tail bool) ScanOptions {
	return ScanOptions{Start: 4, Tail: tail, MinPayload: 7, MaxPayload: 1 << 20,
		Accept: func(_ int64, p []byte, _ bool) bool { return bytes.HasPrefix(p, []byte("rec")) }}
}

func collect(data []byte, o ScanOptions) []Piece {
	var out []Piece
	for p := range Scan(data, o) {
		out = append(out, p)
	}
	return out
}

// checkCover: the pieces cover [Start, len) in order, records verify, at
// most one Torn piece and only last.
func checkCover(t *testing.T, data []byte, o ScanOptions, ps []Piece) {
	t.Helper()
	off := o.Start
	for i, p := range ps {
		if p.Off != off || p.End <= p.Off || p.End > int64(len(data)) {
			t.Fatalf("piece %d %+v does not continue at %d (len %d)", i, p, off, len(data))
		}
		switch p.Kind {
		case Record:
			if !p.Repaired && int64(len(p.Payload))+HeaderSize != p.End-p.Off {
				t.Fatalf("record %d: payload %d bytes in a %d-byte frame", i, len(p.Payload), p.End-p.Off)
			}
			if !p.Repaired && Checksum(p.Payload) != binary.LittleEndian.Uint32(data[p.Off+4:]) {
				t.Fatalf("record %d does not verify", i)
			}
		case Torn:
			if i != len(ps)-1 || !o.Tail {
				t.Fatalf("torn piece %d of %d (tail %v)", i, len(ps), o.Tail)
			}
		}
		off = p.End
	}
	if off < int64(len(data)) && int64(len(data)) > o.Start {
		t.Fatalf("pieces end at %d, data at %d", off, len(data))
	}
}

func records(ps []Piece) [][]byte {
	var out [][]byte
	for _, p := range ps {
		if p.Kind == Record {
			out = append(out, p.Payload)
		}
	}
	return out
}

func TestScanClean(t *testing.T) {
	data, want := testLog(20)
	for _, tail := range []bool{false, true} {
		ps := collect(data, opts(tail))
		checkCover(t, data, opts(tail), ps)
		if got := records(ps); len(got) != 20 || len(ps) != 20 {
			t.Fatalf("%d records in %d pieces, want 20", len(got), len(ps))
		}
		for i, p := range records(ps) {
			if !bytes.Equal(p, want[i]) {
				t.Fatalf("record %d = %q", i, p)
			}
		}
	}
}

// TestScanEveryByteFlip: one changed byte anywhere never looks like a
// torn write, never yields a record that was not written, and loses at
// most the frame it hit (counted), whatever the byte and position.
func TestScanEveryByteFlip(t *testing.T) {
	data, want := testLog(12)
	for pos := 4; pos < len(data); pos++ {
		for _, mask := range []byte{0x01, 0x80, 0xff, 0x5a} {
			b := bytes.Clone(data)
			b[pos] ^= mask
			o := opts(true)
			ps := collect(b, o)
			checkCover(t, b, o, ps)
			got := records(ps)
			damaged := 0
			for _, p := range ps {
				switch p.Kind {
				case Torn:
					t.Fatalf("pos %d mask %#x: a changed byte was taken for a torn write: %+v", pos, mask, p)
				case Damaged:
					damaged++
					if p.Frames == 0 {
						t.Fatalf("pos %d mask %#x: damaged region said to hold no frame: %+v", pos, mask, p)
					}
				}
			}
			// Every returned record is one that was written, in order.
			j := 0
			for _, g := range got {
				for j < len(want) && !bytes.Equal(want[j], g) {
					j++
				}
				if j == len(want) {
					t.Fatalf("pos %d mask %#x: record %q was never written (or out of order)", pos, mask, g)
				}
				j++
			}
			lost := len(want) - len(got)
			if lost > 1 || damaged > 1 || (lost == 1) != (damaged == 1) {
				t.Fatalf("pos %d mask %#x: %d records lost, %d damaged regions: %+v", pos, mask, lost, damaged, ps)
			}
		}
	}
}

func TestScanTornTail(t *testing.T) {
	data, _ := testLog(10)
	ps := collect(data, opts(true))
	lastStart := ps[len(ps)-1].Off
	for cut := lastStart + 1; cut < int64(len(data)); cut++ {
		b := data[:cut]
		ps := collect(b, opts(true))
		checkCover(t, b, opts(true), ps)
		if n := len(records(ps)); n != 9 || ps[len(ps)-1].Kind != Torn {
			t.Fatalf("cut at %d: %d records, last piece %+v", cut, n, ps[len(ps)-1])
		}
		// Without Tail the same bytes are damage.
		ps = collect(b, opts(false))
		if ps[len(ps)-1].Kind != Damaged {
			t.Fatalf("cut at %d without Tail: %+v", cut, ps[len(ps)-1])
		}
	}
	// Zero-filled space after the last record (a file extended by a write
	// that never reached the disk).
	b := append(bytes.Clone(data), make([]byte, 700)...)
	ps = collect(b, opts(true))
	if n := len(records(ps)); n != 10 || ps[len(ps)-1].Kind != Torn {
		t.Fatalf("zero-extended: %d records, %+v", n, ps[len(ps)-1])
	}
}

// TestScanTornSector: a last record spanning several sectors, one of
// which reads as zeros, is a torn write; the same record with one changed
// byte is damage.
func TestScanTornSector(t *testing.T) {
	data, _ := testLog(3)
	big := append([]byte("rec999:"), bytes.Repeat([]byte("x"), 3000)...)
	start := len(data)
	data = Append(data, big)
	sector := (start/SectorSize + 2) * SectorSize
	b := bytes.Clone(data)
	clear(b[sector : sector+SectorSize])
	ps := collect(b, opts(true))
	if n := len(records(ps)); n != 3 || ps[len(ps)-1].Kind != Torn {
		t.Fatalf("zeroed sector: %d records, %+v", n, ps[len(ps)-1])
	}
	// A record whose zero sector is genuine content, with one byte changed
	// elsewhere, is damage, not a torn write.
	big2 := append([]byte("rec998:"), make([]byte, 3000)...)
	data2, _ := testLog(3)
	data2 = Append(data2, big2)
	data2[len(data2)-5] ^= 0x10
	ps = collect(data2, opts(true))
	if last := ps[len(ps)-1]; last.Kind != Damaged || last.Frames != 1 {
		t.Fatalf("changed byte in a zero-heavy record: %+v", last)
	}
}

func TestScanRepairsLength(t *testing.T) {
	data, want := testLog(8)
	ps := collect(data, opts(true))
	for _, k := range []int{2, 7} { // a middle frame and the last one
		b := bytes.Clone(data)
		binary.LittleEndian.PutUint32(b[ps[k].Off:], 0xdead)
		got := collect(b, opts(true))
		if r := records(got); len(r) != 8 || !bytes.Equal(r[k], want[k]) || !got[k].Repaired {
			t.Fatalf("frame %d with a damaged length: %+v", k, got)
		}
	}
}

func TestSingleByteError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		p := make([]byte, 1+r.IntN(2000))
		for i := range p {
			p[i] = byte(r.UintN(256))
		}
		sum := Checksum(p)
		q := bytes.Clone(p)
		q[r.IntN(len(q))] ^= byte(1 + r.UintN(255))
		if !SingleByteError(q, sum) {
			t.Fatalf("trial %d: one changed byte not recognised", trial)
		}
		if !SingleByteError(p, sum^uint32(1+r.UintN(255))<<(8*r.UintN(4))) {
			t.Fatalf("trial %d: changed checksum byte not recognised", trial)
		}
		if SingleByteError(p, sum) {
			t.Fatalf("trial %d: intact payload reported as damaged", trial)
		}
	}
	// A zeroed sector is not one changed byte.
	p := bytes.Repeat([]byte("abcdefgh"), 200)
	sum := Checksum(p)
	q := bytes.Clone(p)
	clear(q[512:1024])
	if SingleByteError(q, sum) {
		t.Fatal("a zeroed sector was taken for one changed byte")
	}
}

// TestScanBudget: data crafted so that every offset passes the cheap
// checks costs a bounded amount of checksumming, then the rest is one
// damaged region of unknown content.
func TestScanBudget(t *testing.T) {
	// Every 4-byte window reads as a length of 0x01010101 ... which is
	// larger than the data: make lengths small and valid instead.
	data := []byte("HDR\n")
	for len(data) < 1<<20 {
		data = binary.LittleEndian.AppendUint32(data, 1<<19)
	}
	o := opts(true)
	o.Budget = 1 << 24
	o.Accept = func(int64, []byte, bool) bool { return true }
	ps := collect(data, o)
	last := ps[len(ps)-1]
	if last.Kind != Damaged || last.Frames != -1 || !strings.Contains(last.Reason, "stopped") {
		t.Fatalf("budget: %+v", last)
	}
}

func FuzzScan(f *testing.F) {
	data, _ := testLog(5)
	f.Add(data, uint16(0), byte(0), true)
	f.Add(data, uint16(30), byte(0xff), true)
	f.Add(data, uint16(9), byte(0x01), false)
	f.Add(data[:len(data)-3], uint16(0), byte(0), true)
	f.Add([]byte("HDR\n\x00\x00\x00\x00\x00\x00\x00\x00"), uint16(0), byte(0), true)
	f.Fuzz(func(t *testing.T, data []byte, pos uint16, mask byte, tail bool) {
		if len(data) > 0 {
			data = bytes.Clone(data)
			data[int(pos)%len(data)] ^= mask
		}
		o := opts(tail)
		if int64(len(data)) < o.Start {
			o.Start = 0
		}
		ps := collect(data, o)
		checkCover(t, data, o, ps)
	})
}

func ExampleScan() {
	var log []byte
	for _, s := range []string{"first", "second", "third"} {
		log = Append(log, []byte(s))
	}
	log[HeaderSize+len("first")+HeaderSize+2] ^= 0xff // damage "second"
	for p := range Scan(log, ScanOptions{Tail: true}) {
		fmt.Println(p.Kind, p.Off, p.End, string(p.Payload), p.Frames)
	}
	// Output:
	// record 0 13 first 0
	// damaged 13 27  1
	// record 27 40 third 0
}
