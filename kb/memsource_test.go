package kb_test

import (
	"context"
	"errors"
	"io"
	"iter"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
)

// memSource is a test Source over a map of name -> content, listed in
// name order. Names containing "!" fail to open.
type memSource struct {
	mu    sync.Mutex
	files map[string]string
	meta  map[string]map[string]any
	err   error // ends the listing after the files when set
}

func newMemSource(files map[string]string) *memSource {
	m := &memSource{files: map[string]string{}, meta: map[string]map[string]any{}}
	for k, v := range files {
		m.files[k] = v
	}
	return m
}

func (m *memSource) set(name, text string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[name] = text
}

func (m *memSource) remove(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, name)
}

func (m *memSource) Items(ctx context.Context) iter.Seq2[kb.SourceItem, error] {
	m.mu.Lock()
	names := make([]string, 0, len(m.files))
	for n := range m.files {
		names = append(names, n)
	}
	files := map[string]string{}
	for k, v := range m.files {
		files[k] = v
	}
	m.mu.Unlock()
	sort.Strings(names)
	return func(yield func(kb.SourceItem, error) bool) {
		for _, n := range names {
			text := files[n]
			it := kb.SourceItem{URI: "mem:" + n, Name: n, Size: int64(len(text)), Metadata: m.meta[n]}
			it.Open = func(context.Context) (io.ReadCloser, error) {
				if strings.Contains(n, "!") {
					return nil, errors.New("permission denied")
				}
				return io.NopCloser(strings.NewReader(text)), nil
			}
			if !yield(it, nil) {
				return
			}
		}
		if m.err != nil {
			yield(kb.SourceItem{}, m.err)
		}
	}
}

// countingEmbedder counts Embed calls and texts, and can fail.
type countingEmbedder struct {
	*bedrockkittest.HashEmbedder
	calls, texts atomic.Int64
	failNext     atomic.Int64 // fail this many calls with ErrThrottled
	mu           sync.Mutex
	seen         []string
}

func newCounting(dims int) *countingEmbedder {
	return &countingEmbedder{HashEmbedder: bedrockkittest.NewHashEmbedder(dims)}
}

func (e *countingEmbedder) Embed(ctx context.Context, texts []string, p bedrockkit.Purpose) ([][]float32, error) {
	e.calls.Add(1)
	if e.failNext.Add(-1) >= 0 {
		return nil, bedrockkit.ErrThrottled
	}
	e.failNext.Store(0)
	e.texts.Add(int64(len(texts)))
	if p == bedrockkit.PurposeDocument {
		e.mu.Lock()
		e.seen = append(e.seen, texts...)
		e.mu.Unlock()
	}
	return e.HashEmbedder.Embed(ctx, texts, p)
}

func (e *countingEmbedder) reset() {
	e.calls.Store(0)
	e.texts.Store(0)
	e.mu.Lock()
	e.seen = nil
	e.mu.Unlock()
}
