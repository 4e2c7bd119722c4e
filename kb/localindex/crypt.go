package localindex

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/internal/envelope"
	"github.com/bedrockkit/bedrockkit/kb/internal/framelog"
	"github.com/bedrockkit/bedrockkit/keyprovider"
)

// EncryptionOptions encrypts the index's files at rest.
//
// The write-ahead log, the snapshots, the HNSW graph files and the
// on-disk vector file (Quantization Int8) are encrypted with AES-256-GCM.
// Each file gets its own key, derived (HKDF-SHA256) from a data key and a
// random salt; the data key is stored only wrapped by Keys, in the files
// key-<id>.dek and key-<id>.dek.bak of Dir, and unwrapped once per Open.
// Every log record and snapshot record is sealed on its own, its nonce a
// counter that never repeats under its key (a file written again after a
// crash or a reopen gets a fresh key), with its place as associated data:
// the file's kind and log position, and the record's log position, so a
// record cannot be moved, swapped or replayed into another file or
// position without failing to authenticate. The checksummed framing is
// unchanged, so crash recovery and the treatment of damaged files are the
// same as without encryption: a record that does not authenticate is
// damage, never data. The vector file's key exists only in memory.
//
// Open fails without reading anything when the key is wrong (an error
// matching keyprovider.ErrWrongKey) or unavailable (no Encryption for an
// encrypted Dir, a missing key file, a KMS error: keyprovider.
// ErrKeyUnavailable). Record counts, vector dimensions and file sizes are
// not hidden.
type EncryptionOptions struct {
	// Keys wraps and unwraps the data keys. Required.
	Keys keyprovider.Provider
	// AllowPlaintext lets Open read files written without encryption,
	// to encrypt an existing index: new writes are encrypted, and the
	// old files are replaced as snapshots and RotateKey rewrite them.
	// Without it, an unencrypted file (or record) in Dir fails Open.
	AllowPlaintext bool
}

// Sealed file formats: the same layout as the plain ones, with another
// magic, and every frame's payload sealed (envelope: key ID, salt,
// counter, ciphertext, tag):
//
//	wal-<lsn>.log    walMagicSealed, then frames of
//	                 u64 lsn | u8 op|opSealed | sealed(body)
//	                 associated data "wal" | u64 segment lsn | u64 lsn | u8 op
//	snap-<lsn>.snap  snapMagicSealed | u64 lsn | u32 dims | u64 count, then
//	                 count frames of sealed(record) and a sealed trailer;
//	                 associated data "snap" | u64 lsn; the counters are
//	                 the frame numbers (0..count), checked on load
//	graph-<lsn>.hnsw graphMagicSealed | sealed(graph file without its
//	                 magic), associated data "graph" | u64 lsn
//	vectors.f32      per slot: sealed(4*dim bytes), associated data
//	                 "vec" | u32 slot, under a key kept only in memory
const (
	walMagicSealed   = "BKWAL02\n"
	snapMagicSealed  = "BKSNP02\n"
	graphMagicSealed = "BKHNSW2\n"

	opSealed byte = 0x80

	keyPrefix = "key-"
)

func walAAD(seg, lsn uint64, op byte) []byte {
	b := make([]byte, 0, 3+17)
	b = append(b, "wal"...)
	b = binary.LittleEndian.AppendUint64(b, seg)
	b = binary.LittleEndian.AppendUint64(b, lsn)
	return append(b, op)
}

func snapAAD(lsn uint64) []byte {
	return binary.LittleEndian.AppendUint64([]byte("snap"), lsn)
}

func graphAAD(lsn uint64) []byte {
	return binary.LittleEndian.AppendUint64([]byte("graph"), lsn)
}

func vecAAD(s int32) []byte {
	return binary.LittleEndian.AppendUint32([]byte("vec"), uint32(s))
}

// errNoKey is the error for sealed data met without Options.Encryption.
func (ix *Index) errNoKey(what string) error {
	return fmt.Errorf("localindex: %s in %s is encrypted; open the index with Options.Encryption and the key provider it was written with: %w",
		what, ix.opts.Dir, keyprovider.ErrKeyUnavailable)
}

