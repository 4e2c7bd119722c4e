package kb

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// SearchType selects how Retrieve searches.
type SearchType string

// Search types. Bedrock has SEMANTIC and HYBRID; KEYWORD is BM25 alone.
const (
	// Hybrid fuses semantic and keyword results by reciprocal rank.
	Hybrid SearchType = "HYBRID"
	// Semantic searches by embedding similarity.
	Semantic SearchType = "SEMANTIC"
	// Keyword searches with BM25 over an English analyzer (or the store's
	// own text search when it implements kbstore.KeywordSearcher).
	Keyword SearchType = "KEYWORD"
)

// RetrieveOptions controls Retrieve. The zero value (or nil) asks for 5
// hybrid results from the default partition (keyword results without an
// embedder).
type RetrieveOptions struct {
	// Partition is the tenant searched.
	Partition string
	// NumberOfResults is how many results to return, 1 to 100; 0 means 5.
	// Hierarchical chunking can return fewer: children that share a parent
	// collapse into it, as in Bedrock.
	NumberOfResults int
	// SearchType is Hybrid (the default with an embedder), Semantic or
	// Keyword (the default without one; the others then fail with
	// ErrNoEmbedder).
	SearchType SearchType
	// Filter restricts the chunks searched by their metadata, for example
	// kb.Equals("type", "faq"). It is applied inside each search, never by
	// trimming results afterwards. The zero Filter means no filter.
	Filter Filter
	// SemanticWeight and KeywordWeight weigh the two rankings in hybrid
	// fusion; 0 means 1 for both. A weight must not be negative.
	SemanticWeight, KeywordWeight float64
	// RRFK is the reciprocal-rank-fusion constant k in 1/(k+rank); 0 means 60.
	RRFK int
	// Candidates is how many results each ranking contributes to hybrid
	// fusion or reranking; 0 means max(50, 2*NumberOfResults).
	Candidates int
	// Reranker, when set, reorders the candidates by its relevance scores.
	Reranker Reranker
}

// RetrievalResult is one retrieved chunk, shaped like Bedrock's
// KnowledgeBaseRetrievalResult.
type RetrievalResult struct {
	// ID is the chunk's record ID (the parent's for hierarchical chunks).
	ID string
	// DocumentID is the source document's URI.
	DocumentID string
	// Text is the chunk's content.
	Text string
	// Score is the relevance: cosine similarity for Semantic, BM25 for
	// Keyword, the fused reciprocal-rank score for Hybrid, or the
	// reranker's score. Higher is better.
	Score float64
	// Location is where the document came from.
	Location Location
	// Metadata holds the chunk's attributes, including the system keys
	// (KeySourceURI, KeyChunkID, KeyPageNumber when known).
	Metadata map[string]any
}

// Location is a document's origin, like Bedrock's RetrievalResultLocation.
type Location struct {
	// Type is "S3", "WEB" or "CUSTOM" (for a remote Bedrock knowledge
	// base also CONFLUENCE, SALESFORCE, SHAREPOINT, KENDRA, SQL, ...).
	Type string
	// URI is the document's URI.
	URI string
}

func locationOf(uri string) Location {
	switch {
	case strings.HasPrefix(uri, "s3://"):
		return Location{Type: "S3", URI: uri}
	case strings.HasPrefix(uri, "http://"), strings.HasPrefix(uri, "https://"):
		return Location{Type: "WEB", URI: uri}
	}
	return Location{Type: "CUSTOM", URI: uri}
}

// retrieval is RetrieveOptions with defaults applied and checked.
type retrieval struct {
	RetrieveOptions
	n, depth int
	filter   Filter
	match    *kbstore.CompiledFilter // filter, compiled for the keyword scan
}

// optionsOf returns the one options struct of a call, or the zero value
// when there is none. More than one is refused rather than silently
// dropping settings.
func optionsOf[T any](name string, opts []T) (T, error) {
	var zero T
	switch len(opts) {
	case 0:
		return zero, nil
	case 1:
		return opts[0], nil
	}
	return zero, invalid("%d %s passed; pass at most one (merge the settings into one struct)", len(opts), name)
}

