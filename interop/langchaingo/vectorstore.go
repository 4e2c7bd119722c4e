package langchaingo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/tmc/langchaingo/schema"
	"github.com/tmc/langchaingo/vectorstores"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// VectorStoreOptions configure NewVectorStore. The zero value stores each
// document as one record in the store's default partition.
type VectorStoreOptions struct {
	// Partition is the store partition (tenant) documents are added to and
	// searched in; vectorstores.WithNameSpace overrides it per call. A store
	// opened with RequirePartition refuses calls that name none.
	Partition string
	// Chunker, when set, splits each document's PageContent into chunks
	// (chunk.Default{}, chunk.FixedSize{...}, chunk.Hierarchical{...}, ...)
	// and each chunk becomes a record carrying the document's metadata. Nil
	// stores every document as one record, as langchaingo's own vector
	// stores do.
	Chunker chunk.Chunker
	// BatchSize is how many texts one Embed call carries; 0 means 16.
	BatchSize int
	// IDKey names the metadata key whose value, a non-empty string
	// without the unit separator \x1f (reserved), is a document's ID, so
	// that adding a document with the same ID again replaces it (for
	// example "source" for file paths, or MetaDocumentID to re-add search
	// results under the IDs they came back with).
	// Documents without the key get a content hash. Empty (the default)
	// means every document's ID is the hash of its content and metadata,
	// and no metadata key is read as an ID. See VectorStore.
	IDKey string
}

// VectorStore is a bedrockkit kbstore.Store (kb/localindex, kb/pgvector,
// kb/chromem, ...) seen as a langchaingo vectorstores.VectorStore, so
// langchaingo code (vectorstores.ToRetriever, chains.NewRetrievalQA, ...)
// can keep its documents in bedrockkit storage and embed them with a
// bedrockkit.Embedder (Bedrock Titan or Cohere, or any other). Create it
// with NewVectorStore. It is safe for concurrent use.
//
// # Keep it apart from knowledge-base syncs
//
// kb.KnowledgeBase.Sync makes a partition mirror its Source: it deletes
// every document of the partition that the source does not list, and
// documents added through a VectorStore are never listed by a source. So a
// VectorStore must not share a partition with a KnowledgeBase that syncs:
// give it its own store, or a partition (VectorStoreOptions.Partition or
// vectorstores.WithNameSpace) that no Sync uses. Within its own partition a
// VectorStore is the only writer and nothing is deleted behind its back.
//
// # Documents, records and IDs
//
// Every document gets a document ID, returned by AddDocuments in input
// order. langchaingo v0.1.14 has no option to pass IDs, so by default the
// ID is a hash of the page content and metadata: adding the same document
// twice stores it once, and any change makes it a new document (the old
// one stays until DeleteDocuments removes it). To replace documents in
// place, set VectorStoreOptions.IDKey to a metadata key holding their IDs;
// adding a document whose ID is already stored then replaces it.
//
// An ID names one whole document. langchaingo's textsplitter.SplitDocuments
// copies each document's metadata to all of its chunks, so the chunks of a
// split document share any ID key: adding them in one call fails with a
// *DuplicateIDError (matching ErrDuplicateID) instead of keeping only the
// last chunk. Either leave IDKey empty (every chunk is then its own
// document, keyed by its content), give each chunk its own ID, or add the
// unsplit documents and let VectorStoreOptions.Chunker split them, which
// keeps the chunks of a document together under its ID. Documents that
// share an ID and are identical are stored once.
//
// The records of document D are "D#0", "D#1", ... (one per chunk; one in
// all without a Chunker). Each holds the chunk text, the embedding and the
// document's metadata.
//
// # Metadata
//
// Metadata values must be what a kbstore.Store holds: strings, bools, numbers
// (any Go integer or float type; stored as float64, so they come back as
// float64) or slices of those. A nil value is dropped (an absent key
// behaves as null in filters). Anything else (maps, structs, time.Time,
// []byte, pointers, integers beyond ±2^53, NaN) fails the whole call with
// a *MetadataError matching ErrUnsupportedMetadata: convert it first, for
// example a time to an RFC 3339 string or Unix seconds. The keys MetaID,
// MetaDocumentID and MetaScore belong to the adapter: SimilaritySearch sets
// them on every result, and AddDocuments does not store them (it reads
// one of them only when IDKey names it), so search results can be added
// to another store as they are.
type VectorStore struct {
	store     kbstore.Store
	embedder  bedrockkit.Embedder
	partition string
	chunker   chunk.Chunker
	batch     int
	idKey     string

	// mu serialises the write phase of AddDocuments (finding the old
	// versions' stale records, the upsert and their removal), so that two
	// calls replacing the same document cannot interleave.
	mu sync.Mutex
}