// errPlaintext is the error for unencrypted data met with Encryption but
// without AllowPlaintext.
func (ix *Index) errPlaintext(what string) error {
	return fmt.Errorf("localindex: %s in %s is not encrypted; set Options.Encryption.AllowPlaintext to encrypt an existing index: %w",
		what, ix.opts.Dir, bedrockkit.ErrInvalidInput)
}

// openKeys checks Dir against Options.Encryption before anything is read
// and loads the keyring (creating the first data key for a new index).
func (ix *Index) openKeys(ctx context.Context) error {
	dir := ix.opts.Dir
	enc := ix.opts.Encryption
	if enc == nil {
		if envelope.HasKeyFiles(dir, keyPrefix) {
			return ix.errNoKey("the index")
		}
		return nil
	}
	files := 0
	for _, f := range []struct{ prefix, suffix, magic string }{
		{"wal-", ".log", walMagic}, {"snap-", ".snap", snapMagic}, {"graph-", ".hnsw", graphMagic},
	} {
		lsns, err := listFiles(dir, f.prefix, f.suffix)
		if err != nil {
			return fmt.Errorf("localindex: read %s: %w", dir, err)
		}
		if f.prefix != "graph-" {
			files += len(lsns) // a graph file alone is a leftover
		}
		for _, l := range lsns {
			name := filepath.Join(dir, fmt.Sprintf("%s%016x%s", f.prefix, l, f.suffix))
			if !enc.AllowPlaintext && head(name, len(f.magic)) == f.magic {
				return ix.errPlaintext(filepath.Base(name))
			}
		}
	}
	// The first data key is made for a new index (or one being
	// encrypted), never where encrypted files have lost their key files.
	hasKeys := envelope.HasKeyFiles(dir, keyPrefix)
	if !hasKeys && files > 0 && !enc.AllowPlaintext {
		return fmt.Errorf("localindex: %s holds index files but no key files (key-*.dek); restore them from a backup: %w", dir, keyprovider.ErrKeyUnavailable)
	}
	keys, err := envelope.LoadKeyring(ctx, dir, keyPrefix, enc.Keys, !hasKeys)
	if err != nil {
		return fmt.Errorf("localindex: open the data keys of %s: %w", dir, err)
	}
	ix.keys = keys
	return nil
}