func (k *KnowledgeBase) prepare(opts RetrieveOptions) (retrieval, error) {
	r := retrieval{RetrieveOptions: opts}
	if err := k.checkPartition(r.Partition); err != nil {
		return r, err
	}
	r.n = r.NumberOfResults
	if r.n == 0 {
		r.n = 5
	}
	if r.n < 1 || r.n > 100 {
		return r, invalid("NumberOfResults is %d; ask for 1 to 100 results (0 means 5)", r.NumberOfResults)
	}
	switch r.SearchType {
	case "":
		r.SearchType = Hybrid
		if k.cfg.Embedder == nil {
			r.SearchType = Keyword
		}
	case Hybrid, Semantic:
		if k.cfg.Embedder == nil {
			return r, fmt.Errorf("kb: SearchType %s needs an embedder; set Options.Embedder (for example bedrockkit.NewTitanEmbedder) and Sync once with ReEmbed, or search with kb.Keyword: %w", r.SearchType, ErrNoEmbedder)
		}
	case Keyword:
	default:
		return r, invalid("SearchType %q is unknown; use kb.Hybrid, kb.Semantic or kb.Keyword", r.SearchType)
	}
	if r.SemanticWeight < 0 || r.KeywordWeight < 0 {
		return r, invalid("hybrid weights must not be negative")
	}
	if r.SemanticWeight == 0 && r.KeywordWeight == 0 {
		r.SemanticWeight, r.KeywordWeight = 1, 1
	}
	if r.RRFK <= 0 {
		r.RRFK = 60
	}
	if r.Candidates < 0 {
		return r, invalid("Candidates is %d; use 0 for the default", r.Candidates)
	}
	r.depth = r.n
	if r.SearchType == Hybrid || r.Reranker != nil {
		r.depth = max(50, 2*r.n)
		if r.Candidates > 0 {
			r.depth = max(r.Candidates, r.n)
		}
	}
	if f, ok := r.combinedFilter(); ok {
		c, err := f.Compile()
		if err != nil {
			return r, err
		}
		f := c.Filter()
		r.filter, r.match = f, c
	}
	return r, nil
}

// combinedFilter returns the options' filter, and false when it is the zero
// Filter (no filter).
func (o RetrieveOptions) combinedFilter() (Filter, bool) {
	if o.Filter.IsZero() {
		return Filter{}, false
	}
	return o.Filter, true
}

// Retrieve returns the chunks most relevant to query, best first. opts, at
// most one, are the search's settings; none means the defaults.
func (k *KnowledgeBase) Retrieve(ctx context.Context, query string, opts ...RetrieveOptions) ([]RetrievalResult, error) {
	o, err := optionsOf("RetrieveOptions", opts)
	if err != nil {
		return nil, err
	}
	r, err := k.prepare(o)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(query) == "" {
		return nil, invalid("the query is empty")
	}
	return k.retrieve(ctx, query, r)
}

