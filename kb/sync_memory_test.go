package kb_test

import (
	"context"
	"fmt"
	"io"
	"iter"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// discardStore keeps only the knowledge base's config record and counts
// the others, so the heap a Sync leaves behind is the knowledge base's
// own. As a KeywordSearcher it spares kb its in-memory keyword index.
type discardStore struct {
	mu      sync.Mutex
	config  map[string]kbstore.Record
	records int
}

func (s *discardStore) Upsert(_ context.Context, recs []kbstore.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		if r.DocumentID == kbstore.ConfigRecordID {
			s.config[r.Partition+"/"+r.ID] = kbstore.CloneRecord(r)
			continue
		}
		s.records++
	}
	return nil
}

func (s *discardStore) DeleteDocuments(context.Context, string, []string) (int, error) {
	return 0, nil
}
func (s *discardStore) Search(context.Context, kbstore.Query) ([]kbstore.Hit, error) { return nil, nil }
func (s *discardStore) Get(_ context.Context, part string, ids []string) ([]kbstore.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []kbstore.Record
	for _, id := range ids {
		if r, ok := s.config[part+"/"+id]; ok {
			out = append(out, kbstore.CloneRecord(r))
		}
	}
	return out, nil
}
func (s *discardStore) Documents(context.Context, string) ([]kbstore.DocumentInfo, error) {
	return nil, nil
}
func (s *discardStore) Close() error { return nil }

type discardKeywordStore struct{ *discardStore }

func (discardKeywordStore) SearchText(context.Context, kbstore.TextQuery) ([]kbstore.Hit, error) {
	return nil, nil
}

// generatedSource lists n documents made when opened, never held.
type generatedSource struct{ n int }

func (g generatedSource) Items(ctx context.Context) iter.Seq2[kb.SourceItem, error] {
	return func(yield func(kb.SourceItem, error) bool) {
		for i := range g.n {
			text := fmt.Sprintf("Record %d of the generated corpus. Invoice %d was refunded to account %d after review.", i, i*7, i*13)
			name := fmt.Sprintf("doc-%06d.txt", i)
			it := kb.SourceItem{URI: "gen:" + name, Name: name, Size: -1,
				Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }}
			if !yield(it, nil) {
				return
			}
		}
	}
}

// syncHeldGrowth syncs n generated documents into store and returns the
// live heap's growth per document between the tenth and the last one.
func syncHeldGrowth(t *testing.T, store kbstore.Store, n int) float64 {
	t.Helper()
	k, err := kb.New(kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(32), EmbedderID: "hash"})
	if err != nil {
		t.Fatal(err)
	}
	live := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var first, last uint64
	var firstDone, lastDone int
	rep, err := k.Sync(context.Background(), generatedSource{n}, kb.SyncOptions{Progress: func(p kb.SyncProgress) {
		switch {
		case firstDone == 0 && p.Done >= n/10:
			first, firstDone = live(), p.Done
		case p.Done >= n-n/20 && lastDone == 0:
			last, lastDone = live(), p.Done
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.New != n || rep.Failed != 0 || lastDone == 0 {
		var first error
		if len(rep.Failures) > 0 {
			first = rep.Failures[0]
		}
		t.Fatalf("sync: %d new, %d failed, %d skipped (first: %v); measured at %d and %d documents", rep.New, rep.Failed, rep.Skipped, first, firstDone, lastDone)
	}
	return (float64(last) - float64(first)) / float64(lastDone-firstDone)
}

// TestSyncMemoryBounded: while a Sync streams documents through, the
// memory it holds grows only by the set of URIs it has listed (one entry
// a document, which finds deleted documents and URIs listed twice; about
// 100 bytes here) and nothing a chunk beyond what the store keeps, so a
// Sync of a million chunks needs the store's memory and no more. The same
// measurement with kb's in-memory keyword index (a store that does not
// search text) shows that index's cost, proving the measurement sees what
// is held.
func TestSyncMemoryBounded(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 1500
	}
	kw := syncHeldGrowth(t, discardKeywordStore{&discardStore{config: map[string]kbstore.Record{}}}, n)
	idx := syncHeldGrowth(t, &discardStore{config: map[string]kbstore.Record{}}, n)
	t.Logf("live heap growth per document: %.0f B without kb's keyword index, %.0f B with it", kw, idx)
	if kw > 200 {
		t.Errorf("Sync holds %.0f B per document that the store does not keep; want only its listed URIs (under 200 B)", kw)
	}
	if idx < kw+500 {
		t.Errorf("measurement is blind: kb's keyword index grew only %.0f B per document", idx)
	}
}

// TestSyncFailuresBounded: a source of more bad documents than
// MaxReportedFailures lists the first ones with their reasons and counts
// the rest, so a million bad files cannot fill memory; nothing goes
// uncounted.
func TestSyncFailuresBounded(t *testing.T) {
	k, err := kb.New(kb.Options{Store: discardKeywordStore{&discardStore{config: map[string]kbstore.Record{}}}, Embedder: bedrockkittest.NewHashEmbedder(8), EmbedderID: "hash"})
	if err != nil {
		t.Fatal(err)
	}
	n := kb.MaxReportedFailures + 50
	docs := make([]kb.MemoryDocument, n)
	for i := range docs {
		docs[i] = kb.MemoryDocument{URI: fmt.Sprintf("mem:file-%05d.unknown-type", i), Data: []byte("x")}
	}
	rep, err := k.Sync(context.Background(), kb.NewMemorySource(docs...))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped != n || len(rep.Failures) != kb.MaxReportedFailures || rep.FailuresOmitted != 50 {
		t.Fatalf("skipped %d, %d failures listed, %d omitted; want %d, %d, 50", rep.Skipped, len(rep.Failures), rep.FailuresOmitted, n, kb.MaxReportedFailures)
	}
}
