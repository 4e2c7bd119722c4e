package chromem

import (
	"context"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// The record in which a knowledge base keeps its configuration is not one
// of the user's: Len and Documents leave it out, Get still returns it,
// before and after a reopen.
func TestConfigRecordNotListed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(ctx, []kbstore.Record{
		{ID: kbstore.ConfigRecordID, DocumentID: kbstore.ConfigRecordID, Metadata: map[string]any{"embedder": "x"}},
		{ID: "r", DocumentID: "d", Text: "t", Vector: []float32{1, 0}},
	}); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store, when string) {
		t.Helper()
		docs, err := s.Documents(ctx, "")
		if err != nil || s.Len() != 1 || len(docs) != 1 || docs[0].ID != "d" {
			t.Errorf("%s: Len = %d, Documents = %+v, %v; want 1 and [d]", when, s.Len(), docs, err)
		}
		if cfg, err := s.Get(ctx, "", []string{kbstore.ConfigRecordID}); err != nil || len(cfg) != 1 {
			t.Errorf("%s: Get of the config record = %+v, %v", when, cfg, err)
		}
	}
	check(s, "open")
	s.Close()
	s2, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	check(s2, "reopened")
}
