package localindex

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// validSegment returns the bytes of a log segment holding a few records.
func validSegment(t testing.TB) []byte {
	dir := t.TempDir()
	ix, err := Open(Options{Dir: dir, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ix.Upsert(bg, []kbstore.Record{{ID: "a", DocumentID: "d", Text: "x", Vector: []float32{1, 2}, Metadata: map[string]any{"k": []any{"v", 1.0}}}})
	ix.Upsert(bg, []kbstore.Record{{ID: "b", DocumentID: "e", Vector: []float32{2, 1}}, {ID: "p", DocumentID: "e"}})
	ix.DeleteDocuments(bg, "", []string{"d"})
	ix.close(false)
	b, err := os.ReadFile(lastSegment(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzOpenSegment: whatever bytes a log segment holds, Open either
// recovers or refuses with a *kbstore.CorruptionError; with AllowDataLoss it
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
			if !errors.Is(err, kbstore.ErrCorrupt) {
				t.Fatalf("Open failed with %v, want nil or kbstore.ErrCorrupt", err)
			}
			if ix, err = Open(Options{Dir: dir, NoSync: true, AllowDataLoss: true}); err != nil {
				t.Fatalf("Open with AllowDataLoss: %v", err)
			}
		}
		if ix.Len() > 3 {
			t.Fatalf("%d records from a 3-record log", ix.Len())
		}
		if err := ix.Upsert(bg, []kbstore.Record{{ID: "new", DocumentID: "n", Vector: []float32{1, 1}}}); err != nil && ix.Dimensions() == 2 {
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
	f.Add(encodeUpsert([]kbstore.Record{{ID: "a", DocumentID: "d", Vector: []float32{1}, Metadata: map[string]any{"x": "y"}}}))
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

// validSnapshot returns the bytes of a snapshot at log position 3 holding
// three records.
func validSnapshot(t testing.TB) []byte {
	dir := t.TempDir()
	ix, err := Open(Options{Dir: dir, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ix.Upsert(bg, []kbstore.Record{{ID: "a", DocumentID: "d", Text: "x", Vector: []float32{1, 2}, Metadata: map[string]any{"k": []any{"v", 1.0}}}})
	ix.Upsert(bg, []kbstore.Record{{ID: "b", DocumentID: "e", Vector: []float32{2, 1}}})
	ix.Upsert(bg, []kbstore.Record{{ID: "p", DocumentID: "e", Partition: "q"}})
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(snapName(dir, 3))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzOpenSnapshot: whatever bytes the only snapshot holds (the log
// before it gone, as after three snapshots), Open either loads it or
// refuses with a *kbstore.CorruptionError; with AllowDataLoss it opens with at
// most the records the snapshot can hold, and the next Open is clean.
func FuzzOpenSnapshot(f *testing.F) {
	snap := validSnapshot(f)
	f.Add(snap)
	f.Add(snap[:len(snap)-5])
	f.Add(snap[:len(snapMagic)+20])
	for _, pos := range []int{0, len(snapMagic) + 3, len(snapMagic) + 9, len(snapMagic) + 15, len(snapMagic) + 24, len(snapMagic) + 40, len(snap) / 2, len(snap) - 2} {
		b := append([]byte(nil), snap...)
		b[pos] ^= 0x21
		f.Add(b)
	}
	f.Add([]byte(snapMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(snapName(dir, 3), data, 0o644); err != nil {
			t.Fatal(err)
		}
		// The log after the snapshot: an empty segment, as Close leaves it.
		if err := os.WriteFile(segName(dir, 4), []byte(walMagic), 0o644); err != nil {
			t.Fatal(err)
		}
		ix, err := Open(Options{Dir: dir, NoSync: true})
		if err != nil {
			if !errors.Is(err, kbstore.ErrCorrupt) {
				t.Fatalf("Open failed with %v, want nil or kbstore.ErrCorrupt", err)
			}
			if ix, err = Open(Options{Dir: dir, NoSync: true, AllowDataLoss: true}); err != nil {
				t.Fatalf("Open with AllowDataLoss: %v", err)
			}
		}
		if ix.Len() > len(data)/10 {
			t.Fatalf("%d records from a %d-byte snapshot", ix.Len(), len(data))
		}
		if d := ix.Dimensions(); d > 0 {
			v := make([]float32, d)
			v[0] = 1
			if err := ix.Upsert(bg, []kbstore.Record{{ID: "new", DocumentID: "n", Vector: v}}); err != nil {
				t.Fatalf("index unusable after recovery: %v", err)
			}
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
