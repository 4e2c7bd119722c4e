package kbstore_test

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// mapStore is a minimal Store: records in a map, searched by brute force.
// It is single-tenant and has no durability.
type mapStore struct {
	mu     sync.RWMutex
	recs   map[[2]string]kbstore.Record // (partition, ID)
	closed bool
}

func newMapStore() *mapStore { return &mapStore{recs: map[[2]string]kbstore.Record{}} }

func (s *mapStore) Upsert(ctx context.Context, records []kbstore.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Validate the whole batch first, so that it is stored all or nothing.
	valid := make([]kbstore.Record, len(records))
	for i, r := range records {
		v, err := kbstore.ValidateRecord(r, 0, false) // copies the record
		if err != nil {
			return err
		}
		valid[i] = v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return kbstore.ErrClosed
	}
	for _, r := range valid {
		s.recs[[2]string{r.Partition, r.ID}] = r
	}
	return nil
}

func (s *mapStore) DeleteDocuments(ctx context.Context, partition string, docs []string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, kbstore.ErrClosed
	}
	n := 0
	for k, r := range s.recs {
		if k[0] == partition && slices.Contains(docs, r.DocumentID) {
			delete(s.recs, k)
			n++
		}
	}
	return n, nil
}

func (s *mapStore) Search(ctx context.Context, q kbstore.Query) ([]kbstore.Hit, error) {
	if err := kbstore.ValidateQuery(q, 0, false); err != nil {
		return nil, err
	}
	var match *kbstore.CompiledFilter
	if !q.Filter.IsZero() {
		var err error
		if match, err = q.Filter.Compile(); err != nil {
			return nil, err
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, kbstore.ErrClosed
	}
	var hits []kbstore.Hit
	for k, r := range s.recs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// The filter is applied inside the scan, so the result is the
		// true top K of the matching records.
		if k[0] != q.Partition || len(r.Vector) != len(q.Vector) || (match != nil && !match.Match(r.Metadata)) {
			continue
		}
		h := kbstore.Hit{Record: kbstore.CloneRecord(r), Score: cosine(q.Vector, r.Vector)}
		if !q.WithVectors {
			h.Vector = nil
		}
		hits = append(hits, h)
	}
	slices.SortFunc(hits, func(a, b kbstore.Hit) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID))
	})
	return hits[:min(q.K, len(hits))], nil
}

func (s *mapStore) Get(ctx context.Context, partition string, ids []string) ([]kbstore.Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, kbstore.ErrClosed
	}
	var out []kbstore.Record
	for _, id := range ids {
		if r, ok := s.recs[[2]string{partition, id}]; ok {
			out = append(out, kbstore.CloneRecord(r))
		}
	}
	return out, nil
}

func (s *mapStore) Documents(ctx context.Context, partition string) ([]kbstore.DocumentInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, kbstore.ErrClosed
	}
	docs := map[string]kbstore.DocumentInfo{}
	for k, r := range s.recs {
		if k[0] != partition {
			continue
		}
		d, seen := docs[r.DocumentID]
		if !seen {
			d = kbstore.DocumentInfo{ID: r.DocumentID, Fingerprint: r.Fingerprint}
		} else if d.Fingerprint != r.Fingerprint {
			d.Fingerprint = "" // a partly replaced document: re-sync it
		}
		d.Records++
		docs[r.DocumentID] = d
	}
	return slices.SortedFunc(maps.Values(docs), func(a, b kbstore.DocumentInfo) int {
		return cmp.Compare(a.ID, b.ID)
	}), nil
}

func (s *mapStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

// letters is a toy embedder for the example: letter counts.
type letters struct{}

func (letters) Dimensions() int { return 26 }

func (letters) Embed(_ context.Context, texts []string, _ bedrockkit.Purpose) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, 26)
		v[0] = 0.01 // never the zero vector
		for _, c := range t {
			if c >= 'a' && c <= 'z' {
				v[c-'a']++
			}
		}
		out[i] = v
	}
	return out, nil
}

// A store written against this package serves a knowledge base: kb syncs
// documents into it and searches it by vector, with the filter applied
// inside the store's scan.
func Example() {
	ctx := context.Background()
	store := newMapStore()
	k, err := kb.New(kb.Options{Store: store, Embedder: letters{}, EmbedderID: "letters"})
	if err != nil {
		panic(err)
	}
	src := kb.NewMemorySource(
		kb.MemoryDocument{URI: "mem:zebra.txt", Data: []byte("zebras graze"), Metadata: map[string]any{"kind": "animal"}},
		kb.MemoryDocument{URI: "mem:oak.txt", Data: []byte("oak trees grow"), Metadata: map[string]any{"kind": "plant"}},
	)
	if _, err := k.Sync(ctx, src); err != nil {
		panic(err)
	}
	res, err := k.Retrieve(ctx, "zebra", kb.RetrieveOptions{
		SearchType: kb.Semantic,
		Filter:     kb.Equals("kind", "plant"),
	})
	if err != nil {
		panic(err)
	}
	for _, r := range res {
		fmt.Println(r.DocumentID, r.Text)
	}
	// Output:
	// mem:oak.txt oak trees grow
}
