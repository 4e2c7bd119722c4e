package localindex

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

var bg = context.Background()

func writeN(t *testing.T, ix *Index, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		err := ix.Upsert(bg, []kbstore.Record{{ID: strconv.Itoa(i), DocumentID: "d" + strconv.Itoa(i%7), Partition: "p" + strconv.Itoa(i%2),
			Text: "t" + strconv.Itoa(i), Vector: crashVec(i), Metadata: map[string]any{"i": i, "tags": []string{"a"}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func count(t *testing.T, ix *Index) int {
	t.Helper()
	return ix.Len()
}

func lastSegment(t testing.TB, dir string) string {
	t.Helper()
	segs, err := listFiles(dir, "wal-", ".log")
	if err != nil || len(segs) == 0 {
		t.Fatalf("no log segment in %s: %v", dir, err)
	}
	return segName(dir, segs[len(segs)-1])
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, _ := os.ReadDir(src)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestReopenKeepsEverything(t *testing.T) { bothModes(t, testReopenKeepsEverything) }

func testReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(tOpts(Options{Dir: dir}))
	if err != nil {
		t.Fatal(err)
	}
	writeN(t, ix, 0, 40)
	if n, err := ix.DeleteDocuments(bg, "p0", []string{"d0", "d2"}); err != nil || n == 0 {
		t.Fatalf("delete: %d %v", n, err)
	}
	want := ix.Len()
	if err := ix.close(false); err != nil { // log only
		t.Fatal(err)
	}
	for round := range 3 {
		ix, err = Open(tOpts(Options{Dir: dir}))
		if err != nil {
			t.Fatal(err)
		}
		if got := ix.Len(); got != want {
			t.Fatalf("round %d: %d records after reopen, want %d", round, got, want)
		}
		got, _ := ix.Get(bg, "p1", []string{"1"})
		if len(got) != 1 || got[0].Text != "t1" || got[0].Metadata["i"] != 1.0 || got[0].Partition != "p1" {
			t.Fatalf("round %d: record 1 = %#v", round, got)
		}
		if ix.Dimensions() != 8 {
			t.Fatalf("dimensions %d after reopen", ix.Dimensions())
		}
		if err := ix.Close(); err != nil { // snapshot
			t.Fatal(err)
		}
	}
}

func TestTornTailIsCut(t *testing.T) { bothModes(t, testTornTailIsCut) }

func testTornTailIsCut(t *testing.T) {
	base := t.TempDir()
	ix, err := Open(tOpts(Options{Dir: base}))
	if err != nil {
		t.Fatal(err)
	}
	writeN(t, ix, 0, 50)
	if err := ix.close(false); err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int64{1, 4, 8, 9, 30} {
		t.Run(fmt.Sprint("cut", cut), func(t *testing.T) {
			dir := copyDir(t, base)
			seg := lastSegment(t, dir)
			fi, _ := os.Stat(seg)
			if err := os.Truncate(seg, fi.Size()-cut); err != nil {
				t.Fatal(err)
			}
			ix, err := Open(tOpts(Options{Dir: dir}))
			if err != nil {
				t.Fatalf("open refused: %v", err)
			}
			if got := ix.Len(); got != 49 {
				t.Fatalf("%d records, want 49 (only the torn last one lost)", got)
			}
			rec := ix.Recovery()
			if rec.TruncatedBytes == 0 || len(rec.Problems) == 0 {
				t.Fatalf("torn tail not reported: %+v", rec)
			}
			// The log keeps working after the cut.
			writeN(t, ix, 100, 101)
			ix.close(false)
			ix, err = Open(tOpts(Options{Dir: dir}))
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			if got := ix.Len(); got != 50 {
				t.Fatalf("%d records after writing past the cut, want 50", got)
			}
			if r := ix.Recovery(); r.TruncatedBytes != 0 {
				t.Fatalf("second open found damage again: %+v", r)
			}
		})
	}
}

// TestCorruptLastRecordIsReported: a changed byte in the last record is
// not a crash's torn write: that record was acknowledged, and losing it
// takes AllowDataLoss.
func TestCorruptLastRecordIsReported(t *testing.T) { bothModes(t, testCorruptLastRecordIsReported) }

func testCorruptLastRecordIsReported(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(tOpts(Options{Dir: dir}))
	if err != nil {
		t.Fatal(err)
	}
	writeN(t, ix, 0, 20)
	ix.close(false)
	seg := lastSegment(t, dir)
	b, _ := os.ReadFile(seg)
	b[len(b)-10] ^= 0xff // inside the last record's payload
	os.WriteFile(seg, b, 0o644)
	_, err = Open(tOpts(Options{Dir: dir}))
	var ce *kbstore.CorruptionError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("Open = %v, want a *kbstore.CorruptionError naming the checksum failure", err)
	}
	if n, exact := ce.RecordsLost(); n != 1 || !exact || ce.Damage[0].FirstLSN != 20 {
		t.Fatalf("lost %d (exact %v), damage %+v; want log position 20", n, exact, ce.Damage)
	}
	ix, err = Open(tOpts(Options{Dir: dir, AllowDataLoss: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if got := ix.Len(); got != 19 {
		t.Fatalf("%d records, want 19", got)
	}
}

func TestBadSnapshotFallsBack(t *testing.T) { bothModes(t, testBadSnapshotFallsBack) }

func testBadSnapshotFallsBack(t *testing.T) {
	dir := t.TempDir()
	ix, _ := Open(tOpts(Options{Dir: dir}))
	writeN(t, ix, 0, 30)
	ix.Close() // snapshot 1
	ix, _ = Open(tOpts(Options{Dir: dir}))
	writeN(t, ix, 30, 60)
	ix.Close() // snapshot 2
	snaps, _ := listFiles(dir, "snap-", ".snap")
	if len(snaps) != 2 {
		t.Fatalf("%d snapshots kept, want 2", len(snaps))
	}
	newest := snapName(dir, snaps[1])
	b, _ := os.ReadFile(newest)
	b[len(b)/2] ^= 0x55
	os.WriteFile(newest, b, 0o644)
	// Garbage in the directory is ignored.
	os.WriteFile(filepath.Join(dir, "wal-zz.log"), []byte("junk"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("junk"), 0o644)
	ix, err := Open(tOpts(Options{Dir: dir}))
	if err != nil {
		t.Fatalf("open refused: %v", err)
	}
	defer ix.Close()
	if got := ix.Len(); got != 60 {
		t.Fatalf("%d records, want all 60 from the older snapshot plus the log", got)
	}
	r := ix.Recovery()
	if r.SnapshotLSN != snaps[0] || len(r.Problems) == 0 {
		t.Fatalf("recovery = %+v, want the older snapshot and a reported problem", r)
	}
}

// TestDamagedMiddleSegment: with the newest snapshot gone, a damaged
// record in the segment after the older one is skipped, the rest of that
// segment and the next are kept.
func TestDamagedMiddleSegment(t *testing.T) { bothModes(t, testDamagedMiddleSegment) }

func testDamagedMiddleSegment(t *testing.T) {
	dir := t.TempDir()
	ix, _ := Open(tOpts(Options{Dir: dir}))
	writeN(t, ix, 0, 10)
	ix.Close() // snap A; segment after A
	ix, _ = Open(tOpts(Options{Dir: dir}))
	writeN(t, ix, 10, 20)
	ix.Close() // snap B
	snaps, _ := listFiles(dir, "snap-", ".snap")
	os.Remove(snapName(dir, snaps[1])) // newest snapshot lost
	segs, _ := listFiles(dir, "wal-", ".log")
	if len(segs) < 2 {
		t.Fatalf("segments %v", segs)
	}
	// Damage the segment after snapshot A (records 10..19) in its middle.
	mid := segName(dir, segs[len(segs)-2])
	b, _ := os.ReadFile(mid)
	b[len(b)/2] ^= 0xff
	os.WriteFile(mid, b, 0o644)
	if _, err := Open(tOpts(Options{Dir: dir})); !errors.Is(err, kbstore.ErrCorrupt) {
		t.Fatalf("Open = %v, want kbstore.ErrCorrupt", err)
	}
	ix, err := Open(tOpts(Options{Dir: dir, AllowDataLoss: true}))
	if err != nil {
		t.Fatalf("open refused: %v", err)
	}
	if n := ix.Len(); n != 19 {
		t.Fatalf("%d records, want all but the damaged one", n)
	}
	if n, _ := ix.Recovery().RecordsLost(); n != 1 {
		t.Fatalf("Recovery = %+v", ix.Recovery())
	}
	writeN(t, ix, 100, 105)
	ix.Close()
	ix, err = Open(tOpts(Options{Dir: dir}))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if got := ix.Len(); got != 24 {
		t.Fatalf("%d records after writing past the damage, want 24", got)
	}
}

func TestHundredThousandIDs(t *testing.T) {
	const n = 100_000
	dir := t.TempDir()
	ix, err := Open(tOpts(Options{Dir: dir, NoSync: true}))
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]kbstore.Record, 0, 5000)
	v := []float32{1, 2, 3, 4}
	for i := range n {
		batch = append(batch, kbstore.Record{ID: fmt.Sprintf("doc-%d#chunk", i), DocumentID: strconv.Itoa(i / 3), Vector: v})
		if len(batch) == cap(batch) {
			if err := ix.Upsert(bg, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// First reopen replays the log only; the second loads the snapshot.
	if err := ix.close(false); err != nil {
		t.Fatal(err)
	}
	for _, how := range []string{"log replay", "snapshot"} {
		ix, err = Open(tOpts(Options{Dir: dir}))
		if err != nil {
			t.Fatal(err)
		}
		if got := ix.Len(); got != n {
			t.Fatalf("%s: %d records after reopen, want %d", how, got, n)
		}
		hits, err := ix.Search(bg, kbstore.Query{Vector: v, K: n + 1})
		if err != nil || len(hits) != n {
			t.Fatalf("%s: search returned %d of %d (%v)", how, len(hits), n, err)
		}
		if err := ix.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDirIsLocked(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(tOpts(Options{Dir: dir}))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := Open(tOpts(Options{Dir: dir})); err == nil {
		t.Fatal("a second Open of the same directory succeeded")
	}
}

func TestDimensionsOption(t *testing.T) {
	dir := t.TempDir()
	ix, _ := Open(tOpts(Options{Dir: dir}))
	writeN(t, ix, 0, 3)
	ix.Close()
	_, err := Open(tOpts(Options{Dir: dir, Dimensions: 16}))
	if !errors.Is(err, kbstore.ErrDimensionMismatch) {
		t.Fatalf("opening 8-dimension data with Dimensions 16: %v, want ErrDimensionMismatch", err)
	}
	ix, err = Open(tOpts(Options{Dir: dir, Dimensions: 8}))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ix.Len() != 3 {
		t.Fatalf("%d records", ix.Len())
	}
	err = ix.Upsert(bg, []kbstore.Record{{ID: "x", DocumentID: "d", Vector: make([]float32, 16)}})
	if !errors.Is(err, kbstore.ErrDimensionMismatch) {
		t.Fatalf("16-dim upsert into an 8-dim index: %v", err)
	}
}

// TestVectorFileFailures: with Int8 and a Dir the float32 vectors live
// only in the vector file. A failed write keeps the vector in memory (no
// loss, results stay exact, a snapshot persists it); a failed read fails
// the search, Get and snapshot instead of scoring a vector as zero.
func TestVectorFileFailures(t *testing.T) { bothModes(t, testVectorFileFailures) }

func testVectorFileFailures(t *testing.T) {
	dir := t.TempDir()
	vecs := clustered(600, 32, 4)
	ix, err := Open(tOpts(Options{Dir: dir, Quantization: Int8, NoSync: true}))
	if err != nil {
		t.Fatal(err)
	}
	load(t, ix, vecs[:300])
	good := ix.vfile

	// Writes fail: a read-only handle on the same file.
	ro, err := os.Open(good.Name())
	if err != nil {
		t.Fatal(err)
	}
	ix.vfile = ro
	loadFrom(t, ix, vecs, 300)
	if len(ix.spill) != 300 {
		t.Fatalf("%d vectors kept in memory after failed writes, want 300", len(ix.spill))
	}
	for _, i := range []int{5, 305, 599} {
		hits, err := ix.Search(bg, kbstore.Query{Vector: vecs[i], K: 10})
		if err != nil {
			t.Fatal(err)
		}
		if r := recall(hits, exactTop(vecs, vecs[i], 10, nil)); r != 1 {
			t.Fatalf("query %d: recall %.2f with spilled vectors, want 1", i, r)
		}
	}
	got, err := ix.Get(bg, "", []string{"450"})
	if err != nil || len(got) != 1 || !slices.Equal(got[0].Vector, vecs[450]) {
		t.Fatalf("Get of a spilled vector: %v %v", got, err)
	}

	// Reads fail: a closed handle.
	closed, err := os.Open(good.Name())
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	ix.vfile = closed
	if _, err := ix.Search(bg, kbstore.Query{Vector: vecs[5], K: 10}); !errors.Is(err, ErrVectorFile) {
		t.Fatalf("Search with an unreadable vector file: %v, want ErrVectorFile", err)
	}
	if _, err := ix.Get(bg, "", []string{"5"}); !errors.Is(err, ErrVectorFile) {
		t.Fatalf("Get with an unreadable vector file: %v, want ErrVectorFile", err)
	}
	ix.walMu.Lock()
	err = ix.snapshot()
	ix.walMu.Unlock()
	if !errors.Is(err, ErrVectorFile) {
		t.Fatalf("snapshot with an unreadable vector file: %v, want ErrVectorFile", err)
	}
	ro.Close()
	ix.vfile = good
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	// Nothing was lost: reopen and compare every vector.
	ix, err = Open(tOpts(Options{Dir: dir, Quantization: Int8, NoSync: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ix.Len() != 600 {
		t.Fatalf("reopened with %d records, want 600", ix.Len())
	}
	for _, i := range []int{0, 299, 300, 599} {
		got, err := ix.Get(bg, "", []string{strconv.Itoa(i)})
		if err != nil || len(got) != 1 || !slices.Equal(got[0].Vector, vecs[i]) {
			t.Fatalf("record %d after reopen: %v %v", i, got, err)
		}
	}
}

// TestSnapshotDoesNotBlockWriters: while one Upsert writes a snapshot,
// other writers and readers go on; records written meanwhile (including
// ones that would reuse freed slots) survive, with their vectors, in the
// snapshot plus the log.
func TestSnapshotDoesNotBlockWriters(t *testing.T) { bothModes(t, testSnapshotDoesNotBlockWriters) }

func testSnapshotDoesNotBlockWriters(t *testing.T) {
	for name, o := range map[string]Options{
		"auto":         {NoSync: true, SnapshotBytes: 1},
		"int8-on-disk": {NoSync: true, SnapshotBytes: 1, Quantization: Int8},
		"hnsw":         {NoSync: true, SnapshotBytes: 1, HNSW: &HNSWOptions{MinRecords: 50, M: 4, EfConstruction: 16}},
	} {
		t.Run(name, func(t *testing.T) {
			o.Dir = t.TempDir()
			vecs := clustered(400, 16, 30)
			ix, err := Open(tOpts(o))
			if err != nil {
				t.Fatal(err)
			}
			rec := func(i int, doc string) kbstore.Record {
				return kbstore.Record{ID: strconv.Itoa(i), DocumentID: doc, Vector: vecs[i]}
			}
			var first []kbstore.Record
			for i := range 200 {
				first = append(first, rec(i, "d"+strconv.Itoa(i%10)))
			}
			if err := ix.Upsert(bg, first[:100]); err != nil { // snapshot without the hook
				t.Fatal(err)
			}
			started, release := make(chan struct{}), make(chan struct{})
			testSnapshotHook = func() { close(started); <-release }
			defer func() { testSnapshotHook = nil }()
			done := make(chan error)
			go func() { done <- ix.Upsert(bg, first[100:]) }() // crosses SnapshotBytes: snapshots
			select {
			case <-started:
			case err := <-done:
				t.Fatalf("Upsert returned (%v) without snapshotting", err)
			}
			testSnapshotHook = nil
			// Meanwhile: delete documents (freeing slots), write new records,
			// search. None of it may wait for the snapshot.
			wrote := make(chan error)
			go func() {
				if _, err := ix.DeleteDocuments(bg, "", []string{"d1", "d2"}); err != nil {
					wrote <- err
					return
				}
				var more []kbstore.Record
				for i := 200; i < 300; i++ {
					more = append(more, rec(i, "e"))
				}
				if err := ix.Upsert(bg, more); err != nil {
					wrote <- err
					return
				}
				_, err := ix.Search(bg, kbstore.Query{Vector: vecs[250], K: 3})
				wrote <- err
			}()
			select {
			case err := <-wrote:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("writers blocked behind a snapshot being written")
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if ix.slotsShared() {
				t.Fatal("two live records share a slot")
			}
			ix.close(false) // as after a crash: the snapshot and the log
			ix, err = Open(tOpts(o))
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			if ix.Recovery().SnapshotLSN == 0 {
				t.Fatal("no snapshot loaded")
			}
			want := map[string]int{}
			for i := range 300 {
				if i < 200 && (i%10 == 1 || i%10 == 2) {
					continue
				}
				want[strconv.Itoa(i)] = i
			}
			if ix.Len() != len(want) {
				t.Fatalf("%d records after reopen, want %d", ix.Len(), len(want))
			}
			for id, i := range want {
				got, err := ix.Get(bg, "", []string{id})
				if err != nil || len(got) != 1 || !slices.Equal(got[0].Vector, vecs[i]) {
					t.Fatalf("record %s after reopen: %v %v", id, got, err)
				}
			}
		})
	}
}

// slotsShared reports whether two live records share a slot, or a record's
// slot names another record.
func (ix *Index) slotsShared() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	seen := map[int32]bool{}
	for _, e := range ix.entries {
		if e.slot >= 0 {
			if seen[e.slot] || ix.slots[e.slot] != e {
				return true
			}
			seen[e.slot] = true
		}
	}
	return false
}

// TestFailedSnapshotStartKeepsWriting: if the next log segment cannot be
// created, the snapshot fails but writes go on in the current segment and
// nothing is lost.
func TestFailedSnapshotStartKeepsWriting(t *testing.T) {
	bothModes(t, testFailedSnapshotStartKeepsWriting)
}

func testFailedSnapshotStartKeepsWriting(t *testing.T) {
	dir := t.TempDir()
	vecs := clustered(10, 8, 40)
	o := Options{Dir: dir, NoSync: true, SnapshotBytes: 1}
	ix, err := Open(tOpts(o))
	if err != nil {
		t.Fatal(err)
	}
	rec := func(i int) []kbstore.Record {
		return []kbstore.Record{{ID: strconv.Itoa(i), DocumentID: "d", Vector: vecs[i]}}
	}
	if err := ix.Upsert(bg, rec(0)); err != nil {
		t.Fatal(err)
	}
	// The segment the next snapshot would start: make it uncreatable.
	block := segName(dir, ix.log.lsn+2)
	if err := os.Mkdir(block, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ix.Upsert(bg, rec(1)); err == nil || !strings.Contains(err.Error(), "snapshot failed") {
		t.Fatalf("upsert whose snapshot cannot start: %v", err)
	}
	for i := 2; i < 5; i++ {
		if err := ix.Upsert(bg, rec(i)); err != nil && !strings.Contains(err.Error(), "snapshot failed") {
			t.Fatalf("upsert %d after a failed snapshot start: %v", i, err)
		}
	}
	os.Remove(block)
	ix.close(false)
	ix, err = Open(tOpts(o))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ix.Len() != 5 {
		t.Fatalf("%d records after reopen, want 5", ix.Len())
	}
}