// head returns the first n bytes of a file ("" if unreadable).
func head(name string, n int) string {
	f, err := os.Open(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	b := make([]byte, n)
	m, _ := f.ReadAt(b, 0)
	return string(b[:m])
}

// openWALPayload decodes a log payload: plain (u64 lsn | op | body) or
// sealed. It returns the operation without the sealed flag and the body
// (in buf when sealed). kerr is set when the record cannot be read for
// want of a key, as opposed to damage.
func (ix *Index) openWALPayload(seg uint64, p, buf []byte) (lsn uint64, op byte, body []byte, kerr error, ok bool) {
	if len(p) < 9 {
		return 0, 0, nil, nil, false
	}
	lsn, op = binary.LittleEndian.Uint64(p), p[8]
	if op&opSealed == 0 {
		if ix.keys != nil && !ix.opts.Encryption.AllowPlaintext {
			return 0, 0, nil, ix.errPlaintext(fmt.Sprintf("log record %d", lsn)), false
		}
		return lsn, op, p[9:], nil, true
	}
	op &^= opSealed
	if ix.keys == nil {
		return 0, 0, nil, ix.errNoKey(fmt.Sprintf("log record %d", lsn)), false
	}
	body, _, err := ix.keys.Open(buf[:0], p[9:], walAAD(seg, lsn, op), "wal")
	if err != nil {
		if errors.Is(err, keyprovider.ErrKeyUnavailable) {
			return 0, 0, nil, fmt.Errorf("localindex: log record %d: %w", lsn, err), false
		}
		return 0, 0, nil, nil, false
	}
	return lsn, op, body, nil, true
}

// sealedOps are the operation bytes a log record may carry.
func validOp(op byte) bool {
	op &^= opSealed
	return op == opUpsert || op == opDelete
}

// snapFrame decodes the payload of snapshot frame i (sealed when the
// snapshot is). want is the counter a sealed frame must carry (-1: any,
// when salvaging).
func (ix *Index) openSnapFrame(sealed bool, lsn uint64, p, buf []byte, want int64) ([]byte, uint64, error) {
	if !sealed {
		return p, 0, nil
	}
	out, c, err := ix.keys.Open(buf[:0], p, snapAAD(lsn), "snap")
	if err != nil {
		return nil, 0, err
	}
	if want >= 0 && c != uint64(want) {
		return nil, 0, fmt.Errorf("frame %d carries position %d", want, c)
	}
	return out, c, nil
}

// keysInUse returns the data keys the files of Dir are sealed under, and
// false if some file's keys could not be read (it may use any key).
func (ix *Index) keysInUse() (map[uint64]bool, bool) {
	dir := ix.opts.Dir
	used := map[uint64]bool{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, false
	}
	for _, e := range ents {
		n := e.Name()
		base := strings.TrimSuffix(n, ".corrupt")
		if i := strings.LastIndexByte(base, '.'); strings.HasSuffix(n, ".corrupt") && i > 0 && strings.Count(base, ".") > 1 {
			base = base[:i] // name.N.corrupt
		}
		var ok bool
		switch {
		case strings.HasSuffix(n, ".tmp"):
			ok = true // removed on the next Open; written under the current key
		case strings.HasPrefix(base, "wal-") && strings.HasSuffix(base, ".log"):
			ok = segmentKeys(filepath.Join(dir, n), used)
		case strings.HasPrefix(base, "snap-") && strings.HasSuffix(base, ".snap"):
			ok = snapshotKeys(filepath.Join(dir, n), used)
		case strings.HasPrefix(base, "graph-") && strings.HasSuffix(base, ".hnsw"):
			ok = graphKeys(filepath.Join(dir, n), used)
		default:
			ok = true
		}
		if !ok {
			return nil, false
		}
	}
	return used, true
}

// segmentKeys adds the keys of a log segment's records; false if the
// segment does not frame cleanly.
func segmentKeys(name string, used map[uint64]bool) bool {
	data, err := os.ReadFile(name)
	if err != nil {
		return false
	}
	if len(data) < len(walMagic) {
		return len(data) == 0 || strings.HasPrefix(walMagic, string(data)) || strings.HasPrefix(walMagicSealed, string(data))
	}
	for pc := range framelog.Scan(data, framelog.ScanOptions{Start: int64(len(walMagic)), Tail: true, MinPayload: 9, MaxPayload: maxRecord}) {
		if pc.Kind != framelog.Record {
			return false
		}
		if pc.Payload[8]&opSealed != 0 {
			id, _, _, _, err := envelope.Parse(pc.Payload[9:])
			if err != nil {
				return false
			}
			used[id] = true
		}
	}
	return true
}

// snapshotKeys adds the key of a snapshot (one sealer writes it): the
// key of its first frame.
func snapshotKeys(name string, used map[uint64]bool) bool {
	const hdr = len(snapMagic) + 20
	b := []byte(head(name, hdr+framelog.HeaderSize+envelope.KeyIDSize))
	switch {
	case len(b) >= len(snapMagic) && string(b[:len(snapMagic)]) == snapMagic:
		return true
	case len(b) == hdr+framelog.HeaderSize+envelope.KeyIDSize && string(b[:len(snapMagicSealed)]) == snapMagicSealed:
		used[binary.LittleEndian.Uint64(b[hdr+framelog.HeaderSize:])] = true
		return true
	}
	return false
}

// graphKeys adds the key of a graph file.
func graphKeys(name string, used map[uint64]bool) bool {
	b := []byte(head(name, len(graphMagicSealed)+envelope.KeyIDSize))
	switch {
	case len(b) >= len(graphMagic) && string(b[:len(graphMagic)]) == graphMagic:
		return true
	case len(b) == len(graphMagicSealed)+envelope.KeyIDSize && string(b[:len(graphMagicSealed)]) == graphMagicSealed:
		used[binary.LittleEndian.Uint64(b[len(graphMagicSealed):])] = true
		return true
	}
	return false
}

// retireKeys deletes the key files of data keys that no file of Dir uses
// any more. Caller holds snapMu (no file is being rewritten).
func (ix *Index) retireKeys() error {
	if ix.keys == nil {
		return nil
	}
	ids := ix.keys.IDs()
	if len(ids) < 2 {
		return nil
	}
	used, ok := ix.keysInUse()
	if !ok {
		return errors.New("some files' keys could not be read (damaged files, or *.corrupt copies: delete those you no longer need)")
	}
	cur := ix.keys.Current()
	var errs []error
	for _, id := range ids {
		if id != cur && !used[id] {
			errs = append(errs, ix.keys.Retire(id))
		}
	}
	return errors.Join(errs...)
}

// RotateKey makes a new data key current, re-encrypts every file of Dir
// under it and then deletes the old data keys' files, so nothing the old
// keys protected remains readable with them. Writers and readers go on
// meanwhile: log records written from the start of the call go to a new
// segment under the new key, and the other files are rewritten one at a
// time through a temporary file and a rename (a crash leaves each under
// either key; both are kept until every file is rewritten). With
// keyprovider/awskms, the new data key is wrapped by the KMS key the
// provider names now, so RotateKey also moves an index to another KMS key.
// Files under Encryption.AllowPlaintext are encrypted too.
//
// It fails with bedrockkit.ErrInvalidInput for an index without
// encryption. If a file cannot be rewritten (it is damaged, say), or a
// *.corrupt copy set aside by an earlier recovery uses an old key, the
// new key is in use but the old ones are kept, and the error says why.
func (ix *Index) RotateKey(ctx context.Context) error {
	if ix.keys == nil {
		return fmt.Errorf("localindex: RotateKey on an index without Options.Encryption: %w", bedrockkit.ErrInvalidInput)
	}
	ix.walMu.Lock()
	ix.mu.RLock()
	err := ix.usable()
	ix.mu.RUnlock()
	if err == nil {
		err = ix.broken
	}
	if err != nil {
		ix.walMu.Unlock()
		return err
	}
	ix.snapMu.Lock() // no snapshot starts or removes files meanwhile
	defer ix.snapMu.Unlock()
	if _, err := ix.keys.Rotate(ctx); err != nil {
		ix.walMu.Unlock()
		return fmt.Errorf("localindex: rotate the data key: %w", err)
	}
	err = ix.log.newSegment(true)
	active := ""
	if ix.log.f != nil {
		active = filepath.Base(ix.log.f.Name())
	}
	ix.walMu.Unlock()
	if err != nil {
		return fmt.Errorf("localindex: start a log segment under the new key (the old key stays in use): %w", err)
	}
	dir := ix.opts.Dir
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("localindex: RotateKey stopped before %s (new writes use the new key; the old key is kept): %w", n, err)
		}
		var rerr error
		switch {
		case n == active || strings.HasSuffix(n, ".tmp"):
			continue
		case strings.HasPrefix(n, "wal-") && strings.HasSuffix(n, ".log"):
			rerr = ix.resealSegment(n)
		case strings.HasPrefix(n, "snap-") && strings.HasSuffix(n, ".snap"):
			rerr = ix.resealSnapshot(n)
		case strings.HasPrefix(n, "graph-") && strings.HasSuffix(n, ".hnsw"):
			rerr = ix.resealGraph(n)
		}
		if rerr != nil {
			return fmt.Errorf("localindex: re-encrypt %s under the new key (new writes use it; the old key is kept): %w", n, rerr)
		}
	}
	if err := ix.retireKeys(); err != nil {
		return fmt.Errorf("localindex: the index is re-encrypted under the new key, but the old key was kept: %w", err)
	}
	return nil
}

