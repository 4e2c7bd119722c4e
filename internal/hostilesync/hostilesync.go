// Package hostilesync checks that a knowledge base syncs a folder of good
// documents next to hostile ones (internal/hostiledoc.WriteFolder):
// every good document indexed and found, every hostile one failed alone
// with the error of its class, and the Sync itself finished. The test of
// kb/pdf runs it in-process; internal/cmd/hostilesync runs it under an
// address-space limit in CI (.ci/hostile.sh).
package hostilesync

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/internal/hostiledoc"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
	"github.com/bedrockkit/bedrockkit/kb/pdf"
)

// Options configure Run.
type Options struct {
	// Dir is the folder to write the documents into; it should be empty.
	Dir string
	// PDF loads the PDFs; Run closes it. With Small, give it
	// hostiledoc.SmallMaxMemoryBytes.
	PDF *pdf.Loader
	// Small writes the reduced hostile files and syncs them under
	// hostiledoc's small limits (for the race detector); otherwise the
	// files are full size and the limits the defaults.
	Small bool
}

// Result is what Run found.
type Result struct {
	Report *kb.SyncReport
	Files  []hostiledoc.File
}

// want maps an outcome to the error it must wrap.
var want = map[hostiledoc.Outcome]error{
	hostiledoc.Malformed:    kb.ErrMalformedDocument,
	hostiledoc.TooComplex:   kb.ErrTooComplex,
	hostiledoc.TextTooLarge: kb.ErrTextTooLarge,
	hostiledoc.OutOfMemory:  kb.ErrLoadMemory,
}

// Run writes the folder, syncs it into an in-memory index with the hash
// embedder and checks every document. The error lists every mismatch.
func Run(ctx context.Context, opts Options) (*Result, error) {
	defer opts.PDF.Close()
	files, err := hostiledoc.WriteFolder(opts.Dir, opts.Small)
	if err != nil {
		return nil, err
	}
	store, err := localindex.Open(localindex.Options{})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	loaders := kb.DefaultLoaders()
	loaders["pdf"] = opts.PDF
	cfg := kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(64), Loaders: loaders}
	if opts.Small {
		cfg.MaxTextBytes = hostiledoc.SmallMaxTextBytes
		loaders["docx"] = kb.DOCXLoader{MaxElements: hostiledoc.SmallMaxElements, MaxXMLBytes: hostiledoc.SmallMaxXMLBytes}
	}
	base, err := kb.New(cfg)
	if err != nil {
		return nil, err
	}
	rep, err := base.Sync(ctx, kb.NewDirSource(opts.Dir))
	res := &Result{Report: rep, Files: files}
	if err != nil {
		return res, fmt.Errorf("the Sync failed: %w", err)
	}
	failures := map[string]error{}
	for _, f := range rep.Failures {
		failures[strings.TrimPrefix(f.URI, "file:")] = f
	}
	var problems []string
	good, bad := 0, 0
	for _, f := range files {
		got := failures[f.Name]
		if f.Outcome == hostiledoc.Indexed {
			good++
			if got != nil {
				problems = append(problems, fmt.Sprintf("%s: a good document failed: %v", f.Name, got))
				continue
			}
			found, err := base.Retrieve(ctx, f.Phrase, kb.RetrieveOptions{NumberOfResults: 3, SearchType: kb.Keyword})
			if err != nil {
				return res, err
			}
			if len(found) == 0 || found[0].Location.URI != "file:"+f.Name {
				problems = append(problems, fmt.Sprintf("%s: a search for %q does not find it first", f.Name, f.Phrase))
			}
			continue
		}
		bad++
		if w := want[f.Outcome]; !errors.Is(got, w) {
			problems = append(problems, fmt.Sprintf("%s: got %v, want an error wrapping %v", f.Name, got, w))
		}
	}
	if rep.New != good || rep.Failed != bad {
		problems = append(problems, fmt.Sprintf("report: %d new and %d failed, want %d and %d", rep.New, rep.Failed, good, bad))
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return res, errors.New("hostilesync: " + strings.Join(problems, "\n"))
	}
	return res, nil
}
