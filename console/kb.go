package console

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bedrockkit/bedrockkit/kb"
)

// Retriever is what the query playground searches: *kb.KnowledgeBase and
// kb/bedrockkb's *Retriever have this method.
type Retriever interface {
	Retrieve(ctx context.Context, query string, opts ...kb.RetrieveOptions) ([]kb.RetrievalResult, error)
}

// Syncer is what Sync runs: *kb.KnowledgeBase has this method.
type Syncer interface {
	Sync(ctx context.Context, src kb.Source, opts ...kb.SyncOptions) (*kb.SyncReport, error)
}

// kbRec is what the console knows of one knowledge base.
type kbRec struct {
	name           string
	r              Retriever
	syncs          []syncRec // oldest first
	droppedSyncs   int
	queries        []queryRec // oldest first
	droppedQueries int
}

type syncRec struct {
	at        time.Time
	partition string
	rep       kb.SyncReport
	failures  int // failures not kept
	err       error
}

type queryRec struct {
	at       time.Time
	source   string // "playground" or "program"
	query    string
	opts     kb.RetrieveOptions
	results  []kb.RetrievalResult
	duration time.Duration
	err      error
}

const maxKeptFailures = 200

func (c *Console) kbLocked(name string) *kbRec {
	k := c.kbs[name]
	if k == nil {
		k = &kbRec{name: name}
		c.kbs[name] = k
		c.kbOrder = append(c.kbOrder, name)
	}
	return k
}

// AddKnowledgeBase makes r searchable in the query playground under name
// (replacing any retriever added before under that name).
func (c *Console) AddKnowledgeBase(name string, r Retriever) {
	c.mu.Lock()
	c.kbLocked(name).r = r
	c.mu.Unlock()
	c.changed()
}

// Retriever adds r to the playground under name, as AddKnowledgeBase, and
// returns a Retriever that also records every query the program makes
// through it (query, options, results, time and error) for the knowledge
// base's page.
func (c *Console) Retriever(name string, r Retriever) Retriever {
	c.AddKnowledgeBase(name, r)
	return &recordingRetriever{c: c, name: name, next: r}
}

type recordingRetriever struct {
	c    *Console
	name string
	next Retriever
}

func (rr *recordingRetriever) Retrieve(ctx context.Context, query string, opts ...kb.RetrieveOptions) ([]kb.RetrievalResult, error) {
	start := time.Now()
	res, err := rr.next.Retrieve(ctx, query, opts...)
	rr.c.recordQuery(rr.name, "program", query, first(opts), res, time.Since(start), err)
	return res, err
}

// first returns the first of a call's optional settings, or the zero value.
// (The call itself refuses more than one.)
func first[T any](opts []T) T {
	var zero T
	if len(opts) > 0 {
		return opts[0]
	}
	return zero
}

func (c *Console) recordQuery(name, source, query string, opts kb.RetrieveOptions, res []kb.RetrievalResult, d time.Duration, err error) {
	q := queryRec{at: time.Now(), source: source, query: query, opts: opts, results: slices.Clone(res), duration: d, err: err}
	if len(q.results) > 100 {
		q.results = q.results[:100]
	}
	c.mu.Lock()
	k := c.kbLocked(name)
	k.queries = append(k.queries, q)
	if over := len(k.queries) - c.opts.MaxQueries; over > 0 {
		k.queries = slices.Delete(k.queries, 0, over)
		k.droppedQueries += over
	}
	c.mu.Unlock()
	c.changed()
}

// Sync runs k.Sync(ctx, src, opts) and records its report (or error) in the
// history of the knowledge base name. When k also has Retrieve and no
// retriever was added under name, k is added to the playground. The report
// and error are k.Sync's.
func (c *Console) Sync(ctx context.Context, name string, k Syncer, src kb.Source, opts ...kb.SyncOptions) (*kb.SyncReport, error) {
	start := time.Now()
	rep, err := k.Sync(ctx, src, opts...)
	c.recordSync(name, start, first(opts), rep, err)
	if r, ok := k.(Retriever); ok {
		c.mu.Lock()
		if rec := c.kbLocked(name); rec.r == nil {
			rec.r = r
		}
		c.mu.Unlock()
	}
	return rep, err
}

