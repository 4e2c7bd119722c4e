// Package kb is bedrockkit's knowledge base: what Amazon Bedrock Knowledge
// Bases do, in-process.
//
// This file set defines the storage contract every vector-store backend
// implements:
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
