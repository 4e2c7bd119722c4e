package main

import (
	"context"
	"io/fs"
	"testing"

	"github.com/bedrockkit/bedrockkit/guardrail"
)

// TestCorpusNotBlocked checks that the guardrail passes every policy document
// unchanged in both directions: the middleware also guards tool results, so a
// denied topic that matched the bank's own documents (fees.md mentions
// "investment accounts") would block the bank_policies search tool.
func TestCorpusNotBlocked(t *testing.T) {
	g, err := newGuard()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = fs.WalkDir(corpus, "corpus", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := corpus.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		for _, src := range []guardrail.Source{guardrail.SourceInput, guardrail.SourceOutput} {
			res, err := g.Assess(context.Background(), src, guardrail.Content{Text: string(b)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Action != guardrail.OutcomeNone {
				t.Errorf("%s %s: %s", p, src, describe(res))
			}
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walked %d corpus files: %v", n, err)
	}
}
