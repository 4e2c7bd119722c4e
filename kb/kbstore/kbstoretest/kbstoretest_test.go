package kbstoretest_test

import (
	"context"
	"math"
	"sort"
	"sync"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/kbstore/kbstoretest"
)

// refStore is the simplest correct Store: a map under a mutex and a full
// sort per query. The suite must pass on it, which checks the suite itself.
type refStore struct {
	mu     sync.Mutex
	dim    int
	part   bool
	closed bool
	recs   map[[2]string]kbstore.Record
}

func (s *refStore) check(ctx context.Context, partition string, checkPart bool) error {
	if s.closed {
		return kbstore.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if checkPart && s.part && partition == "" {
		return kbstore.ErrPartitionRequired
	}
	return nil
}

func (s *refStore) Upsert(ctx context.Context, recs []kbstore.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, "", false); err != nil {
		return err
	}
	valid := make([]kbstore.Record, len(recs))
	for i, r := range recs {
		v, err := kbstore.ValidateRecord(r, s.dim, s.part)
		if err != nil {
			return err
		}
		valid[i] = v
	}
	for _, r := range valid {
		s.recs[[2]string{r.Partition, r.ID}] = r
	}
	return nil
}

func (s *refStore) DeleteDocuments(ctx context.Context, partition string, docs []string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, partition, true); err != nil {
		return 0, err
	}
	n := 0
	for k, r := range s.recs {
		for _, d := range docs {
			if r.Partition == partition && r.DocumentID == d {
				delete(s.recs, k)
				n++
				break
			}
		}
	}
	return n, nil
}

func (s *refStore) Search(ctx context.Context, q kbstore.Query) ([]kbstore.Hit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, q.Partition, true); err != nil {
		return nil, err
	}
	if err := kbstore.ValidateQuery(q, s.dim, s.part); err != nil {
		return nil, err
	}
	var f kbstore.Filter
	if !q.Filter.IsZero() {
		n, _ := q.Filter.Normalize()
		f = n
	}
	var hits []kbstore.Hit
	for _, r := range s.recs {
		if r.Partition != q.Partition || r.Vector == nil || (!f.IsZero() && !f.Match(r.Metadata)) {
			continue
		}
		var dot, na, nb float64
		for i := range r.Vector {
			dot += float64(r.Vector[i]) * float64(q.Vector[i])
			na += float64(r.Vector[i]) * float64(r.Vector[i])
			nb += float64(q.Vector[i]) * float64(q.Vector[i])
		}
		h := kbstore.Hit{Record: kbstore.CloneRecord(r), Score: dot / math.Sqrt(na*nb)}
		if !q.WithVectors {
			h.Vector = nil
		}
		hits = append(hits, h)
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	if len(hits) > q.K {
		hits = hits[:q.K]
	}
	return hits, nil
}

func (s *refStore) Get(ctx context.Context, partition string, ids []string) ([]kbstore.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, partition, true); err != nil {
		return nil, err
	}
	var out []kbstore.Record
	for _, id := range ids {
		if r, ok := s.recs[[2]string{partition, id}]; ok {
			out = append(out, kbstore.CloneRecord(r))
		}
	}
	return out, nil
}

func (s *refStore) Documents(ctx context.Context, partition string) ([]kbstore.DocumentInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, partition, true); err != nil {
		return nil, err
	}
	docs := map[string]*kbstore.DocumentInfo{}
	for _, r := range s.recs {
		if r.Partition != partition {
			continue
		}
		d := docs[r.DocumentID]
		if d == nil {
			d = &kbstore.DocumentInfo{ID: r.DocumentID, Fingerprint: r.Fingerprint}
			docs[r.DocumentID] = d
		} else if d.Fingerprint != r.Fingerprint {
			d.Fingerprint = ""
		}
		d.Records++
	}
	out := make([]kbstore.DocumentInfo, 0, len(docs))
	for _, d := range docs {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s *refStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func TestReferenceStore(t *testing.T) {
	kbstoretest.Run(t, func(t *testing.T, cfg kbstoretest.Config) kbstore.Store {
		s := &refStore{dim: cfg.Dimensions, part: cfg.RequirePartition, recs: map[[2]string]kbstore.Record{}}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