var _ vectorstores.VectorStore = (*VectorStore)(nil)

// Errors of the vector store adapter. Each wraps bedrockkit.ErrInvalidInput.
var (
	// ErrUnsupportedMetadata: a document's metadata holds a value a
	// kbstore.Store cannot keep. The *MetadataError says which.
	ErrUnsupportedMetadata = fmt.Errorf("langchaingo: unsupported metadata value; use strings, bools, numbers or slices of those: %w", bedrockkit.ErrInvalidInput)
	// ErrUnsupportedFilter: vectorstores.WithFilters was given a value of
	// a type the adapter does not read, or one that is not a valid filter.
	ErrUnsupportedFilter = fmt.Errorf("langchaingo: unsupported filter; pass a kb.Filter, Bedrock RetrievalFilter JSON or a map of key to value: %w", bedrockkit.ErrInvalidInput)
	// ErrDuplicateID: two documents of one AddDocuments call have the same
	// ID (VectorStoreOptions.IDKey) but different content. The
	// *DuplicateIDError says which.
	ErrDuplicateID = fmt.Errorf("langchaingo: two documents have the same ID but different content: %w", bedrockkit.ErrInvalidInput)
)

// DuplicateIDError reports two documents of one AddDocuments call that
// have the same ID but different content or metadata, typically the chunks
// of one document split by langchaingo's textsplitter, which copies the
// document's metadata (and so its ID key) to every chunk. Nothing was
// stored. It matches ErrDuplicateID and bedrockkit.ErrInvalidInput.
type DuplicateIDError struct {
	// First and Second are the indexes of the two documents in the call.
	First, Second int
	// ID is the document ID they share; Key is the metadata key it came from.
	ID, Key string
}

// Error names the documents and the ID and says what to do.
func (e *DuplicateIDError) Error() string {
	return fmt.Sprintf("langchaingo: documents %d and %d both have ID %q (metadata %q) but different content; "+
		"an ID names one whole document and adding it again replaces it, so only one of them would be kept. "+
		"Give each chunk its own ID, leave VectorStoreOptions.IDKey empty to key documents by their content, "+
		"or add the unsplit document and set VectorStoreOptions.Chunker", e.First, e.Second, e.ID, e.Key)
}

// Unwrap returns ErrDuplicateID.
func (e *DuplicateIDError) Unwrap() error { return ErrDuplicateID }

// MetadataError reports a metadata value a kbstore.Store cannot keep. It
// matches ErrUnsupportedMetadata and bedrockkit.ErrInvalidInput.
type MetadataError struct {
	// Document is the index of the document in the AddDocuments call.
	Document int
	// Key is the metadata key.
	Key string
	// Value is the offending value.
	Value any
	// Reason says what is wrong and what to do.
	Reason string
}

// Error names the document, key and value.
func (e *MetadataError) Error() string {
	return fmt.Sprintf("langchaingo: document %d: metadata %q: %s (value %.80v of type %T)", e.Document, e.Key, e.Reason, e.Value, e.Value)
}

// Unwrap returns ErrUnsupportedMetadata.
func (e *MetadataError) Unwrap() error { return ErrUnsupportedMetadata }

// NewVectorStore returns store as a langchaingo vector store whose
// documents and queries are embedded by embedder (vectorstores.WithEmbedder
// overrides it per call). The zero opts means the defaults.
func NewVectorStore(store kbstore.Store, embedder bedrockkit.Embedder, opts VectorStoreOptions) (*VectorStore, error) {
	if store == nil {
		return nil, fmt.Errorf("langchaingo: NewVectorStore: store is nil; use localindex.Open(localindex.Options{}) for an embedded one: %w", bedrockkit.ErrInvalidInput)
	}
	if embedder == nil {
		return nil, fmt.Errorf("langchaingo: NewVectorStore: embedder is nil; use bedrockkit.NewTitanEmbedder, or FromEmbedder for a langchaingo one: %w", bedrockkit.ErrInvalidInput)
	}
	v := &VectorStore{store: store, embedder: embedder, batch: 16}
	v.partition, v.chunker, v.idKey = opts.Partition, opts.Chunker, opts.IDKey
	if opts.BatchSize < 0 {
		return nil, fmt.Errorf("langchaingo: NewVectorStore: BatchSize is %d; use 0 for the default: %w", opts.BatchSize, bedrockkit.ErrInvalidInput)
	}
	if opts.BatchSize > 0 {
		v.batch = opts.BatchSize
	}
	return v, nil
}

