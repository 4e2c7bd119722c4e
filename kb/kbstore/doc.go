// Package kbstore is the contract between a knowledge base (package kb) and
// its vector store: what a Store implements and the helpers store authors
// use. Users of a knowledge base pick a store (kb/localindex, kb/pgvector,
// kb/chromem) and pass it as kb.Options.Store; they need this package only
// for its errors. Read on to write a store of your own.
//
// # The interface
//
// A Store holds chunk Records keyed by (Partition, ID) and answers five
// calls: Upsert (atomic per batch), DeleteDocuments, Search (the true top
// K by cosine similarity among the records that match the query's
// Filter), Get (by ID, vectors included) and Documents (the documents of a
// partition with their fingerprints, for incremental sync). Close ends
// it; later calls fail with ErrClosed. Two optional interfaces add to it:
// KeywordSearcher, for a store that searches text itself (the knowledge
// base otherwise keeps its own BM25 index), and StoreSizer, for a store
// that can say how big it is.
//
// A store is safe for concurrent use and never hands out its own data:
// what Get and Search return, and what Upsert was given, are copies
// (CloneRecord, CloneMetadata).
//
// # Validation
//
// Every store accepts and refuses the same input because every store calls
// the same checks: ValidateRecord on each record of an Upsert (IDs, vector
// length and finiteness, metadata normalised to string, bool, float64 or
// []any of those) and ValidateQuery at the start of Search. The errors
// wrap bedrockkit.ErrInvalidInput; a vector of the wrong length gives a
// *DimensionError matching ErrDimensionMismatch and
// bedrockkit.ErrDimensionMismatch; a multi-tenant store (one that requires
// a partition) refuses a call without one with ErrPartitionRequired,
// failing closed instead of searching every tenant.
//
// # Filters
//
// A Filter is Bedrock's metadata filter: a tree of operators (equals,
// notEquals, greaterThan(OrEquals), lessThan(OrEquals), in, notIn,
// startsWith, listContains, stringContains, andAll, orAll) with Bedrock's
// RetrievalFilter JSON form. Match is the reference evaluation, with
// documented rules for absent keys and type mismatches. A store either
// compiles the query's filter once per search (Compile; in and notIn
// lists become hash sets) and calls CompiledFilter.Match on each candidate
// inside its scan or index walk, or translates the filter to its
// backend's own language and checks the translation against Match with
// the generators of kb/kbstore/kbstoretest. A filter beyond the limits
// (MaxFilterDepth, MaxFilterNodes, MaxFilterValues, MaxFilterBytes) is
// refused with a *FilterError.
//
// # Conformance
//
// kb/kbstore/kbstoretest is the conformance suite: upsert, replace and
// delete semantics, every filter operator, exact top K against brute
// force, invalid input, atomic batches, aliasing, concurrency, closed
// stores, cancelled contexts and tenant isolation. A store passes it
// before it is used with a knowledge base.
//
// # Damaged files
//
// A store that persists to files and finds them damaged on open fails with
// a *CorruptionError (matching ErrCorrupt) listing each damaged region as a
// Damage, with the records it lost, instead of dropping records silently;
// kb/localindex and kb/chromem do, and open with what is readable only
// when their Options.AllowDataLoss says so.
//
// # The knowledge base's own record
//
// A knowledge base keeps its configuration in each partition it uses as
// one record with the ID ConfigRecordID. A store holds it like any other;
// the stores of this module leave its document out of Documents.
package kbstore
