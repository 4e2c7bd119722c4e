package kb_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func resultIDs(res []kb.RetrievalResult) []string {
	ids := make([]string, len(res))
	for i, r := range res {
		ids[i] = r.ID
	}
	return ids
}

// TestZeroFilterMeansNone: the zero Filter in RetrieveOptions.Filter (a
// value) searches everything; a set one restricts the search.
func TestZeroFilterMeansNone(t *testing.T) {
	ctx := context.Background()
	k := newKB(t, kb.Options{})
	if _, err := k.Sync(ctx, bankSource()); err != nil {
		t.Fatal(err)
	}
	if !(kb.Filter{}).IsZero() || kb.Equals("a", "b").IsZero() || (kb.Filter{Key: "a"}).IsZero() {
		t.Fatal("IsZero is wrong")
	}
	q := "card fees dispute privacy"
	for _, st := range []kb.SearchType{kb.Hybrid, kb.Semantic, kb.Keyword} {
		none, err := k.Retrieve(ctx, q, kb.RetrieveOptions{SearchType: st, NumberOfResults: 10})
		if err != nil || len(none) < 3 {
			t.Fatalf("%s without a filter: %v, %v", st, resultIDs(none), err)
		}
		for name, o := range map[string]kb.RetrieveOptions{
			"no options":       {},
			"Filter: Filter{}": {Filter: kb.Filter{}},
		} {
			o.SearchType, o.NumberOfResults = st, 10
			got, err := k.Retrieve(ctx, q, o)
			if err != nil || !slices.Equal(resultIDs(got), resultIDs(none)) {
				t.Errorf("%s %s: %v, %v; want the unfiltered %v", st, name, resultIDs(got), err, resultIDs(none))
			}
		}
		support := kb.Equals("category", "support")
		got, err := k.Retrieve(ctx, q, kb.RetrieveOptions{SearchType: st, NumberOfResults: 10, Filter: support})
		if err != nil || len(got) != 2 {
			t.Fatalf("%s Filter = %v, %v; want the two support documents", st, resultIDs(got), err)
		}
	}
	// An invalid filter is refused.
	if _, err := k.Retrieve(ctx, q, kb.RetrieveOptions{Filter: kb.Filter{Op: kbstore.OpAndAll}}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("invalid Filter: %v, want ErrInvalidInput", err)
	}
	if _, err := k.Retrieve(ctx, q, kb.RetrieveOptions{Filter: kb.Filter{Key: "category", Value: "x"}}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("Filter without an operator: %v, want ErrInvalidInput", err)
	}
}

// TestAnswerSources: an answer's sources are its cited documents, each
// once, in the order they are first cited.
func TestAnswerSources(t *testing.T) {
	ctx := context.Background()
	model := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("First [2]. Second [1][2]. Third [3][1]. Again [2]."))
	store := openIndex(t, localindex.Options{})
	k := newKB(t, kb.Options{Store: store, Model: model})
	if _, err := k.Sync(ctx, bankSource()); err != nil {
		t.Fatal(err)
	}
	ans, err := k.RetrieveAndGenerate(ctx, "card fees dispute privacy lost", kb.GenerateOptions{Retrieve: kb.RetrieveOptions{NumberOfResults: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Passages) != 3 {
		t.Fatalf("want 3 passages, got %d", len(ans.Passages))
	}
	p := ans.Passages
	want := []string{p[1].Location.URI, p[0].Location.URI, p[2].Location.URI}
	var got []string
	for _, s := range ans.Sources() {
		got = append(got, s.URI)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Sources = %v, want %v (order of first citation, each once)", got, want)
	}
	if s := ans.Sources()[0]; s.ID != p[1].ID || s.Text != p[1].Text {
		t.Fatalf("a source is the first cited chunk of its document: %+v", s)
	}
	if n := len((&kb.Answer{Text: kb.NoAnswerText}).Sources()); n != 0 {
		t.Fatalf("an answer without citations has %d sources", n)
	}
}

// TestAnswerSourcesOneDocument: two cited chunks of one document are one
// source.
func TestAnswerSourcesOneDocument(t *testing.T) {
	src := bedrockkit.CitationSource{URI: "s3://b/fees.md", ID: "s3://b/fees.md#0"}
	other := src
	other.ID = "s3://b/fees.md#3"
	faq := bedrockkit.CitationSource{URI: "s3://b/faq.md", ID: "s3://b/faq.md#0"}
	ans := &kb.Answer{Citations: []kb.Citation{{Sources: []bedrockkit.CitationSource{src, other}}, {Sources: []bedrockkit.CitationSource{faq, other}}}}
	got := ans.Sources()
	if len(got) != 2 || got[0].ID != src.ID || got[1].URI != faq.URI {
		t.Fatalf("Sources = %+v, want fees.md (its first chunk) then faq.md", got)
	}
}

// modelEmbedder is an embedder that knows its model ID, as
// bedrockkit.TitanEmbedder does.
type modelEmbedder struct {
	*bedrockkittest.HashEmbedder
	id string
}

func (e modelEmbedder) ModelID() string { return e.id }

// TestEmbedderIDFromModelID: without Options.EmbedderID the embedder's
// ModelID names it, so two models of the same Go type are told apart.
func TestEmbedderIDFromModelID(t *testing.T) {
	ctx := context.Background()
	store := openIndex(t, localindex.Options{})
	titan := modelEmbedder{bedrockkittest.NewHashEmbedder(32), "amazon.titan-embed-text-v2:0"}
	if _, err := newKB(t, kb.Options{Store: store, Embedder: titan}).Sync(ctx, bankSource()); err != nil {
		t.Fatal(err)
	}
	// The same model through Options.EmbedderID is the same identity.
	same := newKB(t, kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(32), EmbedderID: "amazon.titan-embed-text-v2:0"})
	if _, err := same.Retrieve(ctx, "fees"); err != nil {
		t.Fatalf("same model ID given explicitly: %v", err)
	}
	cohere := modelEmbedder{bedrockkittest.NewHashEmbedder(32), "cohere.embed-english-v3"}
	_, err := newKB(t, kb.Options{Store: store, Embedder: cohere}).Retrieve(ctx, "fees")
	var ec *kb.EmbedderChangedError
	if !errors.As(err, &ec) || ec.Stored != "amazon.titan-embed-text-v2:0/32" || ec.Configured != "cohere.embed-english-v3/32" {
		t.Fatalf("another model of the same Go type: %v; want an EmbedderChangedError naming both model IDs", err)
	}
	// Options.EmbedderID wins over ModelID.
	if _, err := newKB(t, kb.Options{Store: store, Embedder: cohere, EmbedderID: "amazon.titan-embed-text-v2:0"}).Retrieve(ctx, "fees"); err != nil {
		t.Fatalf("EmbedderID set explicitly: %v", err)
	}
}

