package chromem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// Log payload encoding. A payload is one op byte and its body:
//
//	opUpsert: uvarint count, then count records
//	opDelete: string partition, uvarint count, then count document IDs
//
// A record is six strings (partition, ID, document ID, parent ID,
// fingerprint, text), a vector (uvarint length, then float32 bits little
// endian; length 0 means no vector) and metadata (uvarint count, then
// key string and typed value, keys sorted). Strings are uvarint length and
// bytes. A typed value is a tag byte: 's' string, 'n' float64 bits (8 bytes
// little endian), 't' true, 'f' false, or 'l' uvarint count and that many
// scalar values. Numbers keep all 64 bits, so metadata survives a reopen
// exactly as kbstore.NormalizeMetadata left it.
const (
	opUpsert byte = 1
	opDelete byte = 2
)

var errCorrupt = errors.New("corrupt log payload")

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendScalar(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		b = append(b, 's')
		return appendString(b, x)
	case float64:
		b = append(b, 'n')
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	case bool:
		if x {
			return append(b, 't')
		}
		return append(b, 'f')
	}
	// NormalizeMetadata admits nothing else.
	panic(fmt.Sprintf("kb/chromem: unnormalised metadata value %T", v))
}

func appendRecord(b []byte, r *kbstore.Record) []byte {
	for _, s := range [...]string{r.Partition, r.ID, r.DocumentID, r.ParentID, r.Fingerprint, r.Text} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Vector)))
	for _, x := range r.Vector {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	keys := make([]string, 0, len(r.Metadata))
	for k := range r.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		if l, ok := r.Metadata[k].([]any); ok {
			b = append(b, 'l')
			b = binary.AppendUvarint(b, uint64(len(l)))
			for _, e := range l {
				b = appendScalar(b, e)
			}
			continue
		}
		b = appendScalar(b, r.Metadata[k])
	}
	return b
}

func encodeUpsert(recs []kbstore.Record) []byte {
	b := []byte{opUpsert}
	b = binary.AppendUvarint(b, uint64(len(recs)))
	for i := range recs {
		b = appendRecord(b, &recs[i])
	}
	return b
}

func encodeDelete(partition string, docs []string) []byte {
	b := []byte{opDelete}
	b = appendString(b, partition)
	b = binary.AppendUvarint(b, uint64(len(docs)))
	for _, d := range docs {
		b = appendString(b, d)
	}
	return b
}

// decoder reads a payload; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length and checks that at least min bytes per element
// remain, so a corrupt length cannot make the decoder allocate wildly.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)/max(min, 1)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) take(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.fail()
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) str() string { return string(d.take(d.count(1))) }

func (d *decoder) byte1() byte {
	p := d.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (d *decoder) scalar(tag byte) any {
	switch tag {
	case 's':
		return d.str()
	case 'n':
		p := d.take(8)
		if p == nil {
			return nil
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(p))
		if math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail()
			return nil
		}
		return f
	case 't':
		return true
	case 'f':
		return false
	}
	d.fail()
	return nil
}

func (d *decoder) record() kbstore.Record {
	var r kbstore.Record
	for _, p := range [...]*string{&r.Partition, &r.ID, &r.DocumentID, &r.ParentID, &r.Fingerprint, &r.Text} {
		*p = d.str()
	}
	if n := d.count(4); n > 0 {
		r.Vector = make([]float32, n)
		for i := range r.Vector {
			if p := d.take(4); p != nil {
				r.Vector[i] = math.Float32frombits(binary.LittleEndian.Uint32(p))
			}
		}
	}
	if n := d.count(2); n > 0 {
		r.Metadata = make(map[string]any, n)
		for range n {
			k := d.str()
			tag := d.byte1()
			if tag != 'l' {
				r.Metadata[k] = d.scalar(tag)
				continue
			}
			l := make([]any, d.count(1))
			for i := range l {
				l[i] = d.scalar(d.byte1())
			}
			r.Metadata[k] = l
		}
	}
	return r
}

// decodeUpsert decodes an opUpsert body and checks every record as
// Upsert would (dim <= 0 skips the length check), so a replayed log can
// never put into the store what Upsert would have refused.
func decodeUpsert(body []byte, dim int) ([]kbstore.Record, error) {
	d := &decoder{b: body}
	n := d.count(9)
	recs := make([]kbstore.Record, 0, n)
	for range n {
		r := d.record()
		if d.err != nil {
			return nil, d.err
		}
		v, err := kbstore.ValidateRecord(r, dim, false)
		if err != nil {
			return nil, fmt.Errorf("chromem: %v: %w", err, errCorrupt)
		}
		recs = append(recs, v)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return recs, d.err
}

// decodeDelete decodes an opDelete body.
func decodeDelete(body []byte) (string, []string, error) {
	d := &decoder{b: body}
	part := d.str()
	docs := make([]string, d.count(1))
	for i := range docs {
		docs[i] = d.str()
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return part, docs, d.err
}
