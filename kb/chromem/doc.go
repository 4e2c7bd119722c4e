// Package chromem is a kbstore.Store backed by chromem-go
// (github.com/philippgille/chromem-go), held in memory and optionally made
// durable by this package's own log. It is for projects that already use
// chromem-go or want to compare against it; kb/localindex is the faster
// default.
//
// # Layout
//
// Each partition (tenant) is its own chromem-go collection, created when
// its first record arrives and dropped with its last, so a search never
// looks at another tenant's documents. Beside the collections the store
// keeps every record in typed form (chromem-go stores only
// map[string]string metadata): numbers, bools and lists come back exactly
// as written, and Get, Documents and search results are built from these
// copies, never from chromem-go's shared maps. Records without a vector
// live only there. chromem-go is given the unit-length vector; when the
// caller's vector is already unit length (as most embedding models return)
// it is shared rather than copied.
//
// # Safety around chromem-go
//
// chromem-go v0.7.0 has data races in Collection.Delete, Export during Add
// and DB.GetCollection, and its query results share metadata maps with the
// stored documents. This store holds its own read-write lock around every
// chromem-go call (searches shared, writes exclusive), never calls
// GetCollection or Export (it keeps the collection pointers itself), and
// returns deep copies. chromem-go fails a query whose nResults exceeds the
// collection size; the store clamps it. Its embedding function is one that
// fails, so chromem-go can never make a network call.
//
// # Filters
//
// chromem-go filters only by exact string equality (all keys must match).
// A kbstore.Filter that is an equals, or an andAll of equals, on scalar values
// is passed down as chromem-go's where clause, with each value encoded
// with its type so that the number 1, the string "1" and true stay
// distinct. Any other filter is evaluated by the store on its typed
// records first, which also gives the number m of matching records out
// of the partition's n:
//
//   - m = 0: no hits; m = n: searched without a filter.
//   - m <= n/4: the matching records are loaded into a temporary chromem-go
//     collection (sharing their vectors) and searched there: cost grows
//     with m, not n.
//   - otherwise: chromem-go is asked for the top k+2k(n/m+1) of the whole
//     partition, the matching ones are kept in order, and the request
//     widens fourfold until k match or it covers the partition.
//
// Every path returns the true top K among the matching records (the
// kbstoretest suite checks it), never a top K trimmed after the fact. Each
// search is still a full scan in chromem-go, which walks a map of
// documents; expect it to be several times slower than kb/localindex.
//
// The query's filter is compiled once per search (kbstore.Filter.Compile: in
// and notIn lists are hash sets), kb refuses filters beyond its documented
// limits (kbstore.MaxFilterValues and the others) with
// bedrockkit.ErrInvalidInput, and the scans that evaluate it check the
// context every 1,024 records, so a deadline ends a search promptly and
// releases the store's read lock.
//
// # Durability
//
// With Options.Dir every Upsert or DeleteDocuments call is appended to
// Dir/chromem.log as one frame (length, CRC-32C, payload) and fsynced
// before the call returns, so a batch survives a crash whole or not at
// all. Open replays the log. The unfinished last write a crash can leave
// at its end is copied aside (chromem.log.damaged-<offset>) and cut, as
// Recovery reports. A frame that does not verify anywhere else is skipped
// and the replay goes on with the next frame that does, in file order;
// since records were lost, Open then fails with a *kbstore.CorruptionError
// (matching kbstore.ErrCorrupt) that names each damaged region and the records it
// held, unless Options.AllowDataLoss, which keeps every record read,
// copies the damaged log to chromem.log.corrupt and rewrites the log. The
// log is
// rewritten with only the live records (temporary file, fsync, rename)
// when it outgrows them (Options.CompactBytes) or on Compact. chromem-go's
// own persistence is not used: it names files by a 32-bit hash of the ID
// (IDs collide) and rewrites them in place without fsync.
package chromem