// TestEmbedderIDLegacyIdentity: data recorded before the model ID was taken
// from ModelID (as "Go type/dimensions") is still accepted, and unchanged
// documents are not re-embedded.
func TestEmbedderIDLegacyIdentity(t *testing.T) {
	ctx := context.Background()
	store := openIndex(t, localindex.Options{})
	titan := modelEmbedder{bedrockkittest.NewHashEmbedder(32), "amazon.titan-embed-text-v2:0"}
	// What an older version recorded for this embedder without EmbedderID.
	old := newKB(t, kb.Options{Store: store, Embedder: titan, EmbedderID: "kb_test.modelEmbedder"})
	if _, err := old.Sync(ctx, bankSource()); err != nil {
		t.Fatal(err)
	}
	k := newKB(t, kb.Options{Store: store, Embedder: titan})
	if _, err := k.Retrieve(ctx, "fees"); err != nil {
		t.Fatalf("Retrieve over data recorded with the legacy identity: %v", err)
	}
	rep, err := k.Sync(ctx, bankSource())
	if err != nil || rep.Unchanged != 4 || rep.EmbedCalls != 0 {
		t.Fatalf("Sync over data recorded with the legacy identity: %+v, %v; want 4 unchanged, no embedding", rep, err)
	}
	// The legacy identity of one embedder type does not stand for another.
	other := newKB(t, kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(32)})
	if _, err := other.Retrieve(ctx, "fees"); !errors.Is(err, kb.ErrEmbedderChanged) {
		t.Fatalf("another embedder type: %v, want ErrEmbedderChanged", err)
	}
}

// TestOneOptionsPerCall: a call takes at most one options struct; two are
// refused rather than one being silently dropped.
func TestOneOptionsPerCall(t *testing.T) {
	ctx := context.Background()
	k := newKB(t, kb.Options{})
	if _, err := k.Retrieve(ctx, "fees", kb.RetrieveOptions{}, kb.RetrieveOptions{SearchType: kb.Keyword}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("Retrieve with two RetrieveOptions: %v; want ErrInvalidInput", err)
	}
	if _, err := k.RetrieveAndGenerate(ctx, "fees", kb.GenerateOptions{}, kb.GenerateOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("RetrieveAndGenerate with two GenerateOptions: %v; want ErrInvalidInput", err)
	}
	if _, err := k.Sync(ctx, kb.NewMemorySource(), kb.SyncOptions{}, kb.SyncOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("Sync with two SyncOptions: %v; want ErrInvalidInput", err)
	}
}

// TestSyncOfBrokenMemorySource: a MemorySource built with a document
// without a URI makes Sync fail with the reason and keeps what is stored:
// the refused document is not taken as deleted.
func TestSyncOfBrokenMemorySource(t *testing.T) {
	ctx := context.Background()
	k := newKB(t, kb.Options{})
	doc := kb.MemoryDocument{URI: "mem:a.md", Data: []byte("# Fees\n\nA wire transfer costs 25 dollars.")}
	if _, err := k.Sync(ctx, kb.NewMemorySource(doc)); err != nil {
		t.Fatal(err)
	}
	_, err := k.Sync(ctx, kb.NewMemorySource(kb.MemoryDocument{Data: []byte("no URI")}))
	if !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("Sync of a source with a document without URI: %v; want ErrInvalidInput", err)
	}
	res, err := k.Retrieve(ctx, "wire transfer", kb.RetrieveOptions{SearchType: kb.Keyword})
	if err != nil || len(res) == 0 || res[0].DocumentID != "mem:a.md" {
		t.Fatalf("after the refused Sync: %+v, %v; want mem:a.md still found", res, err)
	}
}