// RecordSync records the outcome of a Sync the program ran itself in the
// history of the knowledge base name.
func (c *Console) RecordSync(name string, opts kb.SyncOptions, rep *kb.SyncReport, err error) {
	start := time.Now()
	if rep != nil {
		start = start.Add(-rep.Duration)
	}
	c.recordSync(name, start, opts, rep, err)
}

func (c *Console) recordSync(name string, start time.Time, opts kb.SyncOptions, rep *kb.SyncReport, err error) {
	s := syncRec{at: start, partition: opts.Partition, err: err}
	if rep != nil {
		s.rep = *rep
		if n := len(rep.Failures); n > maxKeptFailures {
			s.rep.Failures = slices.Clone(rep.Failures[:maxKeptFailures])
			s.failures = n - maxKeptFailures
		} else {
			s.rep.Failures = slices.Clone(rep.Failures)
		}
		s.failures += rep.FailuresOmitted
	}
	c.mu.Lock()
	k := c.kbLocked(name)
	k.syncs = append(k.syncs, s)
	if over := len(k.syncs) - c.opts.MaxSyncs; over > 0 {
		k.syncs = slices.Delete(k.syncs, 0, over)
		k.droppedSyncs += over
	}
	c.mu.Unlock()
	c.changed()
}

// Views.

type kbSummary struct {
	Name, LastSync, Stats string
	Syncs, Queries        int
	Playground            bool
	Failed                bool
}

type syncView struct {
	At                                                  string
	Partition                                           string
	Scanned, New, Modified, Deleted, Unchanged, Skipped int
	Failed, Chunks, EmbedCalls                          int
	Duration                                            string
	OverLimit                                           string
	Err                                                 string
	Failures                                            []string
	MoreFailures                                        int
}

type queryView struct {
	At, Source, Query, SearchType, Partition, Filter string
	N                                                int
	Duration                                         string
	Err                                              string
	Results                                          []resultView
}

type resultView struct {
	Rank                   int
	ID, DocumentID         string
	Score                  string // shown
	ScoreExact             string // every digit, for comparisons
	LocationType, Location string
	Text                   textField
	Metadata               []kv
}

func (c *Console) kbSummaries(ctx context.Context) []kbSummary {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []kbSummary
	for _, name := range c.kbOrder {
		k := c.kbs[name]
		s := kbSummary{Name: name, Syncs: len(k.syncs) + k.droppedSyncs, Queries: len(k.queries) + k.droppedQueries, Playground: k.r != nil}
		if n := len(k.syncs); n > 0 {
			last := k.syncs[n-1]
			s.LastSync = last.at.Format(time.DateTime)
			r := last.rep
			s.Stats = fmt.Sprintf("scanned %d, new %d, modified %d, deleted %d, unchanged %d, skipped %d, failed %d", r.Scanned, r.New, r.Modified, r.Deleted, r.Unchanged, r.Skipped, r.Failed)
			s.Failed = last.err != nil || r.Failed > 0
		}
		out = append(out, s)
	}
	return out
}

func (c *Console) syncViews(ctx context.Context, k *kbRec) []syncView {
	var out []syncView
	for i := len(k.syncs) - 1; i >= 0; i-- {
		s := k.syncs[i]
		r := s.rep
		v := syncView{At: s.at.Format(time.DateTime), Partition: c.label(ctx, s.partition), Scanned: r.Scanned, New: r.New,
			Modified: r.Modified, Deleted: r.Deleted, Unchanged: r.Unchanged, Skipped: r.Skipped, Failed: r.Failed,
			Chunks: r.Chunks, EmbedCalls: r.EmbedCalls, Duration: fmtDur(r.Duration), Err: c.errText(ctx, s.err), MoreFailures: s.failures}
		l := r.OverLimit
		if l.Size+l.Text+l.Structure+l.Memory+l.Time > 0 {
			v.OverLimit = fmt.Sprintf("over limits: size %d, text %d, structure %d, memory %d, time %d", l.Size, l.Text, l.Structure, l.Memory, l.Time)
		}
		for _, f := range r.Failures {
			v.Failures = append(v.Failures, c.field(ctx, f.Error()).Text)
		}
		out = append(out, v)
	}
	return out
}

