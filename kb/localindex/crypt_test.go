package localindex

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/internal/envelope"
	"github.com/bedrockkit/bedrockkit/kb/internal/framelog"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/keyprovider"
)

func encOpts(dir string, p keyprovider.Provider) Options {
	return Options{Dir: dir, NoSync: true, Encryption: &EncryptionOptions{Keys: p}}
}

// secretRecord carries text and a vector whose bytes the tests look for
// in the files.
func secretRecord(i int) kbstore.Record {
	v := make([]float32, 16)
	for j := range v {
		v[j] = float32(math.Sin(float64(i*(j+3)))) + 0.0123
	}
	return kbstore.Record{ID: fmt.Sprintf("secret-id-%04d", i), DocumentID: "doc-" + strconv.Itoa(i/3), Text: fmt.Sprintf("confidential text number %04d", i),
		Vector: v, Metadata: map[string]any{"owner": fmt.Sprintf("customer-%04d", i)}}
}

// dirBytes returns every file of dir, by name.
func dirBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// TestEncryptedFilesHoldNoPlaintext: no text, ID, metadata value or
// vector of any record can be found in any file of an encrypted Dir
// (log, snapshots, graph, the Int8 vector file while open).
func TestEncryptedFilesHoldNoPlaintext(t *testing.T) {
	for name, o := range map[string]Options{
		"auto": {},
		"hnsw": {HNSW: &HNSWOptions{MinRecords: 50, M: 4, EfConstruction: 16}},
		"int8": {Quantization: Int8},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			o.Dir, o.NoSync, o.Encryption = dir, true, &EncryptionOptions{Keys: testKey("k")}
			ix, err := Open(o)
			if err != nil {
				t.Fatal(err)
			}
			var recs []kbstore.Record
			for i := range 120 {
				recs = append(recs, secretRecord(i))
				if i%40 == 39 {
					if err := ix.Upsert(bg, recs); err != nil {
						t.Fatal(err)
					}
					recs = nil
				}
			}
			if _, err := ix.DeleteDocuments(bg, "", []string{"doc-1"}); err != nil {
				t.Fatal(err)
			}
			check := func(when string) {
				for f, b := range dirBytes(t, dir) {
					for i := range 120 {
						r := secretRecord(i)
						for _, s := range []string{r.ID, r.Text, r.Metadata["owner"].(string), "doc-1"} {
							if bytes.Contains(b, []byte(s)) {
								t.Fatalf("%s: %s holds %q", when, f, s)
							}
						}
						vb := binary.LittleEndian.AppendUint32(nil, math.Float32bits(r.Vector[5]))
						vb = binary.LittleEndian.AppendUint32(vb, math.Float32bits(r.Vector[6]))
						if bytes.Contains(b, vb) {
							t.Fatalf("%s: %s holds record %d's vector", when, f, i)
						}
					}
				}
			}
			check("open") // log and, for Int8, the vector file
			if err := ix.Close(); err != nil {
				t.Fatal(err)
			}
			check("closed") // snapshot and graph
			if o.HNSW != nil {
				if g, _ := filepath.Glob(filepath.Join(dir, "graph-*.hnsw")); len(g) == 0 {
					t.Fatal("no graph file written")
				}
			}
			ix, err = Open(o)
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			if ix.Len() != 117 {
				t.Fatalf("%d records after reopening, want 117", ix.Len())
			}
			got, err := ix.Get(bg, "", []string{secretRecord(7).ID})
			want, _ := kbstore.ValidateRecord(secretRecord(7), 0, false)
			if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Fatalf("record 7 after reopening: %+v, %v", got, err)
			}
			if o.HNSW != nil && !ix.Recovery().GraphLoaded {
				t.Fatalf("encrypted graph not loaded: %+v", ix.Recovery())
			}
			if hits, err := ix.Search(bg, kbstore.Query{Vector: secretRecord(50).Vector, K: 1}); err != nil || len(hits) != 1 || hits[0].ID != secretRecord(50).ID {
				t.Fatalf("search: %v %v", hits, err)
			}
		})
	}
}