// callConfig is what the vectorstores options of one call resolve to.
type callConfig struct {
	partition string
	embedder  bedrockkit.Embedder
	threshold float64
	filter    kbstore.Filter
	dedup     func(context.Context, schema.Document) bool
}

func (v *VectorStore) config(options []vectorstores.Option) (callConfig, error) {
	var o vectorstores.Options
	for _, opt := range options {
		opt(&o)
	}
	c := callConfig{partition: v.partition, embedder: v.embedder, dedup: o.Deduplicater}
	if o.NameSpace != "" {
		c.partition = o.NameSpace
	}
	if o.Embedder != nil {
		c.embedder = FromEmbedder(o.Embedder, 0)
	}
	t := float64(o.ScoreThreshold)
	if math.IsNaN(t) || t < 0 || t > 1 {
		return c, fmt.Errorf("langchaingo: score threshold %v; use a cosine similarity between 0 and 1 (0 means none): %w", o.ScoreThreshold, bedrockkit.ErrInvalidInput)
	}
	c.threshold = t
	f, err := parseFilters(o.Filters)
	if err != nil {
		return c, err
	}
	if f != nil {
		c.filter = *f
	}
	return c, nil
}

// AddDocuments embeds docs and stores them, replacing stored documents with
// the same ID, and returns their document IDs in input order (see
// VectorStore for how IDs are chosen). Documents a
// vectorstores.WithDeduplicater function reports as duplicates are skipped
// and get no ID. WithNameSpace names the partition and WithEmbedder
// replaces the embedder; WithScoreThreshold and WithFilters do not apply.
//
// The call is all or nothing for invalid input: a document with empty
// content or unsupported metadata, two different documents with one ID
// (*DuplicateIDError), or a vector the store would refuse (a wrong
// dimension from the embedder: kbstore.ErrDimensionMismatch) fails it before
// anything is written. The new records are then written in one atomic
// Upsert that also detaches the records an older version of a document has
// beyond the new version's chunk count; those are deleted afterwards. So a
// failed write leaves the stored versions as they were, and a replaced
// document is never absent. If only the final delete fails, the new
// versions are stored and the error says so; the detached records are no
// longer searchable and adding the documents again removes them.
func (v *VectorStore) AddDocuments(ctx context.Context, docs []schema.Document, options ...vectorstores.Option) ([]string, error) {
	c, err := v.config(options)
	if err != nil {
		return nil, err
	}
	b := &docBatch{seen: map[string]seenDoc{}}
	for i, d := range docs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if c.dedup != nil && c.dedup(ctx, d) {
			continue
		}
		if err := v.addDocument(ctx, c.partition, b, i, d); err != nil {
			return nil, err
		}
	}
	if len(b.records) == 0 {
		return b.ids, nil
	}
	if err := b.embed(ctx, c.embedder, v.batch); err != nil {
		return nil, err
	}
	if err := v.validate(b); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.ids, v.write(ctx, c.partition, b.records, b.written)
}

// seenDoc is the first input document with an ID, and its fingerprint.
type seenDoc struct {
	index int
	fp    string
}

// docBatch is what one AddDocuments call writes.
type docBatch struct {
	ids     []string
	written []writtenDoc       // one per distinct document, in input order
	seen    map[string]seenDoc // document ID -> first document with it
	records []kbstore.Record
	owner   []int // owner[k] is the input index of records[k]'s document
	texts   []string
	slots   []int // records[slots[i]] gets the vector of texts[i]
}