// lsnOf parses the log position in a file name prefix<hex>suffix.
func lsnOf(name, prefix, suffix string) (uint64, error) {
	var v uint64
	_, err := fmt.Sscanf(strings.TrimSuffix(strings.TrimPrefix(name, prefix), suffix), "%x", &v)
	return v, err
}

// replaceFile writes data to name through a temporary file, fsync and
// rename, then fsyncs the directory.
func (ix *Index) replaceFile(name string, data []byte) error {
	if err := writeFileAtomic(filepath.Join(ix.opts.Dir, name), data, true); err != nil {
		return err
	}
	return syncDir(ix.opts.Dir)
}

// resealSegment rewrites a log segment (not the active one) with every
// record sealed by a new sealer under the current key.
func (ix *Index) resealSegment(name string) error {
	seg, err := lsnOf(name, "wal-", ".log")
	if err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(ix.opts.Dir, name))
	if err != nil {
		return err
	}
	if len(data) < len(walMagic) {
		return errors.New("segment header damaged")
	}
	seal, err := ix.keys.NewSealer("wal")
	if err != nil {
		return err
	}
	out := append(make([]byte, 0, len(data)+len(data)/16), walMagicSealed...)
	var buf, p []byte
	var bad error
	for pc := range framelog.Scan(data, framelog.ScanOptions{Start: int64(len(walMagic)), MinPayload: 9, MaxPayload: maxRecord}) {
		if pc.Kind != framelog.Record {
			return fmt.Errorf("damaged at offset %d (%s)", pc.Off, pc.Reason)
		}
		lsn, op, body, kerr, ok := ix.openWALPayload(seg, pc.Payload, buf)
		if !ok {
			bad = kerr
			if bad == nil {
				bad = fmt.Errorf("record at offset %d does not authenticate", pc.Off)
			}
			return bad
		}
		if pc.Payload[8]&opSealed != 0 {
			buf = body[:0]
		}
		p = binary.LittleEndian.AppendUint64(p[:0], lsn)
		p = append(p, op|opSealed)
		p, _ = seal.Seal(p, body, walAAD(seg, lsn, op))
		out = framelog.Append(out, p)
	}
	return ix.replaceFile(name, out)
}