// writeEncrypted makes an encrypted index of n records (one Upsert each)
// under p; with snapshot, closed with a snapshot and a log tail after it.
func writeEncrypted(t *testing.T, p keyprovider.Provider, n int) string {
	t.Helper()
	dir := t.TempDir()
	ix, err := Open(encOpts(dir, p))
	if err != nil {
		t.Fatal(err)
	}
	writeAcked(t, ix, 0, n/2)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err = Open(encOpts(dir, p))
	if err != nil {
		t.Fatal(err)
	}
	writeAcked(t, ix, n/2, n)
	ix.close(false)
	return dir
}

// TestWrongOrMissingKeyFailsOpen: the wrong key, no key, a lying
// provider, missing key files: Open fails with a clear error, reads
// nothing and changes nothing.
func TestWrongOrMissingKeyFailsOpen(t *testing.T) {
	dir := writeEncrypted(t, testKey("right"), 20)
	before := dirBytes(t, dir)
	unchanged := func(what string) {
		t.Helper()
		if after := dirBytes(t, dir); !reflect.DeepEqual(before, after) {
			t.Fatalf("%s: Open changed the directory", what)
		}
	}
	sameID := func() keyprovider.Provider { // another key under the same ID
		p, _ := keyprovider.NewStatic(keyprovider.StaticKey{ID: "right", Key: bytes.Repeat([]byte{9}, 32)})
		return p
	}()
	for what, c := range map[string]struct {
		o    Options
		want error
	}{
		"wrong key":           {encOpts(dir, testKey("wrong")), keyprovider.ErrWrongKey},
		"wrong key, same ID":  {encOpts(dir, sameID), keyprovider.ErrWrongKey},
		"lying provider":      {encOpts(dir, randomKeys{}), keyprovider.ErrWrongKey},
		"no Encryption":       {Options{Dir: dir, NoSync: true}, keyprovider.ErrKeyUnavailable},
		"no Encryption, loss": {Options{Dir: dir, NoSync: true, AllowDataLoss: true}, keyprovider.ErrKeyUnavailable},
	} {
		ix, err := Open(c.o)
		if err == nil {
			ix.Close()
			t.Fatalf("%s: Open succeeded", what)
		}
		if !errors.Is(err, c.want) || !errors.Is(err, bedrockkit.ErrInvalidInput) || !strings.Contains(err.Error(), "key") {
			t.Fatalf("%s: Open = %v, want %v", what, err, c.want)
		}
		unchanged(what)
	}
	// Key files removed: a clear error, no new key made.
	d2 := copyDir(t, dir)
	keys, _ := filepath.Glob(filepath.Join(d2, "key-*"))
	for _, k := range keys {
		os.Remove(k)
	}
	if _, err := Open(encOpts(d2, testKey("right"))); !errors.Is(err, keyprovider.ErrKeyUnavailable) {
		t.Fatalf("key files missing: %v", err)
	}
	if k, _ := filepath.Glob(filepath.Join(d2, "key-*")); len(k) != 0 {
		t.Fatalf("Open made key files %v where encrypted files lost theirs", k)
	}
	// Key files gone and opened without Encryption: the sealed records
	// are reported as needing a key, not as damage.
	if _, err := Open(Options{Dir: d2, NoSync: true}); !errors.Is(err, keyprovider.ErrKeyUnavailable) || errors.Is(err, kbstore.ErrCorrupt) {
		t.Fatalf("encrypted records without key files or Encryption: %v", err)
	}
	// The right key opens everything.
	ix, err := Open(encOpts(dir, testKey("right")))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if m := missingAcked(t, ix, 20, "right key"); len(m) > 0 {
		t.Fatalf("missing %v", m)
	}
}

// randomKeys unwraps every data key to random bytes.
type randomKeys struct{}

func (randomKeys) GenerateDataKey(context.Context) ([]byte, []byte, error) {
	return nil, nil, errors.New("randomKeys makes no keys")
}

