package kb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// keywordKB returns a knowledge base with no embedder over store.
func keywordKB(t *testing.T, store kbstore.Store, cfg kb.Options) *kb.KnowledgeBase {
	t.Helper()
	cfg.Store = store
	k, err := kb.New(cfg)
	if err != nil {
		t.Fatalf("New without an embedder: %v", err)
	}
	return k
}

// TestKeywordOnly: a knowledge base with no embedder syncs chunks without
// vectors and answers keyword searches (the default search type without an
// embedder), on disk, across a reopen.
func TestKeywordOnly(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx := context.Background()
	dir := t.TempDir()
	store, err := localindex.Open(localindex.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	k := keywordKB(t, store, kb.Options{})
	rep, err := k.Sync(ctx, bankSource())
	if err != nil {
		t.Fatal(err)
	}
	if rep.New != 4 || rep.Failed != 0 || rep.EmbedCalls != 0 || rep.Chunks == 0 {
		t.Fatalf("keyword-only sync: %+v; want 4 new documents, chunks indexed, no embedding call", rep)
	}
	for id, r := range dump(t, store, "") {
		if r.Vector != nil {
			t.Fatalf("record %s has a vector in a keyword-only knowledge base", id)
		}
	}
	check := func(k *kb.KnowledgeBase, opts ...kb.RetrieveOptions) {
		t.Helper()
		res, err := k.Retrieve(ctx, "How do I dispute a charge on my statement?", opts...)
		if err != nil {
			t.Fatalf("Retrieve %+v: %v", opts, err)
		}
		if len(res) == 0 || res[0].DocumentID != "mem:disputes.md" || res[0].Score <= 0 {
			t.Fatalf("Retrieve %+v: %+v; want disputes.md first with a BM25 score", opts, res)
		}
	}
	check(k)
	check(k, kb.RetrieveOptions{SearchType: kb.Keyword})
	check(k, kb.RetrieveOptions{Filter: kb.Equals("category", "support")})
	res, err := k.Retrieve(ctx, "dispute a charge", kb.RetrieveOptions{Filter: kb.Equals("category", "pricing")})
	if err != nil || len(res) != 0 {
		t.Fatalf("keyword search filtered to pricing: %+v, %v; want nothing (only disputes.md has the words)", res, err)
	}

	// Reopened from disk by a new process: the keyword index is rebuilt
	// from the vector-less records, and an unchanged folder costs nothing.
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	store, err = localindex.Open(localindex.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	k = keywordKB(t, store, kb.Options{})
	check(k)
	rep, err = k.Sync(ctx, bankSource())
	if err != nil || rep.Unchanged != 4 || rep.New+rep.Modified != 0 {
		t.Fatalf("second sync from disk: %+v, %v; want 4 unchanged", rep, err)
	}
	// A modified and a deleted document are reflected in keyword search.
	src := bankSource()
	src.set("disputes.md", "# Complaints\n\nWrite to the ombudsman.")
	src.remove("privacy.md")
	if rep, err = k.Sync(ctx, src); err != nil || rep.Modified != 1 || rep.Deleted != 1 {
		t.Fatalf("sync of a change: %+v, %v", rep, err)
	}
	if res, err := k.Retrieve(ctx, "ombudsman"); err != nil || len(res) != 1 || res[0].DocumentID != "mem:disputes.md" {
		t.Fatalf("modified document not searched: %+v, %v", res, err)
	}
	if res, err := k.Retrieve(ctx, "marketing e-mails personal data"); err != nil || len(res) != 0 {
		t.Fatalf("deleted document still searched: %+v, %v", res, err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestKeywordOnlyRefusesSemantic: semantic and hybrid search need an
// embedder; asking for them without one is an error that says so.
func TestKeywordOnlyRefusesSemantic(t *testing.T) {
	ctx := context.Background()
	k := keywordKB(t, openIndex(t, localindex.Options{}), kb.Options{})
	if _, err := k.Sync(ctx, bankSource()); err != nil {
		t.Fatal(err)
	}
	for _, st := range []kb.SearchType{kb.Semantic, kb.Hybrid} {
		_, err := k.Retrieve(ctx, "dispute", kb.RetrieveOptions{SearchType: st})
		if !errors.Is(err, kb.ErrNoEmbedder) || !errors.Is(err, bedrockkit.ErrInvalidInput) || !strings.Contains(err.Error(), "Options.Embedder") {
			t.Errorf("%s without an embedder: %v; want ErrNoEmbedder (ErrInvalidInput) naming Options.Embedder", st, err)
		}
		_, err = k.RetrieveAndGenerate(ctx, "dispute", kb.GenerateOptions{Retrieve: kb.RetrieveOptions{SearchType: st}})
		if !errors.Is(err, kb.ErrNoEmbedder) {
			t.Errorf("RetrieveAndGenerate %s without an embedder: %v", st, err)
		}
	}
	if _, err := kb.New(kb.Options{Store: openIndex(t, localindex.Options{}), EmbedderID: "amazon.titan-embed-text-v2:0"}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("EmbedderID without an Embedder: %v, want ErrInvalidInput", err)
	}
}

// TestKeywordOnlyAnswers: extractive answers without a model, generated and
// cited ones with a model, both without an embedder.
func TestKeywordOnlyAnswers(t *testing.T) {
	ctx := context.Background()
	store := openIndex(t, localindex.Options{})
	k := keywordKB(t, store, kb.Options{})
	if _, err := k.Sync(ctx, bankSource()); err != nil {
		t.Fatal(err)
	}
	ans, err := k.RetrieveAndGenerate(ctx, "How do I report a lost card?")
	if err != nil {
		t.Fatal(err)
	}
	if !ans.Extractive || !strings.Contains(ans.Text, "phone") || len(ans.Citations) == 0 {
		t.Fatalf("extractive keyword-only answer: %+v", ans)
	}
	checkCitations(t, store, "", ans)

	model := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Call us by phone at once [1]."))
	k = keywordKB(t, store, kb.Options{Model: model})
	ans, err = k.RetrieveAndGenerate(ctx, "How do I report a lost card?")
	if err != nil {
		t.Fatal(err)
	}
	if ans.Extractive || len(ans.Citations) != 1 || ans.Citations[0].Sources[0].URI != "mem:lost.md" {
		t.Fatalf("generated keyword-only answer: %+v", ans)
	}
	checkCitations(t, store, "", ans)
}

// TestKeywordOnlyHierarchical: with hierarchical chunking the children are
// searched (the parents are not embedded either) and returned as parents.
func TestKeywordOnlyHierarchical(t *testing.T) {
	ctx := context.Background()
	k := keywordKB(t, openIndex(t, localindex.Options{}), kb.Options{Chunker: chunk.Hierarchical{ParentMaxTokens: 120, ChildMaxTokens: 30, OverlapTokens: 1}})
	var b strings.Builder
	for i := range 40 {
		fmt.Fprintf(&b, "Sentence %d talks about topic %d of the manual. ", i, i%7)
	}
	if _, err := k.Sync(ctx, newMemSource(map[string]string{"manual.txt": b.String()})); err != nil {
		t.Fatal(err)
	}
	res, err := k.Retrieve(ctx, "Sentence 12 talks about topic 5", kb.RetrieveOptions{NumberOfResults: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 || !strings.Contains(res[0].Text, "Sentence 12 ") {
		t.Fatalf("top parent does not hold the matching child: %+v", res)
	}
	seen := map[string]bool{}
	for _, r := range res {
		if seen[r.ID] || len(r.Text) < 200 {
			t.Fatalf("result %s returned twice or is a child chunk (%d bytes)", r.ID, len(r.Text))
		}
		seen[r.ID] = true
	}
}

// TestKeywordOnlyToEmbedder: a keyword-only knowledge base given an
// embedder says to re-sync with ReEmbed, and after that searches by hybrid
// (the default with an embedder) and semantic search.
func TestKeywordOnlyToEmbedder(t *testing.T) {
	ctx := context.Background()
	store := openIndex(t, localindex.Options{})
	if _, err := keywordKB(t, store, kb.Options{}).Sync(ctx, bankSource()); err != nil {
		t.Fatal(err)
	}
	k := newKB(t, kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(64), EmbedderID: "hash"})
	var ec *kb.EmbedderChangedError
	_, err := k.Retrieve(ctx, "dispute a charge")
	if !errors.As(err, &ec) || !strings.Contains(err.Error(), "keyword-only") || !strings.Contains(err.Error(), "ReEmbed") {
		t.Fatalf("Retrieve with a new embedder over a keyword-only KB: %v; want an EmbedderChangedError saying to Sync with ReEmbed", err)
	}
	if _, err := k.Sync(ctx, bankSource()); !errors.As(err, &ec) || !errors.Is(err, kb.ErrEmbedderChanged) {
		t.Fatalf("Sync without ReEmbed: %v, want EmbedderChangedError", err)
	}
	rep, err := k.Sync(ctx, bankSource(), kb.SyncOptions{ReEmbed: true})
	if err != nil || rep.Modified != 4 || rep.EmbedCalls == 0 {
		t.Fatalf("Sync with ReEmbed: %+v, %v", rep, err)
	}
	for id, r := range dump(t, store, "") {
		if r.Vector == nil && id != "bedrockkit:kb-config" {
			t.Fatalf("record %s has no vector after the re-embed", id)
		}
	}
	for _, st := range []kb.SearchType{"", kb.Semantic, kb.Hybrid, kb.Keyword} {
		res, err := k.Retrieve(ctx, "How do I dispute a charge on my statement?", kb.RetrieveOptions{SearchType: st})
		if err != nil || len(res) == 0 || res[0].DocumentID != "mem:disputes.md" {
			t.Fatalf("%q after the re-embed: %+v, %v", st, res, err)
		}
	}
	// The default is hybrid again: its fused scores are reciprocal ranks.
	res, _ := k.Retrieve(ctx, "dispute a charge")
	if res[0].Score >= 1 {
		t.Fatalf("default search type with an embedder is not hybrid: score %v", res[0].Score)
	}
}

// TestEmbeddedToKeywordOnly: a knowledge base built with an embedder can be
// searched by keyword without one, but a Sync without one is refused
// unless ReEmbed rebuilds it keyword-only.
func TestEmbeddedToKeywordOnly(t *testing.T) {
	ctx := context.Background()
	store := openIndex(t, localindex.Options{})
	if _, err := newKB(t, kb.Options{Store: store}).Sync(ctx, bankSource()); err != nil {
		t.Fatal(err)
	}
	k := keywordKB(t, store, kb.Options{})
	res, err := k.Retrieve(ctx, "How do I dispute a charge on my statement?")
	if err != nil || len(res) == 0 || res[0].DocumentID != "mem:disputes.md" {
		t.Fatalf("keyword search without the embedder: %+v, %v", res, err)
	}
	var ec *kb.EmbedderChangedError
	_, err = k.Sync(ctx, bankSource())
	if !errors.As(err, &ec) || !strings.Contains(err.Error(), "without an embedder") {
		t.Fatalf("Sync without the embedder: %v; want an EmbedderChangedError saying no embedder is configured", err)
	}
	rep, err := k.Sync(ctx, bankSource(), kb.SyncOptions{ReEmbed: true})
	if err != nil || rep.Modified != 4 || rep.EmbedCalls != 0 {
		t.Fatalf("rebuild keyword-only: %+v, %v", rep, err)
	}
	for id, r := range dump(t, store, "") {
		if r.Vector != nil {
			t.Fatalf("record %s kept its vector after the keyword-only rebuild", id)
		}
	}
	if _, err := k.Retrieve(ctx, "dispute"); err != nil {
		t.Fatal(err)
	}
}