// resealSnapshot rewrites a snapshot under the current key, frame by
// frame (counters are frame numbers again).
func (ix *Index) resealSnapshot(name string) error {
	lsn, err := lsnOf(name, "snap-", ".snap")
	if err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(ix.opts.Dir, name))
	if err != nil {
		return err
	}
	const hdr = len(snapMagic) + 20
	if len(data) < hdr {
		return errors.New("snapshot header damaged")
	}
	sealed := false
	switch string(data[:len(snapMagic)]) {
	case snapMagic:
	case snapMagicSealed:
		sealed = true
	default:
		return errors.New("snapshot header damaged")
	}
	count := binary.LittleEndian.Uint64(data[len(snapMagic)+12:])
	seal, err := ix.keys.NewSealer("snap")
	if err != nil {
		return err
	}
	out := append(make([]byte, 0, len(data)+len(data)/16), snapMagicSealed...)
	out = append(out, data[len(snapMagic):hdr]...)
	aad := snapAAD(lsn)
	var buf, sb []byte
	i := int64(0)
	for pc := range framelog.Scan(data, framelog.ScanOptions{Start: int64(hdr), MinPayload: 1, MaxPayload: maxRecord}) {
		if pc.Kind != framelog.Record {
			return fmt.Errorf("damaged at offset %d (%s)", pc.Off, pc.Reason)
		}
		p, _, err := ix.openSnapFrame(sealed, lsn, pc.Payload, buf, i)
		if err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
		if sealed {
			buf = p[:0]
		}
		sb, _ = seal.Seal(sb[:0], p, aad)
		out = framelog.Append(out, sb)
		i++
	}
	if uint64(i) != count+1 {
		return fmt.Errorf("%d frames, the header counts %d records and a trailer", i, count)
	}
	return ix.replaceFile(name, out)
}

// resealGraph rewrites a graph file under the current key.
func (ix *Index) resealGraph(name string) error {
	lsn, err := lsnOf(name, "graph-", ".hnsw")
	if err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(ix.opts.Dir, name))
	if err != nil {
		return err
	}
	plain, err := ix.openGraph(lsn, data)
	if err != nil {
		// Only speed is lost: Open rebuilds a missing graph.
		return ignoreNotExistErr(os.Remove(filepath.Join(ix.opts.Dir, name)))
	}
	if len(plain) < len(graphMagic) || string(plain[:len(graphMagic)]) != graphMagic {
		return ignoreNotExistErr(os.Remove(filepath.Join(ix.opts.Dir, name)))
	}
	out, err := ix.sealGraph(lsn, plain)
	if err != nil {
		return err
	}
	return ix.replaceFile(name, out)
}

func ignoreNotExistErr(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