// addDocument checks input document i and adds its records (one per chunk)
// to b; a document repeated with the same content is stored once.
func (v *VectorStore) addDocument(ctx context.Context, partition string, b *docBatch, i int, d schema.Document) error {
	if strings.TrimSpace(d.PageContent) == "" {
		return fmt.Errorf("langchaingo: document %d has no page content; there is nothing to embed: %w", i, bedrockkit.ErrInvalidInput)
	}
	md, err := toKBMetadata(i, d.Metadata)
	if err != nil {
		return err
	}
	id, fp, err := documentID(i, d.PageContent, d.Metadata, md, v.idKey)
	if err != nil {
		return err
	}
	if prev, ok := b.seen[id]; ok {
		if prev.fp != fp {
			return &DuplicateIDError{First: prev.index, Second: i, ID: id, Key: v.idKey}
		}
		b.ids = append(b.ids, id) // the same document twice: stored once
		return nil
	}
	b.seen[id] = seenDoc{index: i, fp: fp}
	b.ids = append(b.ids, id)
	chunks := []chunk.Chunk{{Text: d.PageContent, Parent: -1}}
	if v.chunker != nil {
		chunks, err = v.chunker.Chunk(ctx, chunk.ParsedDocument{Text: d.PageContent, Metadata: md})
		if err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
	}
	n := b.addChunks(partition, i, id, fp, md, chunks)
	b.written = append(b.written, writtenDoc{id: id, records: n})
	return nil
}

// addChunks adds the records of document i's chunks and returns how many.
// Record numbers are dense (chunks with no text are dropped and the rest
// renumbered), so the records of a version are exactly D#0..D#n-1 and an
// older version's extra ones start at D#n.
func (b *docBatch) addChunks(partition string, i int, id, fp string, md map[string]any, chunks []chunk.Chunk) int {
	num := make([]int, len(chunks))
	n := 0
	for j, ch := range chunks {
		num[j] = -1
		if ch.Level > 0 || strings.TrimSpace(ch.Text) != "" {
			num[j] = n
			n++
		}
	}
	for j, ch := range chunks {
		if num[j] < 0 {
			continue
		}
		r := kbstore.Record{
			ID: recordID(id, num[j]), DocumentID: id, Partition: partition,
			Fingerprint: fp, Text: ch.Text, Metadata: kbstore.CloneMetadata(md),
		}
		if ch.Parent >= 0 && ch.Parent < len(chunks) && num[ch.Parent] >= 0 {
			r.ParentID = recordID(id, num[ch.Parent])
		}
		if ch.Level == 0 {
			b.slots = append(b.slots, len(b.records))
			b.texts = append(b.texts, ch.Text)
		}
		b.records = append(b.records, r)
		b.owner = append(b.owner, i)
	}
	return n
}

// embed gives the records their vectors, batch texts per call.
func (b *docBatch) embed(ctx context.Context, embedder bedrockkit.Embedder, batch int) error {
	for start := 0; start < len(b.texts); start += batch {
		end := min(start+batch, len(b.texts))
		if err := ctx.Err(); err != nil {
			return err
		}
		vecs, err := embedder.Embed(ctx, b.texts[start:end], bedrockkit.PurposeDocument)
		if err != nil {
			return err
		}
		if len(vecs) != end-start {
			return fmt.Errorf("langchaingo: the embedder returned %d vectors for %d texts: %w", len(vecs), end-start, bedrockkit.ErrModelError)
		}
		for k, vec := range vecs {
			b.records[b.slots[start+k]].Vector = vec
		}
	}
	return nil
}

// validate checks the records as the store will, so that a deterministic
// refusal (most often an embedder of another dimension, via WithEmbedder)
// fails here, naming the document, rather than in the store.
func (v *VectorStore) validate(b *docBatch) error {
	dims := 0
	if d, ok := v.store.(interface{ Dimensions() int }); ok {
		dims = d.Dimensions()
	}
	if dims <= 0 && len(b.slots) > 0 {
		dims = len(b.records[b.slots[0]].Vector)
	}
	for k, r := range b.records {
		if _, err := kbstore.ValidateRecord(r, dims, false); err != nil {
			return fmt.Errorf("langchaingo: document %d: %w", b.owner[k], err)
		}
	}
	return nil
}

// writtenDoc is a document AddDocuments writes and its number of records.
type writtenDoc struct {
	id      string
	records int
}

// staleProbe is how many record IDs past a new version's last record are
// looked up per document and round when looking for an older version's
// extra records. Versions written by this adapter are dense (D#0..D#n-1),
// so the first round finds all of them or none unless the old version was
// more than staleProbe records longer, in which case more rounds follow.
const staleProbe = 16

