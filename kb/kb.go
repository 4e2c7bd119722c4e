package kb

import (
	"context"
	"fmt"
	"path"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/kb/internal/textindex"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// Options configures a KnowledgeBase. Store is required; every other field
// has a default.
type Options struct {
	// Store holds the chunk records: kb/localindex is the embedded default;
	// kb/pgvector, kb/chromem and others implement kbstore.Store too.
	Store kbstore.Store
	// Embedder embeds chunks and queries. One knowledge base uses one
	// embedding model: Sync records it and refuses a different one.
	//
	// Nil means a keyword-only knowledge base: Sync stores chunks without
	// vectors, Retrieve searches with BM25 (SearchType Keyword, the default
	// without an embedder; Semantic and Hybrid fail with ErrNoEmbedder) and
	// RetrieveAndGenerate answers from those passages. To switch to hybrid
	// search later, set an Embedder and Sync once with ReEmbed.
	Embedder bedrockkit.Embedder
	// EmbedderID names the embedding model, for example
	// "amazon.titan-embed-text-v2:0". It is recorded with the data and
	// compared on every Sync and Retrieve. Default: the embedder's
	// ModelID() when it has that method (bedrockkit.TitanEmbedder and
	// CohereEmbedder do), else its Go type and dimensions, which tells
	// models of different types or sizes apart but not two models of the
	// same type. Leave it empty without an Embedder.
	EmbedderID string
	// Chunker splits documents; default chunk.Default{} (Bedrock's default
	// chunking, about 300 tokens). Changing it re-chunks documents only when
	// they change; set ReEmbed on a Sync to redo everything.
	Chunker chunk.Chunker
	// Loaders maps a lower-case file extension without the dot ("md") to
	// its Loader. Nil means DefaultLoaders() (txt, md, html, csv, json,
	// docx, ...); PDF needs the loader of kb/pdf.
	Loaders map[string]Loader
	// Model answers RetrieveAndGenerate. Nil means extractive answers: the
	// best supporting sentences of the retrieved passages, cited, with
	// Answer.Extractive set.
	Model bedrockkit.Model
	// RequirePartition makes every Sync and Retrieve name a partition
	// (tenant); one without fails with kbstore.ErrPartitionRequired before
	// the store is touched.
	RequirePartition bool

	// BatchSize is how many chunks one Embed call carries. Default 16;
	// Bedrock's Titan v2 takes one text per request (bedrockkit's Titan
	// embedder fans out itself), Cohere v3 up to 96.
	BatchSize int
	// Concurrency is how many Embed calls run at once. Default 4.
	Concurrency int
	// RequestsPerMinute limits Embed calls; 0 means no limit.
	RequestsPerMinute int
	// Retry controls retries of Embed calls that fail with a retryable
	// error (bedrockkit.IsRetryable), through bedrockkit.RetryPolicy.Do:
	// exponential backoff with full jitter, never waiting past the
	// context's deadline. Zero means 5 attempts from 200 ms.
	Retry bedrockkit.RetryPolicy
	// MaxDocumentBytes is the largest document Sync reads; larger ones fail
	// alone with ErrTooLarge. Default 50 MiB (Bedrock's limit).
	MaxDocumentBytes int64
	// MaxTextBytes bounds the text a Loader may extract from one document
	// (LoadLimits.MaxTextBytes, passed to every Load); a document over it
	// fails alone with ErrTextTooLarge. Default DefaultMaxTextBytes (32
	// MiB).
	MaxTextBytes int64
	// LoadTimeout bounds the time one document may take to load; past it
	// the Loader's context is cancelled and the document fails alone with
	// ErrLoadTimeout. Default 1 minute; negative means no limit. Loaders
	// must honour their context for it to bite (the built-in ones and
	// kb/pdf do).
	LoadTimeout time.Duration
	// Keyword sets the BM25 parameters of keyword search; a zero field takes
	// its default (k1=0.9, b=0.4, Anserini's; on SciFact's train split the
	// six settings tried, k1 0.7-1.5 and b 0.3-0.75, all scored nDCG@10
	// within 0.005 of it).
	Keyword BM25Params
}

// DefaultLoadTimeout is the default of Options.LoadTimeout.
const DefaultLoadTimeout = time.Minute

// BM25Params are the Okapi BM25 parameters of keyword search.
type BM25Params struct {
	// K1 controls term-frequency saturation (default 0.9).
	K1 float64
	// B controls document-length normalisation, up to 1 (default 0.4). For
	// none, use a tiny value such as 1e-9: zero means the default.
	B float64
}

// KnowledgeBase ingests documents into a Store and answers queries with
// semantic, keyword or hybrid retrieval and with cited answers. It is safe
// for concurrent use; Syncs of the same partition are serialised.
type KnowledgeBase struct {
	cfg Options
	// embedderID is the identity recorded with the data ("ID/dimensions",
	// or noEmbedder); modelID the model ID alone, for SyncReport. legacyID
	// is the identity older versions recorded for an embedder whose ID now
	// comes from its ModelID ("Go type/dimensions"): data built with it is
	// accepted as built with this embedder.
	embedderID, modelID, legacyID string

	mu         sync.Mutex
	parts      map[string]*partition
	syncLock   map[string]*sync.Mutex
	embedderOK map[string]bool // partitions whose recorded embedder matched
}

// partition is the per-tenant state: the keyword index (built from the
// store on first use) and the checked embedder identity.
type partition struct {
	once    sync.Once
	err     error
	keyword *textindex.Index // nil when the store searches text itself
}

// Errors of the knowledge base.
var (
	// ErrEmbedderChanged: the partition was synced with a different
	// embedding model or dimension, or without an embedder. Sync with
	// ReEmbed (into a store that accepts the new dimension) or use the
	// original embedder.
	ErrEmbedderChanged = fmt.Errorf("kb: embedding model differs from the one this knowledge base was built with: %w", bedrockkit.ErrInvalidInput)
	// ErrNoEmbedder: semantic or hybrid search was asked of a knowledge
	// base without an embedder. Set Options.Embedder (and Sync with ReEmbed
	// once), or search with kb.Keyword.
	ErrNoEmbedder = fmt.Errorf("kb: no embedder is configured: %w", bedrockkit.ErrInvalidInput)
)

// EmbedderChangedError says which embedder the data was built with.
type EmbedderChangedError struct {
	// Stored and Configured are the embedder identities ("ID/dimensions",
	// or "keyword-only" for a knowledge base without an embedder).
	Stored, Configured string
}

// Error says what to do.
func (e *EmbedderChangedError) Error() string {
	switch {
	case e.Stored == noEmbedder:
		return fmt.Sprintf("kb: this knowledge base was built keyword-only (without an embedder) but is configured with %s; Sync once with ReEmbed to embed every document, after which hybrid and semantic search work (or leave Options.Embedder nil to keep searching by keyword)", e.Configured)
	case e.Configured == noEmbedder:
		return fmt.Sprintf("kb: this knowledge base was embedded with %s but is configured without an embedder; keyword search still works, but Sync needs the same embedder (or ReEmbed, which rebuilds it keyword-only and drops the vectors)", e.Stored)
	}
	return fmt.Sprintf("kb: this knowledge base was embedded with %s but is configured with %s; use the same embedder, or Sync with ReEmbed to re-embed every document (a new dimension also needs a new store)", e.Stored, e.Configured)
}

// Unwrap returns ErrEmbedderChanged.
func (e *EmbedderChangedError) Unwrap() error { return ErrEmbedderChanged }

// New returns a knowledge base over cfg.Store. It does not read the store;
// each partition is checked and its keyword index built on first use.
func New(cfg Options) (*KnowledgeBase, error) {
	if cfg.Store == nil {
		return nil, invalid("Options.Store is nil; use localindex.Open(localindex.Options{}) for an embedded store")
	}
	ids, err := embedderIdentity(cfg)
	if err != nil {
		return nil, err
	}
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	return &KnowledgeBase{
		cfg:        cfg,
		embedderID: ids.identity,
		modelID:    ids.model,
		legacyID:   ids.legacy,
		parts:      map[string]*partition{},
		syncLock:   map[string]*sync.Mutex{},
		embedderOK: map[string]bool{},
	}, nil
}

// withDefaults checks cfg's settings and fills in the defaults.
func (cfg *Options) withDefaults() error {
	if cfg.Chunker == nil {
		cfg.Chunker = chunk.Default{}
	}
	if cfg.Loaders == nil {
		cfg.Loaders = DefaultLoaders()
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 16
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.RequestsPerMinute < 0 {
		return invalid("Options.RequestsPerMinute is %d; use 0 for no limit", cfg.RequestsPerMinute)
	}
	if cfg.MaxDocumentBytes <= 0 {
		cfg.MaxDocumentBytes = 50 << 20
	}
	if cfg.MaxTextBytes <= 0 {
		cfg.MaxTextBytes = DefaultMaxTextBytes
	}
	if cfg.LoadTimeout == 0 {
		cfg.LoadTimeout = DefaultLoadTimeout
	}
	if cfg.Keyword.B < 0 || cfg.Keyword.B > 1 || cfg.Keyword.K1 < 0 {
		return invalid("Options.Keyword: k1 must be >= 0 and b within 0..1 (got k1=%v b=%v)", cfg.Keyword.K1, cfg.Keyword.B)
	}
	return nil
}

// noEmbedder is the embedder identity recorded by a keyword-only knowledge
// base. Real identities always hold a "/" (ID/dimensions).
const noEmbedder = "keyword-only"

// embedderIDs are the names of the configured embedder (see the fields of
// KnowledgeBase).
type embedderIDs struct {
	identity, model, legacy string
}

// embedderIdentity names the configured embedder: the model ID is
// Options.EmbedderID, else the embedder's ModelID(), else "" (then the
// identity uses the Go type).
func embedderIdentity(cfg Options) (embedderIDs, error) {
	if cfg.Embedder == nil {
		if cfg.EmbedderID != "" {
			return embedderIDs{}, invalid("Options.EmbedderID is %q but Options.Embedder is nil; set the embedder too, or leave both empty for a keyword-only knowledge base", cfg.EmbedderID)
		}
		return embedderIDs{identity: noEmbedder}, nil
	}
	dims := cfg.Embedder.Dimensions()
	if dims <= 0 {
		return embedderIDs{}, invalid("the embedder reports %d dimensions", dims)
	}
	typeID := fmt.Sprintf("%T/%d", cfg.Embedder, dims)
	ids := embedderIDs{model: cfg.EmbedderID}
	if ids.model == "" {
		if m, ok := cfg.Embedder.(interface{ ModelID() string }); ok && m.ModelID() != "" {
			ids.model = m.ModelID()
			ids.legacy = typeID
		}
	}
	ids.identity = typeID
	if ids.model != "" {
		ids.identity = fmt.Sprintf("%s/%d", ids.model, dims)
	}
	return ids, nil
}

// metaID is the reserved document and record ID holding a partition's
// embedder identity. Sync and Retrieve never return it.
const metaID = kbstore.ConfigRecordID

// Metadata keys the knowledge base sets on every chunk (Bedrock's system
// keys, plus bedrockkit's own).
const (
	// KeySourceURI is the document's source URI.
	KeySourceURI = "x-amz-bedrock-kb-source-uri"
	// KeyPageNumber is the 1-based page of the chunk, when known.
	KeyPageNumber = "x-amz-bedrock-kb-document-page-number"
	// KeyChunkID is the chunk's record ID.
	KeyChunkID = "x-amz-bedrock-kb-chunk-id"
	// KeyHeadings is the chunk's heading path, outermost first.
	KeyHeadings = "bedrockkit-headings"
)

// StoreSize returns the size of the store (Options.Store), for pricing its
// storage. A store that cannot tell (one that does not implement
// kbstore.StoreSizer) fails with an error wrapping bedrockkit.ErrUnsupported.
func (k *KnowledgeBase) StoreSize(ctx context.Context) (kbstore.StoreSize, error) {
	s, ok := k.cfg.Store.(kbstore.StoreSizer)
	if !ok {
		return kbstore.StoreSize{}, fmt.Errorf("kb: the store (%T) cannot report its size (it does not implement kbstore.StoreSizer): %w", k.cfg.Store, bedrockkit.ErrUnsupported)
	}
	return s.Size(ctx)
}

func (k *KnowledgeBase) checkPartition(p string) error {
	if k.cfg.RequirePartition && p == "" {
		return kbstore.ErrPartitionRequired
	}
	return nil
}

// part returns the partition state, loading it from the store on first use:
// it checks the recorded embedder and builds the keyword index.
func (k *KnowledgeBase) part(ctx context.Context, name string) (*partition, error) {
	k.mu.Lock()
	p := k.parts[name]
	if p == nil {
		p = &partition{}
		k.parts[name] = p
	}
	k.mu.Unlock()
	// The load is shared by every caller waiting on it, so it must not end
	// because the first caller gave up; each caller still checks its own ctx.
	p.once.Do(func() { p.err = k.load(context.WithoutCancel(ctx), name, p) })
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p.err != nil {
		// Let a later call try again (the context may have been cancelled).
		k.mu.Lock()
		if k.parts[name] == p {
			delete(k.parts, name)
		}
		k.mu.Unlock()
		return nil, p.err
	}
	return p, nil
}

func (k *KnowledgeBase) load(ctx context.Context, name string, p *partition) error {
	if _, ok := k.cfg.Store.(kbstore.KeywordSearcher); !ok {
		p.keyword = textindex.New(textindex.Params{K1: k.cfg.Keyword.K1, B: k.cfg.Keyword.B})
	}
	docs, err := k.cfg.Store.Documents(ctx, name)
	if err != nil || p.keyword == nil {
		return err
	}
	// Batches are read and analysed on every core while the previous one
	// is added (the index takes one writer).
	type batch struct {
		recs     []kbstore.Record
		analyses []*textindex.Analysis
	}
	ready := make(chan batch, 1)
	var readErr error
	go func() {
		defer close(ready)
		for start := 0; start < len(docs); start += loadBatch {
			recs, err := k.readDocuments(ctx, name, docs[start:min(len(docs), start+loadBatch)])
			if err != nil {
				readErr = err
				return
			}
			ready <- batch{recs, analyzeAll(p.keyword, recs)}
		}
	}()
	for b := range ready {
		k.addKeyword(p, b.recs, b.analyses, nil)
	}
	return readErr
}

// readDocuments returns the stored records of docs (the knowledge base's
// own config document left out).
func (k *KnowledgeBase) readDocuments(ctx context.Context, name string, docs []kbstore.DocumentInfo) ([]kbstore.Record, error) {
	var recs []kbstore.Record
	for _, d := range docs {
		if d.ID == metaID {
			continue
		}
		ids := make([]string, d.Records)
		for i := range ids {
			ids[i] = chunkID(d.ID, i)
		}
		got, err := k.cfg.Store.Get(ctx, name, ids)
		if err != nil {
			return nil, err
		}
		for _, r := range got {
			if r.DocumentID == d.ID {
				recs = append(recs, r)
			}
		}
	}
	return recs, nil
}

// loadBatch is how many documents' records load reads and analyses at a
// time.
const loadBatch = 64

// analyzeAll analyses recs for the keyword index on every core.
func analyzeAll(ix *textindex.Index, recs []kbstore.Record) []*textindex.Analysis {
	out := make([]*textindex.Analysis, len(recs))
	workers := min(runtime.GOMAXPROCS(0), len(recs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(recs); i += workers {
				out[i] = ix.Analyze(recs[i].Text, recs[i].Metadata)
			}
		}()
	}
	wg.Wait()
	return out
}

// addKeyword adds to the partition's keyword index the records among recs
// that are searched: with an embedder, the ones with a vector (as in
// semantic search); without one, all but the parents of hierarchical chunks
// (records another record of recs names as its ParentID), which are
// returned in their children's place. keep, when set, must accept a record
// too. analyses, when set, holds each record's analysis made ahead (or nil
// to analyse it here).
func (k *KnowledgeBase) addKeyword(p *partition, recs []kbstore.Record, analyses []*textindex.Analysis, keep func(kbstore.Record) bool) {
	if p.keyword == nil {
		return
	}
	var parents map[string]bool
	if k.cfg.Embedder == nil {
		parents = map[string]bool{}
		for _, r := range recs {
			if r.ParentID != "" {
				parents[r.ParentID] = true
			}
		}
	}
	for i, r := range recs {
		searched := r.Vector != nil || (k.cfg.Embedder == nil && !parents[r.ID])
		if !searched || keep != nil && !keep(r) {
			continue
		}
		if i < len(analyses) && analyses[i] != nil {
			p.keyword.AddAnalyzed(r.ID, r.DocumentID, analyses[i], r.Metadata)
		} else {
			p.keyword.Add(r.ID, r.DocumentID, r.Text, r.Metadata)
		}
	}
}

// storedEmbedder returns the embedder identity recorded in the partition,
// or "" when none is.
func (k *KnowledgeBase) storedEmbedder(ctx context.Context, part string) (string, error) {
	recs, err := k.cfg.Store.Get(ctx, part, []string{metaID})
	if err != nil || len(recs) == 0 {
		return "", err
	}
	s, _ := recs[0].Metadata["embedder"].(string)
	return s, nil
}

// writeEmbedder records the embedder identity id in the partition.
func (k *KnowledgeBase) writeEmbedder(ctx context.Context, part, id string) error {
	return k.cfg.Store.Upsert(ctx, []kbstore.Record{{
		ID: metaID, DocumentID: metaID, Partition: part, Fingerprint: id,
		Metadata: map[string]any{"embedder": id},
	}})
}

// sameEmbedder reports whether the recorded identity stored names the
// configured embedder: its identity, or the one an older version recorded
// for it (see legacyID).
func (k *KnowledgeBase) sameEmbedder(stored string) bool {
	return stored == k.embedderID || (k.legacyID != "" && stored == k.legacyID)
}

// checkEmbedder fails with *EmbedderChangedError when the partition was
// built with another embedder.
//
// A match is remembered per partition (until this knowledge base syncs the
// partition again), so queries do not read the store each time; a re-embed
// through another KnowledgeBase or process is noticed by a new one.
func (k *KnowledgeBase) checkEmbedder(ctx context.Context, part string) error {
	k.mu.Lock()
	ok := k.embedderOK[part]
	k.mu.Unlock()
	if ok {
		return nil
	}
	stored, err := k.storedEmbedder(ctx, part)
	if err != nil {
		return err
	}
	if stored != "" && !k.sameEmbedder(stored) {
		return &EmbedderChangedError{Stored: stored, Configured: k.embedderID}
	}
	if stored != "" {
		k.mu.Lock()
		k.embedderOK[part] = true
		k.mu.Unlock()
	}
	return nil
}

// forgetEmbedder drops the remembered check of a partition.
func (k *KnowledgeBase) forgetEmbedder(part string) {
	k.mu.Lock()
	delete(k.embedderOK, part)
	k.mu.Unlock()
}

// chunkID is the record ID of chunk i of a document. IDs are dense so the
// records of a document can be fetched from its record count.
func chunkID(doc string, i int) string { return fmt.Sprintf("%s#%d", doc, i) }

// loaderFor picks the loader by the item's extension.
func (k *KnowledgeBase) loaderFor(name string) (Loader, string) {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	if l := k.cfg.Loaders[ext]; l != nil {
		return l, ext
	}
	if l := k.cfg.Loaders["."+ext]; l != nil {
		return l, ext
	}
	return nil, ext
}

// analyze is the keyword analyzer (lower-case, stop words, Porter stems).
func analyze(text string) []string { return textindex.Analyze(text) }

// analyzeQuery is analyze without question words (how, what, do, I, ...).
func analyzeQuery(text string) []string { return textindex.AnalyzeQuery(text) }

// invalid returns an error wrapping bedrockkit.ErrInvalidInput, its message
// prefixed with the package name.
func invalid(format string, args ...any) error {
	return fmt.Errorf("kb: "+format+": %w", append(args, bedrockkit.ErrInvalidInput)...)
}