func (randomKeys) DecryptDataKey(context.Context, []byte) ([]byte, error) {
	return bytes.Repeat([]byte{1}, 32), nil
}

// TestEncryptExistingIndex: a plain index is refused under Encryption,
// opened with AllowPlaintext (new writes encrypted), and RotateKey leaves
// no plain file behind.
func TestEncryptExistingIndex(t *testing.T) {
	dir := t.TempDir()
	ix, _ := Open(Options{Dir: dir, NoSync: true, HNSW: &HNSWOptions{MinRecords: 10, M: 4, EfConstruction: 16}})
	writeAcked(t, ix, 0, 15)
	ix.Close()
	ix, _ = Open(Options{Dir: dir, NoSync: true})
	writeAcked(t, ix, 15, 20)
	ix.close(false)
	before := dirBytes(t, dir)
	o := encOpts(dir, testKey("k"))
	o.HNSW = &HNSWOptions{MinRecords: 10, M: 4, EfConstruction: 16}
	if _, err := Open(o); !errors.Is(err, bedrockkit.ErrInvalidInput) || !strings.Contains(err.Error(), "AllowPlaintext") {
		t.Fatalf("plain index under Encryption: %v", err)
	}
	if !reflect.DeepEqual(before, dirBytes(t, dir)) {
		t.Fatal("refused Open changed the directory")
	}
	o.Encryption.AllowPlaintext = true
	ix, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	writeAcked(t, ix, 20, 25)
	if err := ix.RotateKey(bg); err != nil {
		t.Fatal(err)
	}
	writeAcked(t, ix, 25, 30)
	ix.close(false)
	for f, b := range dirBytes(t, dir) {
		for _, magic := range []string{walMagic, snapMagic, graphMagic} {
			if bytes.HasPrefix(b, []byte(magic)) && len(b) > len(magic) {
				t.Fatalf("%s is still plain after RotateKey", f)
			}
		}
		if bytes.Contains(b, []byte("text 3")) {
			t.Fatalf("%s holds record text", f)
		}
	}
	o.Encryption.AllowPlaintext = false
	ix, err = Open(o)
	if err != nil {
		t.Fatalf("reopen without AllowPlaintext after RotateKey: %v", err)
	}
	defer ix.Close()
	if m := missingAcked(t, ix, 30, "encrypted"); len(m) > 0 {
		t.Fatalf("missing %v", m)
	}
}

// TestRotateKeyWhileWriting: writers and readers go on during RotateKey;
// afterwards one data key remains, every file is under it, and a
// provider holding only the new key-encryption key opens the index.
func TestRotateKeyWhileWriting(t *testing.T) {
	dir := t.TempDir()
	oldKEK := keyprovider.StaticKey{ID: "kek-1", Key: bytes.Repeat([]byte{1}, 32)}
	newKEK := keyprovider.StaticKey{ID: "kek-2", Key: bytes.Repeat([]byte{2}, 32)}
	p1, _ := keyprovider.NewStatic(oldKEK)
	o := encOpts(dir, p1)
	o.SnapshotBytes = 4096
	o.HNSW = &HNSWOptions{MinRecords: 50, M: 4, EfConstruction: 16}
	ix, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	writeAcked(t, ix, 0, 200)
	ix.Close()
	oldKeys, _ := filepath.Glob(filepath.Join(dir, "key-*.dek"))
	// The provider now wraps with the new KEK and still unwraps the old.
	p2, _ := keyprovider.NewStatic(newKEK, oldKEK)
	o.Encryption.Keys = p2
	if ix, err = Open(o); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 200; i < 400; i++ {
			if err := ix.Upsert(bg, []kbstore.Record{ackRecord(i)}); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := range 200 {
			if _, err := ix.Search(bg, kbstore.Query{Vector: crashVec(i), Partition: ackRecord(i).Partition, K: 3}); err != nil {
				errs <- err
				return
			}
		}
	}()
	if err := ix.RotateKey(bg); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ix.close(false)
	keys, _ := filepath.Glob(filepath.Join(dir, "key-*.dek"))
	if len(keys) != 1 || keys[0] == oldKeys[0] {
		t.Fatalf("key files after rotation: %v (before: %v)", keys, oldKeys)
	}
	only2, _ := keyprovider.NewStatic(newKEK)
	o.Encryption.Keys = only2
	ix, err = Open(o)
	if err != nil {
		t.Fatalf("open with only the new key-encryption key: %v", err)
	}
	defer ix.Close()
	if m := missingAcked(t, ix, 400, "after rotation"); len(m) > 0 {
		t.Fatalf("missing %v", m)
	}
	// And the old KEK alone no longer opens it.
	ix.Close()
	o.Encryption.Keys = p1
	if _, err := Open(o); !errors.Is(err, keyprovider.ErrWrongKey) {
		t.Fatalf("old key after rotation: %v", err)
	}
}