// write upserts records, the new versions of docs, and removes the records
// the documents' older versions have beyond the new record counts. Those
// stale records are detached in the same atomic Upsert (rewritten, without
// vector or text, as records of a tombstone document, so that they leave
// the document and are no longer searchable) and the tombstone documents
// are deleted after it. A failed Upsert thus changes nothing.
func (v *VectorStore) write(ctx context.Context, part string, records []kbstore.Record, docs []writtenDoc) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	stale, err := v.staleRecords(ctx, part, docs)
	if err != nil {
		return err
	}
	tombs := make([]string, 0, len(stale))
	for _, r := range stale {
		tombs = append(tombs, r.DocumentID)
	}
	if err := v.store.Upsert(ctx, append(records, stale...)); err != nil {
		return err
	}
	if len(tombs) == 0 {
		return nil
	}
	// The new versions are stored: finish removing the old ones even if
	// the caller gives up now.
	if _, err := v.store.DeleteDocuments(context.WithoutCancel(ctx), part, unique(tombs)); err != nil {
		return fmt.Errorf("langchaingo: the new versions are stored, but deleting %d records of their older versions failed "+
			"(they are detached and no longer searchable; adding the documents again removes them): %w", len(stale), err)
	}
	return nil
}

// staleRecords finds the records of docs' stored versions at or past the
// new record counts (D#n, D#n+1, ...) and returns them detached: as
// vector-less, text-less records of the tombstone document of D. Records
// of those IDs that belong to another document are left alone.
func (v *VectorStore) staleRecords(ctx context.Context, part string, docs []writtenDoc) ([]kbstore.Record, error) {
	next := make(map[string]int, len(docs)) // document -> next record number to probe
	for _, d := range docs {
		next[d.id] = d.records
	}
	var stale []kbstore.Record
	for len(next) > 0 {
		var probe []string
		for _, d := range docs {
			if n, ok := next[d.id]; ok {
				for j := n; j < n+staleProbe; j++ {
					probe = append(probe, recordID(d.id, j))
				}
			}
		}
		got, err := v.store.Get(ctx, part, probe)
		if err != nil {
			return nil, err
		}
		found := map[string]bool{}
		for _, r := range got {
			cut := strings.LastIndexByte(r.ID, '#')
			if cut < 0 {
				continue
			}
			doc := r.ID[:cut]
			if _, probed := next[doc]; !probed || (r.DocumentID != doc && r.DocumentID != tombstone(doc)) {
				continue
			}
			found[doc] = true
			stale = append(stale, kbstore.Record{ID: r.ID, DocumentID: tombstone(doc), Partition: part})
		}
		for id, n := range next {
			if found[id] {
				next[id] = n + staleProbe
			} else {
				delete(next, id)
			}
		}
	}
	return stale, nil
}

// tombstone is the document ID stale records of document id are moved to
// before they are deleted. The unit separator keeps it apart from any
// ordinary document ID: documentID rejects IDs containing it.
func tombstone(id string) string { return id + "\x1freplaced" }

// SimilaritySearch embeds query (as a query: bedrockkit.PurposeQuery) and
// returns the numDocuments stored chunks closest to it, best first. Each
// document holds the chunk text (a hierarchical chunk's parent text, with
// children of one parent collapsed into it, so fewer may come back), its
// metadata plus MetaID (the record ID), MetaDocumentID and MetaScore, and
// Score, the cosine similarity.
//
// Options: WithNameSpace names the partition; WithEmbedder replaces the
// embedder (its EmbedQuery is used); WithScoreThreshold (0 to 1) drops
// results scoring below it after the top numDocuments are found, as
// langchaingo's stores do; WithFilters restricts the search inside the
// store (the result is the true top numDocuments among matching chunks) and
// takes a kb.Filter or kb.Filter, Bedrock RetrievalFilter JSON (string,
// []byte or json.RawMessage, such as
// {"equals":{"key":"type","value":"faq"}}), the same as a map[string]any,
// or a flat map[string]any of key to value, which matches chunks whose
// attribute equals every value (a slice value: one of its elements). A
// flat map is told apart from a Bedrock one by its keys: a map with one key
// that is a Bedrock operator name (equals, andAll, ...) is read as Bedrock
// JSON. Anything else fails with ErrUnsupportedFilter.
func (v *VectorStore) SimilaritySearch(ctx context.Context, query string, numDocuments int, options ...vectorstores.Option) ([]schema.Document, error) {
	c, err := v.config(options)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(query) == "" {
		return nil, fmt.Errorf("langchaingo: the query is empty: %w", bedrockkit.ErrInvalidInput)
	}
	if numDocuments < 1 {
		return nil, fmt.Errorf("langchaingo: numDocuments is %d; ask for at least 1: %w", numDocuments, bedrockkit.ErrInvalidInput)
	}
	vecs, err := c.embedder.Embed(ctx, []string{query}, bedrockkit.PurposeQuery)
	if err != nil {
		return nil, err
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("langchaingo: the embedder returned %d vectors for one query: %w", len(vecs), bedrockkit.ErrModelError)
	}
	hits, err := v.store.Search(ctx, kbstore.Query{Vector: vecs[0], K: numDocuments, Filter: c.filter, Partition: c.partition})
	if err != nil {
		return nil, err
	}
	hits, err = v.parents(ctx, c.partition, hits)
	if err != nil {
		return nil, err
	}
	docs := make([]schema.Document, 0, len(hits))
	for _, h := range hits {
		if c.threshold > 0 && h.Score < c.threshold {
			continue
		}
		md := make(map[string]any, len(h.Metadata)+3)
		maps.Copy(md, h.Metadata)
		md[MetaID] = h.ID
		md[MetaDocumentID] = h.DocumentID
		md[MetaScore] = h.Score
		docs = append(docs, schema.Document{PageContent: h.Text, Metadata: md, Score: float32(h.Score)})
	}
	return docs, nil
}

