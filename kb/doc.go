// Package kb is bedrockkit's knowledge base: what Amazon Bedrock Knowledge
// Bases do, in-process.
//
// A KnowledgeBase (New with a Config: Store, Embedder, optional Chunker,
// Loaders and Model) does three things:
//
//   - Sync(ctx, source, opts) makes the store reflect a Source: documents
//     are keyed by URI and fingerprinted by content hash, so only new and
//     modified documents are loaded, chunked and embedded (concurrently, in
//     batches, rate limited, retried) and deleted ones are removed. The
//     SyncReport has Bedrock's ingestion statistics and a reason per failed
//     document. Each document is written in one atomic store write, so a
//     crash loses nothing and the next Sync finishes the job. One embedding
//     model per knowledge base: another is refused unless ReEmbed is set.
//   - Retrieve(ctx, query, opts): Semantic, Keyword (BM25 over an English
//     analyzer: lower-casing, stop words, Porter stemming) or Hybrid
//     (weighted reciprocal-rank fusion) search, 1 to 100 results, a Filter
//     applied inside each search, an optional Reranker, and hierarchical
//     chunks returned as their parents. The keyword index lives in memory,
//     is rebuilt from the store when a partition is first used and is kept
//     in step by Sync (a store written by another process is not seen until
//     the next New).
//   - RetrieveAndGenerate(ctx, question, opts): the passages go to the Model
//     delimited as untrusted data; the answer's [n] markers become Citations
//     in Bedrock's shape (spans of the answer linked to stored references).
//     A Session carries the conversation. With no passages it says it does
//     not know without calling the model; with no Model it answers
//     extractively.
//
// The rest of the package defines the storage contract every vector-store
// backend implements:
//
//   - Store: upsert chunk Records, delete by document, search by vector with
//     a Filter evaluated inside the search, fetch by ID, and list document
//     fingerprints for incremental sync. KeywordSearcher is the optional
//     extension for stores that search text themselves.
//   - Filter: Bedrock's metadata filter operators (equals, notEquals,
//     greaterThan(OrEquals), lessThan(OrEquals), in, notIn, startsWith,
//     listContains, stringContains, andAll, orAll) with Bedrock's
//     RetrievalFilter JSON form and a local evaluator with documented rules
//     for absent keys and type mismatches.
//   - Tenancy: records and queries carry a Partition; a store configured to
//     require one fails closed (ErrPartitionRequired) instead of searching
//     everything.
//
// Backends live in their own packages (kb/localindex, ...) so importing kb
// pulls in no driver, and each runs the shared conformance suite in
// kb/storetest.
package kb
