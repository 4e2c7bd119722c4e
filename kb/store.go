package kb

import (
	"context"
	"errors"
	"fmt"
	"math"

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
	// records. Nil means no filter.
	Filter *Filter
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
	// Filter restricts the records searched; nil means no filter.
	Filter *Filter
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

// Store holds chunk records and searches them by vector. Implementations are
// safe for concurrent use, return copies (never aliases of their own data),
// and run the storetest conformance suite.
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
	// Documents lists the documents of the partition, sorted by ID.
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
// takes the same figures). KnowledgeBase.StoreSize asks it.
type StoreSizer interface {
	Size(ctx context.Context) (StoreSize, error)
}

// Errors returned by stores. Each wraps bedrockkit.ErrInvalidInput where the
// caller's input is at fault, so both errors.Is checks work.
var (
	// ErrPartitionRequired: the store is multi-tenant and the call named no
	// partition. Set Record.Partition / Query.Partition to the tenant.
	ErrPartitionRequired = fmt.Errorf("kb: this store requires a partition (tenant) key; set the Partition of the record or query: %w", bedrockkit.ErrInvalidInput)
	// ErrDimensionMismatch: a vector's length differs from the store's
	// dimensions. Use the same embedding model for writing and querying.
	// It matches bedrockkit.ErrDimensionMismatch (the embedders' error for
	// the same fault), so one errors.Is check covers embedders and stores,
	// and bedrockkit.ErrInvalidInput.
	ErrDimensionMismatch error = &multiSentinel{
		msg:  "kb: vector dimension mismatch",
		errs: []error{bedrockkit.ErrDimensionMismatch, bedrockkit.ErrInvalidInput},
	}
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("kb: store is closed")
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
	return fmt.Sprintf("kb: vector has %d dimensions but the store holds %d; embed with the store's model (or re-embed everything into a new store)", e.Got, e.Want)
}

// Unwrap returns ErrDimensionMismatch.
func (e *DimensionError) Unwrap() error { return ErrDimensionMismatch }

func invalid(format string, args ...any) error {
	return fmt.Errorf("kb: "+format+": %w", append(args, bedrockkit.ErrInvalidInput)...)
}

// ValidateRecord checks a record's fields for a store of dim dimensions
// (dim <= 0 skips the length check) and returns a copy with its metadata
// normalised (numbers as float64, lists as []any) and its vector copied.
// requirePartition refuses an empty Partition with ErrPartitionRequired.
// Backends use it so that they all accept and refuse the same records.
func ValidateRecord(r Record, dim int, requirePartition bool) (Record, error) {
	if r.ID == "" {
		return Record{}, invalid("record has an empty ID; give every chunk an ID unique in its partition")
	}
	if r.DocumentID == "" {
		return Record{}, invalid("record %q has an empty DocumentID", r.ID)
	}
	if requirePartition && r.Partition == "" {
		return Record{}, fmt.Errorf("record %q: %w", r.ID, ErrPartitionRequired)
	}
	if r.Vector != nil {
		if len(r.Vector) == 0 {
			return Record{}, invalid("record %q has an empty vector; use nil for a vector-less record", r.ID)
		}
		if dim > 0 && len(r.Vector) != dim {
			return Record{}, fmt.Errorf("record %q: %w", r.ID, &DimensionError{Want: dim, Got: len(r.Vector)})
		}
		if err := checkVector(r.Vector); err != nil {
			return Record{}, fmt.Errorf("record %q: %w", r.ID, err)
		}
		r.Vector = append([]float32(nil), r.Vector...)
	}
	md, err := NormalizeMetadata(r.Metadata)
	if err != nil {
		return Record{}, fmt.Errorf("record %q: %w", r.ID, err)
	}
	r.Metadata = md
	return r, nil
}

// ValidateQuery checks a query for a store of dim dimensions (dim <= 0
// skips the length check), including its filter.
func ValidateQuery(q Query, dim int, requirePartition bool) error {
	if requirePartition && q.Partition == "" {
		return ErrPartitionRequired
	}
	if q.K < 1 {
		return invalid("K is %d; ask for at least 1 result", q.K)
	}
	if len(q.Vector) == 0 {
		return invalid("query has no vector")
	}
	if dim > 0 && len(q.Vector) != dim {
		return &DimensionError{Want: dim, Got: len(q.Vector)}
	}
	if err := checkVector(q.Vector); err != nil {
		return err
	}
	if q.Filter != nil {
		if err := q.Filter.Validate(); err != nil {
			return err
		}
	}
	return nil
}

func checkVector(v []float32) error {
	var sum float64
	for i, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return invalid("vector element %d is %v; vectors must be finite", i, x)
		}
		sum += f * f
	}
	if sum == 0 {
		return invalid("vector has zero norm; cosine similarity is undefined for it")
	}
	return nil
}

