package localindex

import (
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

// FuzzOpenSegment: whatever bytes a log segment holds, Open succeeds, keeps
// only records that verify, and the index works afterwards.
func FuzzOpenSegment(f *testing.F) {
	seg := validSegment(f)
	f.Add(seg)
	f.Add(seg[:len(seg)-3])
	f.Add([]byte(walMagic))
	f.Add([]byte("garbage"))
	flipped := append([]byte(nil), seg...)
	flipped[len(flipped)/2] ^= 1
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "wal-0000000000000001.log"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		ix, err := Open(Options{Dir: dir, NoSync: true})
		if err != nil {
			t.Fatalf("Open refused a damaged segment: %v", err)
		}
		defer ix.Close()
		if ix.Len() > 3 {
			t.Fatalf("%d records from a 3-record log", ix.Len())
		}
		if err := ix.Upsert(bg, []kb.Record{{ID: "new", DocumentID: "n", Vector: []float32{1, 1}}}); err != nil && ix.Dimensions() == 2 {
			t.Fatalf("index unusable after recovery: %v", err)
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
