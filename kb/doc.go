// Package kb is bedrockkit's knowledge base: what Amazon Bedrock Knowledge
// Bases do, in-process.
//
// A KnowledgeBase (New with Options: a Store, and optionally an Embedder,
// Chunker, Loaders and Model) does three things:
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
//     chunks returned as their parents. The keyword index lives in memory
//     (unless the store searches text itself, as kb/pgvector does), is
//     rebuilt from the store when a partition is first used and is kept in
//     step by Sync (a store written by another process is not seen until
//     the next New); its size per chunk is in docs/localindex-scale.md.
//   - RetrieveAndGenerate(ctx, question, opts): the passages go to the Model
//     delimited as untrusted data; the answer's [n] markers become Citations
//     in Bedrock's shape (spans of the answer linked to stored references).
//     A Session carries the conversation. With no passages it says it does
//     not know without calling the model; with no Model it answers
//     extractively.
//
// # Without an embedder
//
// A knowledge base whose Options have no Embedder is keyword-only: Sync
// stores the chunks without vectors, Retrieve searches them with BM25 (Keyword is
// then the default search type; Semantic and Hybrid fail with
// ErrNoEmbedder) and RetrieveAndGenerate answers from them, extractively
// or with a Model. Nothing is sent to an embedding model, so it runs
// offline with no test kit. Given an Embedder later, it refuses to mix
// vectors with the keyword-only data (*EmbedderChangedError) until one Sync
// with ReEmbed has embedded every document; from then on Hybrid is the
// default.
//
// # Sources and loaders
//
// A Source lists documents: NewDirSource (a folder on disk), FSSource (any
// fs.FS), MemorySource; kb/s3source lists an S3 prefix. A Loader turns a
// document's bytes into text by its extension: DefaultLoaders covers text,
// Markdown, HTML, CSV/TSV, JSON/JSON Lines and DOCX; PDF is the opt-in
// loader of kb/pdf. Heavy formats and sources live in their own packages
// so that importing kb links neither the S3 SDK, nor a PDF engine, nor the
// tables of legacy text encodings.
//
// # Limits
//
// One document can never take down or stall a Sync. Each runs within
// limits, and a document that reaches one fails alone with an *ItemError
// in SyncReport.Failures, wrapping ErrLoadLimit and the limit's own error,
// counted in SyncReport.OverLimit; the Sync goes on with the others:
//
//   - Options.MaxDocumentBytes (50 MiB) and a source's MaxSize bound the
//     bytes read (ErrTooLarge).
//   - Options.MaxTextBytes (32 MiB) bounds the text a loader extracts, with
//     HeadingCost bytes more per heading or page; loaders stop as soon as
//     they would pass it, so a small file that expands (flattened JSON
//     keys, CSV header names repeated per row, decompressed DOCX) cannot
//     build it first (ErrTextTooLarge).
//   - Each loader bounds the structure it streams: DOCX nesting depth,
//     element count, tag length and decompressed member size (zip bombs);
//     JSON nesting; CSV record length and fields per record
//     (ErrTooComplex). See the loaders' fields for the defaults.
//   - Options.LoadTimeout (one minute) bounds the time of one Load; the
//     loaders check their context inside every loop (ErrLoadTimeout).
//   - kb/pdf's engine runs each PDF in its own bounded memory
//     (ErrLoadMemory).
//
// A panicking loader fails its document with ErrMalformedDocument.
// Sources never read outside their folder: see FSSource for symbolic
// links (ErrSymlink, ErrOutsideRoot).
//
// # Stores
//
// Options.Store holds the chunks. Backends live in their own packages
// (kb/localindex, the embedded default; kb/pgvector; kb/chromem) so that
// importing kb pulls in no driver. What a store implements, and the
// helpers store authors use, are in kb/kbstore. Users meet that package
// only in its errors (kbstore.ErrPartitionRequired when a multi-tenant
// knowledge base or store is called without a partition) and in the
// figures of KnowledgeBase.StoreSize.
//
// # Filters
//
// RetrieveOptions.Filter restricts a search by chunk metadata with
// Bedrock's operators (equals, notEquals, greaterThan(OrEquals),
// lessThan(OrEquals), in, notIn, startsWith, listContains, stringContains,
// andAll, orAll), built with Equals, In, AndAll, ... . A Filter marshals to
// and from Bedrock's RetrievalFilter JSON and is evaluated inside each
// search, never by trimming results afterwards.
package kb