func (k *KnowledgeBase) retrieve(ctx context.Context, query string, r retrieval) ([]RetrievalResult, error) {
	if k.cfg.Embedder != nil {
		// Without an embedder only keyword search runs, which compares no
		// vectors: any recorded embedder will do.
		if err := k.checkEmbedder(ctx, r.Partition); err != nil {
			return nil, err
		}
	}
	p, err := k.part(ctx, r.Partition)
	if err != nil {
		return nil, err
	}
	var hits []kbstore.Hit
	switch r.SearchType {
	case Semantic:
		hits, err = k.semantic(ctx, query, r)
	case Keyword:
		hits, err = k.keyword(ctx, p, query, r)
	case Hybrid:
		var sem, kw []kbstore.Hit
		if sem, err = k.semantic(ctx, query, r); err == nil {
			if kw, err = k.keyword(ctx, p, query, r); err == nil {
				hits = fuse(sem, kw, r.SemanticWeight, r.KeywordWeight, r.RRFK)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	hits, err = k.parents(ctx, r.Partition, hits)
	if err != nil {
		return nil, err
	}
	if r.Reranker != nil && len(hits) > 0 {
		if hits, err = rerank(ctx, r.Reranker, query, hits); err != nil {
			return nil, err
		}
	}
	if len(hits) > r.n {
		hits = hits[:r.n]
	}
	out := make([]RetrievalResult, len(hits))
	for i, h := range hits {
		out[i] = RetrievalResult{ID: h.ID, DocumentID: h.DocumentID, Text: h.Text, Score: h.Score, Location: locationOf(h.DocumentID), Metadata: h.Metadata}
	}
	return out, nil
}

func (k *KnowledgeBase) semantic(ctx context.Context, query string, r retrieval) ([]kbstore.Hit, error) {
	var vecs [][]float32
	err := k.cfg.Retry.Do(ctx, func(ctx context.Context) error {
		var err error
		vecs, err = k.cfg.Embedder.Embed(ctx, []string{query}, bedrockkit.PurposeQuery)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("kb: embedding the query: %w", err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("kb: the embedder returned %d vectors for 1 query: %w", len(vecs), bedrockkit.ErrInvalidInput)
	}
	if isZero(vecs[0]) {
		return nil, nil // nothing to compare (e.g. a query of punctuation)
	}
	return k.cfg.Store.Search(ctx, kbstore.Query{Vector: vecs[0], K: r.depth, Filter: r.filter, Partition: r.Partition})
}

func isZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

func (k *KnowledgeBase) keyword(ctx context.Context, p *partition, query string, r retrieval) ([]kbstore.Hit, error) {
	if ks, ok := k.cfg.Store.(kbstore.KeywordSearcher); ok {
		return ks.SearchText(ctx, kbstore.TextQuery{Text: query, K: r.depth, Filter: r.filter, Partition: r.Partition})
	}
	var accept func(map[string]any) bool
	if r.match != nil {
		// Checked every 1,024 records: once ctx is done every record is
		// refused, so the scan ends at once (and the error is returned).
		n := 0
		accept = func(md map[string]any) bool {
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return false
			}
			return r.match.Match(md)
		}
	}
	found := p.keyword.Search(query, r.depth, accept)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, nil
	}
	ids := make([]string, len(found))
	for i, h := range found {
		ids[i] = h.ID
	}
	recs, err := k.cfg.Store.Get(ctx, r.Partition, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]kbstore.Record, len(recs))
	for _, rec := range recs {
		rec.Vector = nil
		byID[rec.ID] = rec
	}
	hits := make([]kbstore.Hit, 0, len(found))
	for _, h := range found {
		if rec, ok := byID[h.ID]; ok { // a record deleted meanwhile is skipped
			hits = append(hits, kbstore.Hit{Record: rec, Score: h.Score})
		}
	}
	return hits, nil
}

// fuse merges two rankings by weighted reciprocal-rank fusion.
func fuse(sem, kw []kbstore.Hit, ws, wk float64, rrfK int) []kbstore.Hit {
	score := map[string]float64{}
	rec := map[string]kbstore.Hit{}
	add := func(hits []kbstore.Hit, w float64) {
		for i, h := range hits {
			score[h.ID] += w / float64(rrfK+i+1)
			if _, ok := rec[h.ID]; !ok {
				rec[h.ID] = h
			}
		}
	}
	add(sem, ws)
	add(kw, wk)
	out := make([]kbstore.Hit, 0, len(rec))
	for id, h := range rec {
		h.Score = score[id]
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// parents replaces hierarchical child chunks by their parents, keeping the
// rank of the best child and dropping later children of the same parent.
func (k *KnowledgeBase) parents(ctx context.Context, part string, hits []kbstore.Hit) ([]kbstore.Hit, error) {
	var ids []string
	for _, h := range hits {
		if h.ParentID != "" {
			ids = append(ids, h.ParentID)
		}
	}
	if len(ids) == 0 {
		return hits, nil
	}
	recs, err := k.cfg.Store.Get(ctx, part, ids)
	if err != nil {
		return nil, err
	}
	parent := make(map[string]kbstore.Record, len(recs))
	for _, r := range recs {
		r.Vector = nil
		parent[r.ID] = r
	}
	seen := map[string]bool{}
	out := hits[:0]
	for _, h := range hits {
		if p, ok := parent[h.ParentID]; ok {
			h = kbstore.Hit{Record: p, Score: h.Score}
		}
		if seen[h.ID] {
			continue
		}
		seen[h.ID] = true
		out = append(out, h)
	}
	return out, nil
}