// NormalizeMetadata returns a deep copy of md with numbers as float64 and
// lists as []any, or an error naming the first unsupported value. Nil or
// empty metadata gives nil.
func NormalizeMetadata(md map[string]any) (map[string]any, error) {
	if len(md) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(md))
	for k, v := range md {
		if k == "" {
			return nil, invalid("metadata has an empty key")
		}
		nv, err := normalizeValue(v, true)
		if err != nil {
			return nil, invalid("metadata %q: %v", k, err)
		}
		out[k] = nv
	}
	return out, nil
}

// CloneMetadata returns a deep copy of normalised metadata.
func CloneMetadata(md map[string]any) map[string]any {
	if md == nil {
		return nil
	}
	out := make(map[string]any, len(md))
	for k, v := range md {
		if l, ok := v.([]any); ok {
			v = append([]any(nil), l...)
		}
		out[k] = v
	}
	return out
}

// CloneRecord returns a deep copy of r (vector and metadata included).
func CloneRecord(r Record) Record {
	if r.Vector != nil {
		r.Vector = append([]float32(nil), r.Vector...)
	}
	r.Metadata = CloneMetadata(r.Metadata)
	return r
}

// normalizeValue converts a Go value to the canonical metadata form:
// string, bool, float64 or (when allowList) []any of those.
func normalizeValue(v any, allowList bool) (any, error) {
	switch x := v.(type) {
	case string, bool:
		return x, nil
	case float64:
		return finite(x)
	case float32:
		return finite(float64(x))
	case int:
		return float64(x), nil
	case int8:
		return float64(x), nil
	case int16:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint:
		return float64(x), nil
	case uint8:
		return float64(x), nil
	case uint16:
		return float64(x), nil
	case uint32:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case interface{ Float64() (float64, error) }: // json.Number
		f, err := x.Float64()
		if err != nil {
			return nil, err
		}
		return finite(f)
	}
	if !allowList {
		return nil, fmt.Errorf("unsupported value %v (%T); use a string, bool or number", v, v)
	}
	var list []any
	switch x := v.(type) {
	case []any:
		list = x
	case []string:
		list = make([]any, len(x))
		for i, s := range x {
			list[i] = s
		}
	case []float64:
		list = make([]any, len(x))
		for i, s := range x {
			list[i] = s
		}
	case []int:
		list = make([]any, len(x))
		for i, s := range x {
			list[i] = s
		}
	case []bool:
		list = make([]any, len(x))
		for i, s := range x {
			list[i] = s
		}
	default:
		return nil, fmt.Errorf("unsupported value %v (%T); use a string, bool, number or a list of those", v, v)
	}
	out := make([]any, len(list))
	for i, e := range list {
		ne, err := normalizeValue(e, false)
		if err != nil {
			return nil, fmt.Errorf("list element %d: %w", i, err)
		}
		out[i] = ne
	}
	return out, nil
}

func finite(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %v is not finite", f)
	}
	return f, nil
}
