package kbstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/bedrockkit/bedrockkit"
)

// Record is one chunk held by a Store.
//
// Records are keyed by (Partition, ID): two tenants may use the same ID
// without touching each other's data. A record without a Vector is stored
// and returned by Get, but never matched by Search (the parent chunks of
// hierarchical chunking are stored this way).
type Record struct {
	// ID identifies the record within its partition. Required.
	ID string
	// DocumentID is the source document the chunk came from; DeleteDocuments
	// and Documents work on it. Required.
	DocumentID string
	// Partition is the tenant the record belongs to. Empty means the
	// default partition, which a store that requires partitions refuses.
	Partition string
	// ParentID names the parent chunk of a hierarchical chunk, if any.
	ParentID string
	// Fingerprint identifies the version of the document the record was made
	// from (for example its content hash). Documents reports it for
	// incremental sync; every record of a document should carry the same one.
	Fingerprint string
	// Text is the chunk's text.
	Text string
	// Vector is the chunk's embedding. Its length must equal the store's
	// dimensions and its norm must not be zero. Nil for vector-less records.
	Vector []float32
	// Metadata holds the chunk's attributes: string, bool, number (any Go
	// integer or float kind; stored as float64) or a list of those
	// ([]string, []float64, []any, ...; stored as []any).
	Metadata map[string]any
}

// Query is a vector search.
type Query struct {
	// Vector is the query embedding; same length as the stored vectors.
	Vector []float32
	// K is the number of results wanted, at least 1. A store with fewer
	// matching records returns all of them.
	K int
	// Filter restricts the records searched. It is evaluated inside the
	// scan or index walk, so the result is the true top K among matching
	// records. The zero Filter means no filter.
	Filter Filter
	// Partition is the tenant searched. A store that requires partitions
	// fails a query without one with ErrPartitionRequired.
	Partition string
	// WithVectors asks for each hit's stored vector to be returned.
	WithVectors bool
}

// TextQuery is a keyword search, for stores that implement KeywordSearcher.
type TextQuery struct {
	// Text is the query text.
	Text string
	// K is the number of results wanted, at least 1.
	K int
	// Filter restricts the records searched; the zero Filter means no
	// filter.
	Filter Filter
	// Partition is the tenant searched (see Query.Partition).
	Partition string
}

// Hit is one search result: a copy of the stored record and its score.
// Nothing in a Hit aliases the store's data.
type Hit struct {
	Record
	// Score is the cosine similarity for vector search (higher is closer)
	// or a backend-defined relevance score for keyword search.
	Score float64
}

// DocumentInfo describes one stored document, for incremental sync.
type DocumentInfo struct {
	// ID is the document ID.
	ID string
	// Fingerprint is the Fingerprint of the document's records, or "" when
	// they disagree (a partly replaced document), which never matches a
	// real fingerprint and so forces a re-sync.
	Fingerprint string
	// Records is how many records the document has.
	Records int
}

// Store holds chunk records and searches them by vector: the interface a
// vector-store backend implements for a knowledge base (kb.Options.Store).
// Implementations are safe for concurrent use, return copies (never
// aliases of their own data), and pass the conformance suite of
// kb/kbstore/kbstoretest.
type Store interface {
	// Upsert inserts the records, replacing any with the same (Partition, ID).
	// The batch is atomic: after a crash either all of it is present or none.
	// When a batch holds the same key twice, the later record wins.
	Upsert(ctx context.Context, records []Record) error
	// DeleteDocuments removes every record of the given documents in the
	// partition and returns how many records were removed.
	DeleteDocuments(ctx context.Context, partition string, documentIDs []string) (int, error)
	// Search returns the K records of the partition closest to q.Vector that
	// match q.Filter, best first.
	Search(ctx context.Context, q Query) ([]Hit, error)
	// Get returns the records of the partition with the given IDs, in the
	// order asked; IDs that do not exist are skipped. Vectors are included.
	Get(ctx context.Context, partition string, ids []string) ([]Record, error)
	// Documents lists the documents of the partition, sorted by ID. It may
	// leave out the document ConfigRecordID (kb/localindex, kb/chromem and
	// kb/pgvector do).
	Documents(ctx context.Context, partition string) ([]DocumentInfo, error)
	// Close releases the store. Calls after Close fail with ErrClosed.
	Close() error
}

