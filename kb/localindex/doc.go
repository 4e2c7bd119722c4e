// Package localindex is bedrockkit's default embedded vector store: a
// kbstore.Store that keeps vectors contiguous in memory (in pages of 4,096,
// so a growing index never copies the vectors it holds), scans them with
// SIMD dot products in parallel across cores, and persists through a
// checksummed write-ahead log and snapshots.
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
// returns. When the log passes Options.SnapshotBytes (or half the newest
// snapshot's size, whichever is more, so the cost of snapshots stays
// proportional to what is written), and on Close, the state is written to
// a snapshot through a temporary file, fsync and rename; other writers and
// readers go on while it is written. With HNSW,
// the graph is saved beside the snapshot, so reopening does not rebuild it
// (docs/localindex-scale.md has the measurements). Records are keyed by
// (partition, ID) in full, so distinct IDs never collide.
//
// # Damaged files
//
// Open loads the newest snapshot that verifies and replays the log after
// it, and never drops an acknowledged record silently:
//
//   - The unfinished last write a crash leaves at the end of the newest
//     log segment (a record cut short, or zeros where its bytes never
//     reached the disk) is cut: it was never acknowledged. This is the
//     only repair that loses bytes without a copy, and it is reported in
//     Recovery.TruncatedBytes, not as damage.
//   - A log record that does not verify is skipped and the replay goes on
//     with the next record that does (found where the damaged header says
//     it ends, else by scanning). Records are applied in strictly
//     increasing log position; a record found after damage is applied only
//     if its position is above the last one applied and within what the
//     skipped bytes could hold, and every position skipped is counted as
//     a lost record. A record whose length field alone is damaged is kept
//     when its checksum verifies the bytes up to the next record.
//   - A damaged snapshot is replaced by the previous one (two are kept,
//     with the log since the older) or by the whole log while it is still
//     there; otherwise the records that still verify in it are salvaged.
//   - If records were lost, Open fails with a *kbstore.CorruptionError (matching
//     kbstore.ErrCorrupt) that names each damaged region, its offsets and the
//     records (and log positions) it held, and changes nothing on disk.
//     With Options.AllowDataLoss it opens with every record it could read,
//     copies damaged log segments and moves damaged snapshots aside as
//     *.corrupt, writes a fresh snapshot so the next Open is clean, and
//     lists the loss in Recovery().Damage. Damage that loses nothing (a
//     damaged segment header, a damaged snapshot another file covers) is
//     repaired the same way without the option.
//
// With Options.NoSync a machine crash may lose the last writes of any
// segment, and Open may then report them as damage rather than as a torn
// tail. A frame embedded in a record's payload (document text holding a
// copy of a log record, say) could only be taken for a record when the
// length field of the record holding it is itself damaged, and must then
// still fit the log position order.
//
// # Encryption at rest
//
// With Options.Encryption the log, snapshots, graph files and the Int8
// vector file are encrypted with AES-256-GCM under data keys wrapped by a
// keyprovider.Provider: AWS KMS (keyprovider/awskms) or a key the caller holds
// (keyprovider.NewStatic). Every record is sealed on its own with its
// file and log position as associated data, and no nonce repeats under a
// key (each file, and each process appending to a log segment, seals
// under a fresh key), so the treatment of crashes and damaged files above
// is unchanged: a record that does not authenticate is damage, never
// data. A wrong or missing key fails Open before anything is read.
// RotateKey re-encrypts everything under a new data key while writers go
// on, then deletes the old key. See EncryptionOptions.
//
// # Search limits
//
// A search checks its context every 1,024 slots of a scan and every 64
// nodes a graph walk expands, so a deadline or cancellation ends it
// promptly with the context's error and releases the index's read lock
// (writers wait for that lock). The query's filter is compiled once per
// search (kbstore.Filter.Compile): in and notIn lists are hash sets, one lookup
// per record whatever their length, and kb refuses filters beyond its
// documented limits (kbstore.MaxFilterValues and the others) with
// bedrockkit.ErrInvalidInput. Without a deadline a search costs at most
// one pass over the partition's records.
package localindex
