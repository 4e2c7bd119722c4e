package kb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"path"
	"slices"
	"sync"

	"github.com/bedrockkit/bedrockkit"
)

// MemoryDocument is a document held in memory by a MemorySource.
type MemoryDocument struct {
	// URI identifies the document, such as "mem:faq.md". Required.
	URI string
	// Name chooses the loader by its extension; "" means the last element
	// of URI ("faq.md").
	Name string
	// Data is the document's bytes.
	Data []byte
	// Metadata holds the document's attributes (string, float64, bool or
	// []string values), as a sidecar would.
	Metadata map[string]any
}

// MemorySource is a Source of documents held in memory, listed in URI
// order. Put and Delete change it between syncs, which makes it handy for
// tests and for content that does not live in files. The zero value is an
// empty source ready to use; it is safe for concurrent use.
type MemorySource struct {
	mu   sync.RWMutex
	docs map[string]MemoryDocument
	bad  error // documents NewMemorySource refused; Items fails with it
}

// NewMemorySource returns a MemorySource holding docs. A document it cannot
// hold (one without a URI) is not added, and listing the source (Items,
// hence Sync) fails with the reason, wrapping bedrockkit.ErrInvalidInput,
// as listing a NewDirSource whose folder is missing does; Put reports the
// error at once.
func NewMemorySource(docs ...MemoryDocument) *MemorySource {
	s := &MemorySource{}
	var errs []error
	for _, d := range docs {
		if err := s.Put(d); err != nil {
			errs = append(errs, err)
		}
	}
	s.bad = errors.Join(errs...)
	return s
}

// Put adds the document, or replaces the one with the same URI. Data and
// Metadata are copied.
func (s *MemorySource) Put(doc MemoryDocument) error {
	if doc.URI == "" {
		return fmt.Errorf("kb: MemoryDocument.URI is empty; give every document a stable URI: %w", bedrockkit.ErrInvalidInput)
	}
	if doc.Name == "" {
		doc.Name = path.Base(doc.URI)
	}
	doc.Data = bytes.Clone(doc.Data)
	if doc.Metadata != nil {
		doc.Metadata = maps.Clone(doc.Metadata)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.docs == nil {
		s.docs = map[string]MemoryDocument{}
	}
	s.docs[doc.URI] = doc
	return nil
}

// Delete removes the document with the URI and reports whether it was
// there.
func (s *MemorySource) Delete(uri string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.docs[uri]
	delete(s.docs, uri)
	return ok
}

// Len returns the number of documents.
func (s *MemorySource) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.docs)
}

// Items implements Source. It lists a snapshot taken when iteration
// starts, in URI order.
func (s *MemorySource) Items(ctx context.Context) iter.Seq2[SourceItem, error] {
	return func(yield func(SourceItem, error) bool) {
		if s.bad != nil {
			yield(SourceItem{}, s.bad)
			return
		}
		s.mu.RLock()
		docs := slices.SortedFunc(maps.Values(s.docs), func(a, b MemoryDocument) int {
			switch {
			case a.URI < b.URI:
				return -1
			case a.URI > b.URI:
				return 1
			}
			return 0
		})
		s.mu.RUnlock()
		for _, d := range docs {
			if err := ctx.Err(); err != nil {
				yield(SourceItem{}, err)
				return
			}
			data := d.Data
			item := SourceItem{
				URI:      d.URI,
				Name:     d.Name,
				Size:     int64(len(data)),
				Metadata: d.Metadata,
				Open: func(ctx context.Context) (io.ReadCloser, error) {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
					return io.NopCloser(bytes.NewReader(data)), nil
				},
			}
			if !yield(item, nil) {
				return
			}
		}
	}
}