// KeywordSearcher is implemented by stores that search text themselves
// (for example PostgreSQL full-text search). A knowledge base uses it for
// keyword and hybrid search when present and its own index otherwise.
type KeywordSearcher interface {
	SearchText(ctx context.Context, q TextQuery) ([]Hit, error)
}

// StoreSize is how big a store is, as the store itself can tell.
type StoreSize struct {
	// Records is every record in every partition, with or without a vector.
	Records int64
	// Vectors is the records that hold a vector.
	Vectors int64
	// Dimensions is the vector length, or 0 before the first vector.
	Dimensions int
	// TextBytes is the stored text and metadata, when the store knows it.
	TextBytes int64
	// Bytes is the space the store takes (on disk, in the database, or in
	// memory for an in-memory store), index and overhead included; 0 when
	// the store cannot say.
	Bytes int64
}

// StoreSizer is implemented by stores that can say how big they are, for
// pricing a knowledge base's storage (pricing's Catalog.KnowledgeBaseMonthly
// takes the same figures). kb.KnowledgeBase.StoreSize asks it.
type StoreSizer interface {
	Size(ctx context.Context) (StoreSize, error)
}

// Errors returned by stores. Each wraps bedrockkit.ErrInvalidInput where the
// caller's input is at fault, so both errors.Is checks work.
var (
	// ErrPartitionRequired: the store (or the knowledge base, with
	// kb.Options.RequirePartition) is multi-tenant and the call named no
	// partition. Set the partition (kb.RetrieveOptions.Partition,
	// kb.SyncOptions.Partition, Record.Partition, Query.Partition).
	ErrPartitionRequired = fmt.Errorf("kbstore: a partition (tenant) key is required and none was given; set the Partition of the call (kb.RetrieveOptions, kb.SyncOptions) or of the record or query: %w", bedrockkit.ErrInvalidInput)
	// ErrDimensionMismatch: a vector's length differs from the store's
	// dimensions. Use the same embedding model for writing and querying.
	// It matches bedrockkit.ErrDimensionMismatch (the embedders' error for
	// the same fault), so one errors.Is check covers embedders and stores,
	// and bedrockkit.ErrInvalidInput.
	ErrDimensionMismatch error = &multiSentinel{
		msg:  "kbstore: vector dimension mismatch",
		errs: []error{bedrockkit.ErrDimensionMismatch, bedrockkit.ErrInvalidInput},
	}
	// ErrClosed: the store was closed. Store methods called after Close
	// return it.
	ErrClosed = errors.New("kbstore: store is closed")
)

// multiSentinel is a sentinel error that also matches the broader sentinels
// it belongs to, without their text in its message.
type multiSentinel struct {
	msg  string
	errs []error
}

func (e *multiSentinel) Error() string   { return e.msg }
func (e *multiSentinel) Unwrap() []error { return e.errs }

// DimensionError reports a vector whose length differs from the store's.
// It matches ErrDimensionMismatch, bedrockkit.ErrDimensionMismatch and
// bedrockkit.ErrInvalidInput.
type DimensionError struct {
	// Want is the store's dimensions; Got is the vector's length.
	Want, Got int
}

// Error says both sizes and what to do.
func (e *DimensionError) Error() string {
	return fmt.Sprintf("kbstore: the vector has %d dimensions but the store holds %d-dimension vectors; embed with the model the store was built with (or re-embed everything into a new store)", e.Got, e.Want)
}

// Unwrap returns ErrDimensionMismatch.
func (e *DimensionError) Unwrap() error { return ErrDimensionMismatch }

// ConfigRecordID is the ID of the record, and of its document, in which a
// knowledge base keeps its configuration for a partition (the embedding
// model the partition was built with). A store holds it like any other
// record and Get returns it; a store may leave its document out of
// Documents and out of the counts it shows its own users, since the
// knowledge base reads it with Get and never lists it. Documents must not
// use this ID.
const ConfigRecordID = "bedrockkit:kb-config"
