package chromem

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// FuzzDecode: decoding arbitrary payloads never panics, and whatever
// decodes re-encodes to the same bytes.
func FuzzDecode(f *testing.F) {
	r, _ := kbstore.ValidateRecord(kbstore.Record{ID: "a", DocumentID: "d", Partition: "p", Text: "t", Vector: []float32{1, 2},
		Metadata: map[string]any{"n": 1, "s": "x", "b": true, "l": []any{"y", 2.0, false}}}, 0, false)
	f.Add(encodeUpsert([]kbstore.Record{r}))
	f.Add(encodeUpsert([]kbstore.Record{{ID: "v", DocumentID: "d"}}))
	f.Add(encodeDelete("p", []string{"d1", "d2"}))
	f.Add([]byte{opUpsert, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{opDelete})
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) == 0 {
			return
		}
		switch p[0] {
		case opUpsert:
			recs, err := decodeUpsert(p[1:], 0)
			if err != nil {
				return
			}
			again, err := decodeUpsert(encodeUpsert(recs)[1:], 0)
			if err != nil || !reflect.DeepEqual(recs, again) {
				t.Fatalf("round trip: %v\n%#v\n%#v", err, recs, again)
			}
		case opDelete:
			part, docs, err := decodeDelete(p[1:])
			if err != nil {
				return
			}
			part2, docs2, err := decodeDelete(encodeDelete(part, docs)[1:])
			if err != nil || part2 != part || !reflect.DeepEqual(docs2, docs) {
				t.Fatalf("round trip: %v: %q %q -> %q %q", err, part, docs, part2, docs2)
			}
		}
	})
}

// FuzzReplay: any bytes after a valid header either open (a torn tail
// cut) or fail with kbstore.ErrCorrupt; with AllowDataLoss they open; Open never
// panics, and a store that opened reopens clean with the same contents.
func FuzzReplay(f *testing.F) {
	r, _ := kbstore.ValidateRecord(kbstore.Record{ID: "a", DocumentID: "d", Vector: []float32{1, 2}, Metadata: map[string]any{"n": 1}}, 0, false)
	good := frame(encodeUpsert([]kbstore.Record{r}))
	f.Add(good)
	f.Add(append(append([]byte{}, good...), frame(encodeDelete("", []string{"d"}))...))
	f.Add(good[:len(good)-3])
	f.Add(append(append([]byte{}, good...), 1, 2, 3))
	f.Add(frame([]byte{9, 9}))
	flipped := append(append([]byte{}, good...), good...)
	flipped[12] ^= 0x10
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, tail []byte) {
		dir := t.TempDir()
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		w.WriteString(logMagic)
		w.Write(tail)
		w.Flush()
		if err := os.WriteFile(filepath.Join(dir, logName), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Open(Options{Dir: dir, NoSync: true})
		if err != nil {
			if !errors.Is(err, kbstore.ErrCorrupt) {
				t.Fatalf("Open = %v, want nil or kbstore.ErrCorrupt", err)
			}
			if s, err = Open(Options{Dir: dir, NoSync: true, AllowDataLoss: true}); err != nil {
				t.Fatalf("Open with AllowDataLoss: %v", err)
			}
		}
		n := s.Len()
		s.Close()
		s, err = Open(Options{Dir: dir, NoSync: true})
		if err != nil {
			t.Fatalf("reopen of a repaired log failed: %v", err)
		}
		defer s.Close()
		if rv := s.Recovery(); s.Len() != n || rv.CutBytes != 0 || len(rv.Damage) != 0 {
			t.Fatalf("reopen: %d records (was %d), Recovery %+v", s.Len(), n, rv)
		}
	})
}