func TestRotateKeyWithoutEncryption(t *testing.T) {
	ix, _ := Open(Options{Dir: t.TempDir()})
	defer ix.Close()
	if err := ix.RotateKey(bg); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("RotateKey without encryption: %v", err)
	}
	if _, err := Open(Options{Encryption: &EncryptionOptions{Keys: testKey("k")}}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("in-memory index with Encryption: %v", err)
	}
}

// frames returns the frames of a log segment: offset and payload.
func frames(t *testing.T, b []byte) (offs []int, payloads [][]byte) {
	t.Helper()
	for pc := range framelog.Scan(b, framelog.ScanOptions{Start: int64(len(walMagic)), MinPayload: 9}) {
		if pc.Kind != framelog.Record {
			t.Fatalf("damaged test segment at %d", pc.Off)
		}
		offs = append(offs, int(pc.Off))
		payloads = append(payloads, pc.Payload)
	}
	return offs, payloads
}

// TestMovedRecordsDoNotAuthenticate: a record copied from one log segment
// into another, with its log position rewritten to fit and its checksum
// recomputed (what an attacker with write access can do), or a record
// replayed over a later one of the same segment, never enters the index:
// it is damage. Without encryption the same edit would be accepted.
func TestMovedRecordsDoNotAuthenticate(t *testing.T) {
	dir := t.TempDir()
	p := testKey("k")
	ix, _ := Open(encOpts(dir, p))
	writeAcked(t, ix, 0, 10)
	writeAcked(t, ix, 10, 20) // ackRecord 10-99 have equal sizes
	ix.Close()
	ix, _ = Open(encOpts(dir, p))
	writeAcked(t, ix, 20, 30)
	ix.close(false)
	snaps, _ := listFiles(dir, "snap-", ".snap")
	for _, s := range snaps {
		os.Remove(snapName(dir, s)) // replay the whole log
	}
	segs, _ := listFiles(dir, "wal-", ".log")
	if len(segs) < 2 {
		t.Fatalf("segments %v", segs)
	}
	a, _ := os.ReadFile(segName(dir, segs[0]))
	b, _ := os.ReadFile(segName(dir, segs[len(segs)-1]))
	_, pa := frames(t, a)
	offB, pb := frames(t, b)
	// Record 3 of segment a, given the log position of segment b's first
	// record and put in its place (same length).
	j, found := 0, false
	for i := range pa {
		if len(pa[i]) == len(pb[j]) {
			found = true
			moved := bytes.Clone(pa[i])
			copy(moved[:8], pb[j][:8])
			nb := bytes.Clone(b)
			copy(nb[offB[j]:], framelog.Append(nil, moved))
			d := withFile(t, dir, segName(dir, segs[len(segs)-1]), nb)
			_, err := Open(encOpts(d, p))
			if !errors.Is(err, kbstore.ErrCorrupt) {
				t.Fatalf("record moved between segments: Open = %v, want the damage reported", err)
			}
			ix, err := Open(Options{Dir: d, NoSync: true, AllowDataLoss: true, Encryption: &EncryptionOptions{Keys: p}})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := ix.Get(bg, ackRecord(20).Partition, []string{ackRecord(20).ID})
			orig, _ := ix.Get(bg, ackRecord(i).Partition, []string{ackRecord(i).ID})
			if len(got) != 0 || len(orig) != 1 || orig[0].Text != ackRecord(i).Text {
				t.Fatalf("after the move: record 20 %v, record %d %v", got, i, orig)
			}
			ix.Close()
			break
		}
	}
	if !found {
		t.Fatal("no two records of equal size to move")
	}
	// Replay within segment b: frame 0 copied over frame 1 (both LSNs
	// authentic, the order is not).
	if len(pb[0]) != len(pb[1]) {
		t.Fatal("records of unequal sizes")
	}
	{
		nb := bytes.Clone(b)
		copy(nb[offB[1]:], framelog.Append(nil, pb[0]))
		if _, err := Open(encOpts(withFile(t, dir, segName(dir, segs[len(segs)-1]), nb), p)); !errors.Is(err, kbstore.ErrCorrupt) {
			t.Fatalf("replayed record: Open = %v", err)
		}
	}
}