// DeleteDocuments removes the documents with the given IDs (as returned by
// AddDocuments) and all their records from the partition
// (vectorstores.WithNameSpace overrides the VectorStore's), and returns how
// many records were removed. langchaingo's VectorStore interface has no
// delete; this is the adapter's own.
func (v *VectorStore) DeleteDocuments(ctx context.Context, ids []string, options ...vectorstores.Option) (int, error) {
	c, err := v.config(options)
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return v.store.DeleteDocuments(ctx, c.partition, ids)
}

// parents replaces hierarchical child chunks by their parents, keeping the
// rank and score of the best child, as kb's retrieval does.
func (v *VectorStore) parents(ctx context.Context, part string, hits []kbstore.Hit) ([]kbstore.Hit, error) {
	var ids []string
	for _, h := range hits {
		if h.ParentID != "" {
			ids = append(ids, h.ParentID)
		}
	}
	if len(ids) == 0 {
		return hits, nil
	}
	recs, err := v.store.Get(ctx, part, unique(ids))
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

// recordID is the ID of chunk j of document id; the same dense form
// kb.KnowledgeBase uses.
func recordID(id string, j int) string { return id + "#" + strconv.Itoa(j) }

func unique(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// documentID returns the document ID (the string under idKey in raw, else a
// content hash) and the fingerprint of the document's content and stored
// metadata.
func documentID(i int, text string, raw, md map[string]any, idKey string) (id, fp string, err error) {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s", len(text), text)
	if len(md) > 0 {
		b, err := json.Marshal(md) // keys sorted; values normalised
		if err != nil {
			return "", "", &MetadataError{Document: i, Reason: "metadata does not encode as JSON: " + err.Error()}
		}
		h.Write(b)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	fp = "sha256:" + sum
	if x, ok := raw[idKey]; idKey != "" && ok && x != nil {
		s, ok := x.(string)
		if !ok || s == "" {
			return "", "", &MetadataError{Document: i, Key: idKey, Value: x, Reason: "the document ID (VectorStoreOptions.IDKey) must be a non-empty string"}
		}
		if strings.IndexByte(s, '\x1f') >= 0 {
			return "", "", &MetadataError{Document: i, Key: idKey, Value: x,
				Reason: "the document ID (VectorStoreOptions.IDKey) must not contain the unit separator \\x1f, which the adapter keeps for its own records; remove it from the ID"}
		}
		return s, fp, nil
	}
	return "lc-" + sum[:32], fp, nil
}

// toKBMetadata converts langchaingo metadata to a kbstore.Store's metadata
// value types, or fails with a *MetadataError.
func toKBMetadata(doc int, md map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(md))
	for k, val := range md {
		switch k {
		case MetaID, MetaDocumentID, MetaScore:
			continue
		case "":
			return nil, &MetadataError{Document: doc, Key: k, Value: val, Reason: "the key is empty"}
		}
		if val == nil {
			continue
		}
		nv, reason := metadataValue(val, true)
		if reason != "" {
			return nil, &MetadataError{Document: doc, Key: k, Value: val, Reason: reason}
		}
		out[k] = nv
	}
	norm, err := kbstore.NormalizeMetadata(out)
	if err != nil { // not expected after metadataValue; kept as a guard
		return nil, &MetadataError{Document: doc, Reason: err.Error()}
	}
	return norm, nil
}
