package pgvector

import (
	"testing"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// The record in which a knowledge base keeps its configuration is not one
// of the user's documents: Documents leaves it out, Get still returns it.
func TestConfigRecordNotListed(t *testing.T) {
	s := open(t, Options{Dimensions: 2})
	if err := s.Upsert(ctx, []kbstore.Record{
		{ID: kbstore.ConfigRecordID, DocumentID: kbstore.ConfigRecordID, Metadata: map[string]any{"embedder": "x"}},
		{ID: "r", DocumentID: "d", Text: "t", Vector: []float32{1, 0}},
	}); err != nil {
		t.Fatal(err)
	}
	docs, err := s.Documents(ctx, "")
	if err != nil || len(docs) != 1 || docs[0].ID != "d" {
		t.Errorf("Documents = %+v, %v; want [d]", docs, err)
	}
	if cfg, err := s.Get(ctx, "", []string{kbstore.ConfigRecordID}); err != nil || len(cfg) != 1 {
		t.Errorf("Get of the config record = %+v, %v", cfg, err)
	}
}