// sealedTriples returns the (key, salt, counter) of every sealed blob in
// the log segments and snapshots of dir.
func sealedTriples(t *testing.T, dir string, into map[string]string) {
	t.Helper()
	for name, b := range dirBytes(t, dir) {
		var start int64
		switch {
		case strings.HasPrefix(name, "wal-") && strings.HasSuffix(name, ".log"):
			start = int64(len(walMagic))
		case strings.HasPrefix(name, "snap-") && strings.HasSuffix(name, ".snap"):
			start = int64(len(snapMagic) + 20)
		default:
			continue
		}
		for pc := range framelog.Scan(b, framelog.ScanOptions{Start: start, MinPayload: 1}) {
			if pc.Kind != framelog.Record {
				continue
			}
			blob := pc.Payload
			if start == int64(len(walMagic)) {
				blob = blob[9:]
			}
			id := string(blob[:envelope.HeaderSize])
			ct := string(blob[envelope.HeaderSize:])
			if prev, ok := into[id]; ok && prev != ct {
				t.Fatalf("%s: nonce reused under one key for different ciphertexts", name)
			}
			into[id] = ct
		}
	}
}

// TestNoncesNeverRepeat: across reopens, crashes that cut a torn record
// and rewrite its log position at the same offset, and snapshots, no
// (key, salt, counter) ever seals two different ciphertexts.
func TestNoncesNeverRepeat(t *testing.T) {
	dir := t.TempDir()
	p := testKey("k")
	seen := map[string]string{}
	next, torn := 0, false
	for round := range 6 {
		ix, err := Open(encOpts(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if torn {
			// The log position of the torn record, written again with
			// other content at the same offset.
			r := ackRecord(next)
			r.Text = "rewritten after the crash"
			if err := ix.Upsert(bg, []kbstore.Record{r}); err != nil {
				t.Fatal(err)
			}
			torn = false
		}
		writeAcked(t, ix, next, next+5)
		next += 5
		sealedTriples(t, dir, seen)
		switch round % 3 {
		case 0: // a crash that leaves the last record torn
			ix.close(false)
			seg := lastSegment(t, dir)
			b, _ := os.ReadFile(seg)
			os.WriteFile(seg, b[:len(b)-7], 0o644)
			next-- // that record was never acknowledged
			torn = true
		case 1:
			ix.close(false)
		case 2:
			ix.Close()
		}
		sealedTriples(t, dir, seen)
	}
	ix, err := Open(encOpts(dir, p))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if len(seen) < 25 {
		t.Fatalf("only %d sealed blobs seen", len(seen))
	}
}

// BenchmarkEncryptionCost measures writes (Upsert of 500-record batches,
// NoSync, so the cost is the CPU's), snapshot writes (Close) and opens
// (snapshot load) with and without encryption; compare the /plain and
// /encrypted results of one run (go run ./internal/cmd/bench encryption
// prints the ratios at a larger size).
func BenchmarkEncryptionCost(b *testing.B) {
	const n, dim = 20000, 384
	vecs := clustered(n, dim, 5)
	batches := make([][]kbstore.Record, 0, n/500)
	for lo := 0; lo < n; lo += 500 {
		var recs []kbstore.Record
		for i := lo; i < lo+500; i++ {
			recs = append(recs, kbstore.Record{ID: strconv.Itoa(i), DocumentID: strconv.Itoa(i / 10), Text: strings.Repeat("chunk text ", 100), Vector: vecs[i]})
		}
		batches = append(batches, recs)
	}
	for _, mode := range []string{"plain", "encrypted"} {
		opts := func(dir string) Options {
			o := Options{Dir: dir, NoSync: true}
			if mode == "encrypted" {
				o.Encryption = &EncryptionOptions{Keys: testKey("bench")}
			}
			return o
		}
		b.Run("upsert/"+mode, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				ix, _ := Open(opts(dir))
				b.StartTimer()
				for _, recs := range batches {
					if err := ix.Upsert(bg, recs); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				ix.close(false)
				b.StartTimer()
			}
			b.ReportMetric(float64(n), "records/op")
		})
		dir := b.TempDir()
		ix, _ := Open(opts(dir))
		for _, recs := range batches {
			ix.Upsert(bg, recs)
		}
		b.Run("snapshot/"+mode, func(b *testing.B) {
			for b.Loop() {
				ix.walMu.Lock()
				ix.snapMu.Lock()
				err := ix.snapshot()
				ix.snapMu.Unlock()
				ix.walMu.Unlock()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		ix.Close()
		b.Run("open/"+mode, func(b *testing.B) {
			for b.Loop() {
				ix, err := Open(opts(dir))
				if err != nil || ix.Len() != n {
					b.Fatal(err)
				}
				ix.close(false)
			}
		})
	}
}

// FuzzOpenEncryptedSegment: whatever bytes an encrypted index's log
// segment holds, Open returns every record that authenticates or fails
// with kbstore.ErrCorrupt or a key error; it never panics and never returns a
// record that was not written.
func FuzzOpenEncryptedSegment(f *testing.F) {
	tmpl := f.TempDir()
	p := testKey("fuzz")
	ix, err := Open(encOpts(tmpl, p))
	if err != nil {
		f.Fatal(err)
	}
	written := map[string]bool{}
	for i := range 4 {
		r := ackRecord(i)
		written[r.ID] = true
		ix.Upsert(bg, []kbstore.Record{r})
	}
	ix.DeleteDocuments(bg, ackRecord(1).Partition, []string{ackRecord(1).DocumentID})
	ix.close(false)
	segPath := lastSegment(f, tmpl)
	seg, _ := os.ReadFile(segPath)
	f.Add(seg)
	f.Add(seg[:len(seg)-5])
	f.Add([]byte(walMagicSealed))
	f.Add(append(bytes.Clone(seg), seg[8:]...))
	flipped := bytes.Clone(seg)
	flipped[len(flipped)/2] ^= 1
	f.Add(flipped)
	f.Add(validSegment(f)) // plain records in an encrypted index
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := copyDir(t, tmpl)
		os.Remove(lastSegment(t, dir))
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(segPath)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		o := encOpts(dir, p)
		ix, err := Open(o)
		if err != nil {
			if !errors.Is(err, kbstore.ErrCorrupt) && !errors.Is(err, bedrockkit.ErrInvalidInput) {
				t.Fatalf("Open failed with %v", err)
			}
			if !errors.Is(err, kbstore.ErrCorrupt) {
				return // a key or plaintext refusal
			}
			o.AllowDataLoss = true
			if ix, err = Open(o); err != nil {
				t.Fatalf("Open with AllowDataLoss: %v", err)
			}
		}
		defer ix.Close()
		ix.mu.RLock()
		defer ix.mu.RUnlock()
		for k := range ix.entries {
			if !written[k.id] {
				t.Fatalf("record %q was never written", k.id)
			}
		}
	})
}
