package chromem

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

var bg = context.Background()

func mustOpen(t *testing.T, o Options) *Store {
	t.Helper()
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func rec(i int) kbstore.Record {
	return kbstore.Record{ID: strconv.Itoa(i), DocumentID: "d" + strconv.Itoa(i%7), Partition: "p" + strconv.Itoa(i%3),
		Text: fmt.Sprint("text ", i), Vector: crashVec(i),
		Metadata: map[string]any{"i": i, "odd": i%2 == 1, "tags": []any{"a", float64(i), true}, "neg0": -0.0, "big": 1e300}}
}

func wantRec(t *testing.T, i int) kbstore.Record {
	t.Helper()
	r, err := kbstore.ValidateRecord(rec(i), 0, false)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func logPath(dir string) string { return filepath.Join(dir, logName) }

// TestReopenExact: typed metadata, vectors and every field survive a
// close and reopen bit for bit.
func TestReopenExact(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir})
	for i := range 30 {
		if err := s.Upsert(bg, []kbstore.Record{rec(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteDocuments(bg, "p0", []string{"d0"}); err != nil || n == 0 {
		t.Fatalf("DeleteDocuments = %d, %v", n, err)
	}
	s.Close()
	s = mustOpen(t, Options{Dir: dir})
	defer s.Close()
	for i := range 30 {
		r := rec(i)
		got, err := s.Get(bg, r.Partition, []string{r.ID})
		if err != nil {
			t.Fatal(err)
		}
		if r.Partition == "p0" && r.DocumentID == "d0" {
			if len(got) != 0 {
				t.Fatalf("deleted record %d came back", i)
			}
			continue
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], wantRec(t, i)) {
			t.Fatalf("record %d after reopen = %#v\nwant %#v", i, got, wantRec(t, i))
		}
	}
	if rv := s.Recovery(); rv.Replayed != 31 || rv.CutBytes != 0 {
		t.Fatalf("Recovery = %+v, want 31 records replayed and nothing cut", rv)
	}
}

// TestTornTail cuts the log at every byte of its last record: the store
// always opens, keeps every earlier record, and never shows part of the
// last batch.
func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir})
	if err := s.Upsert(bg, []kbstore.Record{rec(0), rec(1)}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(logPath(dir))
	if err := s.Upsert(bg, []kbstore.Record{rec(2), rec(3), rec(4)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	full, err := os.ReadFile(logPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	for cut := before.Size(); cut < int64(len(full)); cut++ {
		d := t.TempDir()
		if err := os.WriteFile(logPath(d), full[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		s := mustOpen(t, Options{Dir: d})
		if got := s.Len(); got != 2 {
			t.Fatalf("cut at %d: %d records, want the 2 of the first batch", cut, got)
		}
		rv := s.Recovery()
		if cut > before.Size() && (rv.CutBytes != cut-before.Size() || rv.SetAside == "") {
			t.Fatalf("cut at %d: Recovery = %+v", cut, rv)
		}
		// The log was cut back to the last good record and takes writes.
		if err := s.Upsert(bg, []kbstore.Record{rec(9)}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = mustOpen(t, Options{Dir: d})
		if got := s.Len(); got != 3 || s.Recovery().CutBytes != 0 {
			t.Fatalf("cut at %d, after a new write and reopen: %d records, Recovery %+v", cut, got, s.Recovery())
		}
		s.Close()
	}
}

// TestCorruptTail flips a byte inside the last record: its checksum
// fails, and since one changed byte is not a crash's torn write (the
// record was acknowledged), Open refuses until told to accept the loss.
func TestCorruptTail(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir})
	for i := range 5 {
		if err := s.Upsert(bg, []kbstore.Record{rec(i)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	b, _ := os.ReadFile(logPath(dir))
	b[len(b)-10] ^= 0x40
	os.WriteFile(logPath(dir), b, 0o644)
	_, err := Open(Options{Dir: dir})
	var ce *kbstore.CorruptionError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("Open = %v, want a *kbstore.CorruptionError naming the checksum failure", err)
	}
	if n, exact := ce.RecordsLost(); n != 1 || !exact {
		t.Fatalf("RecordsLost = %d, %v", n, exact)
	}
	s = mustOpen(t, Options{Dir: dir, AllowDataLoss: true})
	defer s.Close()
	rv := s.Recovery()
	if s.Len() != 4 || len(rv.Damage) != 1 || rv.Damage[0].Records != 1 {
		t.Fatalf("after corrupting the last record: %d records, Recovery %+v; want 4 and the loss reported", s.Len(), rv)
	}
	aside, err := os.ReadFile(filepath.Join(dir, rv.Damage[0].SetAside))
	if err != nil || string(aside) != string(b) {
		t.Fatalf("set-aside copy: %d bytes, %v; want the damaged log", len(aside), err)
	}
}

func TestBadHeaderRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(logPath(dir), []byte("something else entirely"), 0o644)
	if _, err := Open(Options{Dir: dir}); err == nil {
		t.Fatal("opened a file that is not a kb/chromem log")
	}
	if b, _ := os.ReadFile(logPath(dir)); string(b) != "something else entirely" {
		t.Fatal("a foreign file was modified")
	}
}

func TestDirLocked(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir})
	if _, err := Open(Options{Dir: dir}); err == nil {
		t.Fatal("a second Open of the same Dir succeeded")
	}
	s.Close()
	mustOpen(t, Options{Dir: dir}).Close()
}

func TestDimensionConflict(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir})
	if err := s.Upsert(bg, []kbstore.Record{rec(1)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(Options{Dir: dir, Dimensions: 4})
	if !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("Open with other Dimensions: %v, want ErrInvalidInput", err)
	}
	s = mustOpen(t, Options{Dir: dir})
	defer s.Close()
	if s.Dimensions() != 8 {
		t.Fatalf("Dimensions = %d after replay, want 8", s.Dimensions())
	}
}

// TestManyIDsSurvive: 20,000 distinct IDs (chromem-go's own files collide
// after ~29,000 IDs) come back as exactly that many records, and
// compaction keeps them.
func TestManyIDsSurvive(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 3000
	}
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir, NoSync: true, Dimensions: 8})
	batch := make([]kbstore.Record, 0, 500)
	for i := range n {
		batch = append(batch, kbstore.Record{ID: "id-" + strconv.Itoa(i), DocumentID: "d", Vector: crashVec(i)})
		if len(batch) == cap(batch) {
			if err := s.Upsert(bg, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// Replace half of them so compaction has garbage to drop.
	for i := 0; i < n/2; i++ {
		batch = append(batch, kbstore.Record{ID: "id-" + strconv.Itoa(i), DocumentID: "d", Text: "v2", Vector: crashVec(i)})
		if len(batch) == cap(batch) {
			if err := s.Upsert(bg, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	s.Close()
	s = mustOpen(t, Options{Dir: dir})
	if s.Len() != n {
		t.Fatalf("%d records after reopen, want %d", s.Len(), n)
	}
	before, _ := os.Stat(logPath(dir))
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(logPath(dir))
	if after.Size() >= before.Size() {
		t.Fatalf("Compact did not shrink the log: %d -> %d bytes", before.Size(), after.Size())
	}
	s.Close()
	s = mustOpen(t, Options{Dir: dir})
	defer s.Close()
	if s.Len() != n {
		t.Fatalf("%d records after compaction and reopen, want %d", s.Len(), n)
	}
	got, _ := s.Get(bg, "", []string{"id-0", "id-" + strconv.Itoa(n-1)})
	if len(got) != 2 || got[0].Text != "v2" || got[1].Text != "" {
		t.Fatalf("after compaction: %#v", got)
	}
	hits, err := s.Search(bg, kbstore.Query{Vector: crashVec(5), K: 1})
	if err != nil || len(hits) != 1 || hits[0].ID != "id-5" {
		t.Fatalf("search after compaction: %v, %v", hits, err)
	}
}

// TestAutoCompact: with a small CompactBytes the log stays bounded under
// repeated replacement.
func TestAutoCompact(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir, NoSync: true, CompactBytes: 16 << 10})
	for round := range 200 {
		batch := make([]kbstore.Record, 10)
		for i := range batch {
			batch[i] = kbstore.Record{ID: strconv.Itoa(i), DocumentID: "d", Text: strconv.Itoa(round), Vector: crashVec(i)}
		}
		if err := s.Upsert(bg, batch); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	st, _ := os.Stat(logPath(dir))
	if st.Size() > 64<<10 {
		t.Fatalf("log is %d bytes after 200 replacements of 10 records; compaction did not run", st.Size())
	}
	s = mustOpen(t, Options{Dir: dir})
	defer s.Close()
	got, _ := s.Get(bg, "", []string{"3"})
	if s.Len() != 10 || len(got) != 1 || got[0].Text != "199" {
		t.Fatalf("after compaction: %d records, %v", s.Len(), got)
	}
}