func (c *Console) queryView(ctx context.Context, q queryRec) queryView {
	v := queryView{At: q.at.Format(time.DateTime), Source: q.source, Query: c.field(ctx, q.query).Text,
		SearchType: string(q.opts.SearchType), Partition: c.label(ctx, q.opts.Partition), N: q.opts.NumberOfResults,
		Duration: fmtDur(q.duration), Err: c.errText(ctx, q.err)}
	if v.SearchType == "" {
		v.SearchType = string(kb.Hybrid) + " (default)"
	}
	if !q.opts.Filter.IsZero() {
		if b, err := json.Marshal(q.opts.Filter); err == nil {
			v.Filter = c.field(ctx, string(b)).Text
		}
	}
	for i, r := range q.results {
		v.Results = append(v.Results, c.resultView(ctx, i+1, r))
	}
	return v
}

func (c *Console) resultView(ctx context.Context, rank int, r kb.RetrievalResult) resultView {
	v := resultView{Rank: rank, ID: c.label(ctx, r.ID), DocumentID: c.label(ctx, r.DocumentID),
		Score: strconv.FormatFloat(r.Score, 'f', 4, 64), ScoreExact: strconv.FormatFloat(r.Score, 'g', -1, 64),
		LocationType: r.Location.Type, Location: c.label(ctx, r.Location.URI), Text: c.field(ctx, r.Text)}
	for _, key := range slices.Sorted(maps.Keys(r.Metadata)) {
		val, err := json.Marshal(r.Metadata[key])
		s := string(val)
		if err != nil {
			s = fmt.Sprint(r.Metadata[key])
		}
		v.Metadata = append(v.Metadata, kv{c.label(ctx, key), c.field(ctx, s).Text})
	}
	return v
}

// playgroundForm is the query playground's form, as sent.
type playgroundForm struct {
	Query, SearchType, Partition, Filter string
	N                                    string
}

// parse checks the form and builds Retrieve's options.
func (f playgroundForm) parse() (string, kb.RetrieveOptions, error) {
	q := strings.TrimSpace(f.Query)
	if q == "" {
		return "", kb.RetrieveOptions{}, fmt.Errorf("console: the query is empty; type what to search for")
	}
	if len(f.Query) > 8<<10 {
		return "", kb.RetrieveOptions{}, fmt.Errorf("console: the query is %d bytes; the playground takes up to 8 KiB", len(f.Query))
	}
	opts := kb.RetrieveOptions{Partition: strings.TrimSpace(f.Partition)}
	switch st := kb.SearchType(f.SearchType); st {
	case kb.Hybrid, kb.Semantic, kb.Keyword:
		opts.SearchType = st
	case "":
	default:
		return "", kb.RetrieveOptions{}, fmt.Errorf("console: search type %q is unknown; choose HYBRID, SEMANTIC or KEYWORD", f.SearchType)
	}
	if s := strings.TrimSpace(f.N); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return "", kb.RetrieveOptions{}, fmt.Errorf("console: number of results %q must be 1 to 100", s)
		}
		opts.NumberOfResults = n
	}
	if s := strings.TrimSpace(f.Filter); s != "" {
		var flt kb.Filter
		if err := json.Unmarshal([]byte(s), &flt); err != nil {
			return "", kb.RetrieveOptions{}, fmt.Errorf("console: the filter is not a Bedrock RetrievalFilter (e.g. {\"equals\":{\"key\":\"type\",\"value\":\"faq\"}}): %w", err)
		}
		opts.Filter = flt
	}
	return f.Query, opts, nil
}
