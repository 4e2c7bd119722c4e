package localindex

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb"
)

// validSegment returns the bytes of a log segment holding a few records.
func validSegment(t testing.TB) []byte {
	dir := t.TempDir()
	ix, err := Open(Options{Dir: dir, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ix.Upsert(bg, []kb.Record{{ID: "a", DocumentID: "d", Text: "x", Vector: []float32{1, 2}, Metadata: map[string]any{"k": []any{"v", 1.0}}}})
	ix.Upsert(bg, []kb.Record{{ID: "b", DocumentID: "e", Vector: []float32{2, 1}}, {ID: "p", DocumentID: "e"}})
	ix.DeleteDocuments(bg, "", []string{"d"})
	ix.close(false)
	b, err := os.ReadFile(lastSegment(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzOpenSegment: whatever bytes a log segment holds, Open either
// recovers or refuses with a *CorruptionError; with AllowDataLoss it
// opens, keeps only records that verify, the index works afterwards, and
// the next Open is clean.
func FuzzOpenSegment(f *testing.F) {
	seg := validSegment(f)
	f.Add(seg)
	f.Add(seg[:len(seg)-3])
	f.Add([]byte(walMagic))
	f.Add([]byte("garbage"))
	flipped := append([]byte(nil), seg...)
	flipped[len(flipped)/2] ^= 1
	f.Add(flipped)
	header := append([]byte(nil), seg...)
	header[2] ^= 0x40
	f.Add(header)
	f.Add(append(append([]byte(nil), seg...), seg[8:]...)) // records repeated
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "wal-0000000000000001.log"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		ix, err := Open(Options{Dir: dir, NoSync: true})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open failed with %v, want nil or ErrCorrupt", err)
			}
			if ix, err = Open(Options{Dir: dir, NoSync: true, AllowDataLoss: true}); err != nil {
				t.Fatalf("Open with AllowDataLoss: %v", err)
			}
		}
		if ix.Len() > 3 {
			t.Fatalf("%d records from a 3-record log", ix.Len())
		}
		if err := ix.Upsert(bg, []kb.Record{{ID: "new", DocumentID: "n", Vector: []float32{1, 1}}}); err != nil && ix.Dimensions() == 2 {
			t.Fatalf("index unusable after recovery: %v", err)
		}
		n := ix.Len()
		ix.close(false)
		ix, err = Open(Options{Dir: dir, NoSync: true})
		if err != nil {
			t.Fatalf("reopen after recovery: %v", err)
		}
		defer ix.Close()
		if ix.Len() != n || len(ix.Recovery().Damage) != 0 {
			t.Fatalf("reopen: %d records (was %d), %+v", ix.Len(), n, ix.Recovery())
		}
	})
}

func FuzzDecodeUpsert(f *testing.F) {
	f.Add(encodeUpsert([]kb.Record{{ID: "a", DocumentID: "d", Vector: []float32{1}, Metadata: map[string]any{"x": "y"}}}))
	f.Add(encodeDelete("p", []string{"a", "b"}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := decodeUpsert(b)
		if err != nil {
			return
		}
		again, err := decodeUpsert(encodeUpsert(recs))
		if err != nil || len(again) != len(recs) {
			t.Fatalf("re-encoding %d records failed: %v", len(recs), err)
		}
		decodeDelete(b)
	})
}
