package textindex_test

import (
	"testing"

	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/internal/textindex"
)

// The index reads the heading path under the key kb writes it.
func TestHeadingsKeyIsKbs(t *testing.T) {
	if textindex.HeadingsKey != kb.KeyHeadings {
		t.Fatalf("textindex.HeadingsKey %q, kb.KeyHeadings %q", textindex.HeadingsKey, kb.KeyHeadings)
	}
}
