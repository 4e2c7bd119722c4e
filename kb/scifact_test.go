package kb_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// scifactSource streams the BEIR SciFact corpus, with some documents
// replaced or removed.
type scifactSource struct {
	path    string
	replace map[string]string
	drop    map[string]bool
}

func (s scifactSource) Items(ctx context.Context) iter.Seq2[kb.SourceItem, error] {
	return func(yield func(kb.SourceItem, error) bool) {
		f, err := os.Open(s.path)
		if err != nil {
			yield(kb.SourceItem{}, err)
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var d struct{ ID, Title, Text string }
			if err := json.Unmarshal(sc.Bytes(), &struct {
				ID    *string `json:"_id"`
				Title *string `json:"title"`
				Text  *string `json:"text"`
			}{&d.ID, &d.Title, &d.Text}); err != nil {
				yield(kb.SourceItem{}, err)
				return
			}
			if s.drop[d.ID] {
				continue
			}
			text := d.Title + "\n\n" + d.Text
			if r, ok := s.replace[d.ID]; ok {
				text = r
			}
			it := kb.SourceItem{URI: "scifact:" + d.ID, Name: d.ID + ".txt", Size: int64(len(text)),
				Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }}
			if !yield(it, nil) {
				return
			}
		}
	}
}

func scifactPath(t *testing.T) string {
	dir := os.Getenv("BEDROCKKIT_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "data")
	}
	p := filepath.Join(dir, "scifact", "corpus.jsonl")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("SciFact corpus not found at %s (set BEDROCKKIT_DATA)", p)
	}
	return p
}

// TestSyncSciFact syncs the 5,183 SciFact abstracts, then checks that an
// unchanged re-sync embeds nothing, touching one document re-embeds only
// its chunks, and deleting one removes exactly its chunks.
func TestSyncSciFact(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests 8 MB; skipped with -short")
	}
	if raceEnabled && os.Getenv("BEDROCKKIT_HEAVY") == "" {
		t.Skip("about 15 s under -race; set BEDROCKKIT_HEAVY=1 to run it")
	}
	path := scifactPath(t)
	ctx := context.Background()
	emb := newCounting(64)
	store := openIndex(t, localindex.Options{})
	k := newKB(t, kb.Options{Store: store, Embedder: emb, BatchSize: 64, Concurrency: 4, Chunker: chunk.Default{Tokenizer: chunk.Estimate}})
	rep, err := k.Sync(ctx, scifactSource{path: path})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scanned != 5183 || rep.New != 5183 || rep.Failed != 0 || int(emb.texts.Load()) != rep.Chunks {
		t.Fatalf("first sync: %+v, embedded %d", rep, emb.texts.Load())
	}
	count := func() (total int, per map[string]int) {
		docs, err := store.Documents(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		per = map[string]int{}
		for _, d := range docs {
			total += d.Records
			per[d.ID] = d.Records
		}
		return total, per
	}
	total, per := count()

	emb.reset()
	rep, err = k.Sync(ctx, scifactSource{path: path})
	if err != nil || emb.calls.Load() != 0 || rep.Unchanged != 5183 {
		t.Fatalf("unchanged re-sync: %+v, %d embedding calls, %v", rep, emb.calls.Load(), err)
	}

	emb.reset()
	touched := "Touched abstract about tau protein aggregation.\n\n" + strings.Repeat("It has a new sentence. ", 150)
	rep, err = k.Sync(ctx, scifactSource{path: path, replace: map[string]string{"4983": touched}})
	if err != nil || rep.Modified != 1 || rep.Unchanged != 5182 {
		t.Fatalf("touch: %+v %v", rep, err)
	}
	_, per2 := count()
	if int(emb.texts.Load()) != per2["scifact:4983"] || rep.Chunks != per2["scifact:4983"] {
		t.Fatalf("touching one document embedded %d texts; it has %d chunks", emb.texts.Load(), per2["scifact:4983"])
	}
	for _, s := range emb.seen {
		if !strings.Contains(touched, strings.TrimSpace(s)) {
			t.Fatalf("embedded a chunk that is not the touched document's: %.80q", s)
		}
	}

	rep, err = k.Sync(ctx, scifactSource{path: path, replace: map[string]string{"4983": touched}, drop: map[string]bool{"5836": true}})
	if err != nil || rep.Deleted != 1 {
		t.Fatalf("delete: %+v %v", rep, err)
	}
	total3, per3 := count()
	if _, ok := per3["scifact:5836"]; ok || total3 != total-per["scifact:4983"]+per2["scifact:4983"]-per["scifact:5836"] {
		t.Fatalf("after deleting one document: %d records, want %d", total3, total-per["scifact:4983"]+per2["scifact:4983"]-per["scifact:5836"])
	}
}
