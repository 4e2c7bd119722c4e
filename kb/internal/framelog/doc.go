// Package framelog writes and reads the checksummed frames of the kb
// stores' on-disk logs (kb/localindex, kb/chromem) and recovers every
// frame it can from a damaged file.
//
// A frame is
//
//	u32 payload length | u32 CRC-32C of the payload | payload
//
// all little endian. [Scan] walks a file's frames and splits it into
// pieces: records (frames that verify and that the caller accepts),
// damaged regions (bytes that do not frame), and at most one torn tail.
//
// # Resynchronisation
//
// When the frame at offset d does not verify, Scan looks for the next
// frame that does: first at the end d+8+length that the damaged header
// announces (the usual case of damage inside a payload), then at every
// later offset. A candidate must have a plausible length, pass the
// caller's cheap Plausible check on its first bytes, verify its checksum
// and be accepted by the caller. The bytes between d and the candidate
// are one damaged region. If the checksum stored at d verifies the bytes
// up to the candidate, only the length field was damaged and the record
// is returned, marked Repaired. The work spent checksumming candidates is
// bounded (ScanOptions.Budget); when it runs out the rest of the file is
// one damaged region of unknown content.
//
// A frame embedded in another record's payload (for example document text
// holding a copy of a log frame) verifies like any other. Scan never looks
// inside a payload whose header length is intact and whose end is followed
// by a valid frame, so such an embedded frame can only be picked up when
// the length field of the record holding it is itself damaged; callers
// should check what they can (sequence numbers, decoding) in Accept.
//
// # Torn tails
//
// With ScanOptions.Tail (the newest file of a log), damage that no valid
// frame follows is a torn tail, the expected result of a crash during the
// last write, when it looks like one: fewer than 8 bytes left, a header
// announcing more bytes than the file holds, or bytes that are all zero,
// or a 512-byte sector of the record that reads as zeros (a write the disk
// did not finish) while no single corrupted byte explains the checksum
// mismatch. Anything else at the end (a complete last record whose checksum
// fails because of one changed byte) is damage: that record may have been
// acknowledged.
package framelog
