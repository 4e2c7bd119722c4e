// Package localindex is bedrockkit's default embedded vector store: a
// kb.Store that keeps vectors contiguous in memory, scans them with SIMD dot
// products in parallel across cores, and persists through a checksummed
// write-ahead log and snapshots.
//
// Search is exact by default: every vector of the partition is considered
// (filters and partitions are evaluated inside the scan), the best K kept
// in per-worker heaps and merged. By default (Quantization Auto) the scan
// reads int8 codes kept beside the float32 vectors and scores in float32
// only the vectors whose quantisation error bound could place them in the
// top K, so results are exactly a float32 scan's at about a quarter of the
// memory traffic. Options trade memory or exactness:
//
//   - Quantization: Float32 drops the codes (least memory, plain scan);
//     Int8 keeps only the codes in memory and, with a Dir, the float32
//     vectors on disk for the exact rescoring (still exact results).
//   - HNSW: a navigable small-world graph for large collections
//     (approximate). Queries with a selective filter (under 10% of records)
//     are answered exactly from the matching records instead of the graph.
//
// Durability (with Options.Dir): every Upsert or DeleteDocuments call is one
// log record, framed with its length and CRC-32C and fsynced before the call
// returns. When the log passes Options.SnapshotBytes, and on Close, the
// state is written to a snapshot through a temporary file, fsync and
// rename; other writers and readers go on while it is written. With HNSW,
// the graph is saved beside the snapshot, so reopening does not rebuild it
// (1.3 s instead of 11 s at 100,000 x 384 here). Open loads the newest
// snapshot that verifies and replays the log after it; a torn or corrupt
// tail is cut, and a bad file is set aside and reported in Recovery
// instead of failing the open. Records are keyed by
// (partition, ID) in full, so distinct IDs never collide.
package localindex
