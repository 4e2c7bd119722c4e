package localindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// The tests in this file damage index files byte by byte. Whatever the
// damage, Open must either return every acknowledged record or fail with a
// *kbstore.CorruptionError that counts what it could not read; with
// Options.AllowDataLoss it then opens with every readable record and
// reports the loss in Recovery, the damaged files are kept as *.corrupt,
// and the next Open is clean.

// ackRecord is the i-th acknowledged record of these tests.
func ackRecord(i int) kbstore.Record {
	return kbstore.Record{ID: "r" + strconv.Itoa(i), DocumentID: "d" + strconv.Itoa(i), Partition: "p" + strconv.Itoa(i%2),
		Text: fmt.Sprint("text ", i), Vector: crashVec(i), Metadata: map[string]any{"i": float64(i)}}
}

// writeAcked upserts records from..to-1, one call each.
func writeAcked(t *testing.T, ix *Index, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := ix.Upsert(bg, []kbstore.Record{ackRecord(i)}); err != nil {
			t.Fatal(err)
		}
	}
}

// missingAcked returns the acknowledged records 0..n-1 the index lacks,
// and fails on any record that is present but different, or any record
// that was never written.
func missingAcked(t *testing.T, ix *Index, n int, what string) []int {
	t.Helper()
	var missing []int
	for i := range n {
		want := ackRecord(i)
		got, err := ix.Get(bg, want.Partition, []string{want.ID})
		if err != nil {
			t.Fatalf("%s: Get %s: %v", what, want.ID, err)
		}
		if len(got) == 0 {
			missing = append(missing, i)
			continue
		}
		w, _ := kbstore.ValidateRecord(want, 0, false)
		if !reflect.DeepEqual(got[0], w) {
			t.Fatalf("%s: record %d is wrong:\n got %#v\nwant %#v", what, i, got[0], w)
		}
	}
	if extra := ix.Len() - (n - len(missing)); extra != 0 {
		t.Fatalf("%s: %d records that were never written", what, extra)
	}
	return missing
}

// checkDamaged opens dir and checks the contract for n acknowledged
// records. It reports whether Open refused (and the loss was then
// accepted with AllowDataLoss).
func checkDamaged(t *testing.T, dir string, n int, what string) bool {
	t.Helper()
	return checkDamagedOpts(t, dir, n, what, true)
}

// checkDamagedOpts is checkDamaged; without full, a refusal is checked
// without then opening with AllowDataLoss (each such open writes a
// snapshot: fsyncs).
func checkDamagedOpts(t *testing.T, dir string, n int, what string, full bool) bool {
	t.Helper()
	ix, err := Open(tOpts(Options{Dir: dir, NoSync: true}))
	if err == nil {
		if m := missingAcked(t, ix, n, what); len(m) > 0 {
			t.Fatalf("%s: Open succeeded without an error but acknowledged records %v are missing (Recovery %+v)", what, m, ix.Recovery())
		}
		ix.close(false)
		return false
	}
	var ce *kbstore.CorruptionError
	if !errors.As(err, &ce) || !errors.Is(err, kbstore.ErrCorrupt) {
		t.Fatalf("%s: Open failed with %v, want a *kbstore.CorruptionError", what, err)
	}
	lost, exact := ce.RecordsLost()
	if exact && lost == 0 {
		t.Fatalf("%s: Open refused although nothing was lost: %v", what, err)
	}
	if len(ce.Damage) == 0 || !strings.Contains(err.Error(), "AllowDataLoss") {
		t.Fatalf("%s: error does not say what was lost or how to proceed: %v", what, err)
	}
	// The refused Open changed nothing: it refuses again.
	if _, err2 := Open(tOpts(Options{Dir: dir, NoSync: true})); !errors.Is(err2, kbstore.ErrCorrupt) {
		t.Fatalf("%s: second Open = %v, want the same refusal", what, err2)
	}
	if !full {
		return true
	}

	ix, err = Open(tOpts(Options{Dir: dir, NoSync: true, AllowDataLoss: true}))
	if err != nil {
		t.Fatalf("%s: Open with AllowDataLoss: %v", what, err)
	}
	missing := missingAcked(t, ix, n, what+" (AllowDataLoss)")
	rec := ix.Recovery()
	if rl, ex := rec.RecordsLost(); rl != lost || ex != exact || len(rec.Damage) == 0 {
		t.Fatalf("%s: Recovery reports %d lost (exact %v), the error said %d (%v): %+v", what, rl, ex, lost, exact, rec)
	}
	if exact && len(missing) > lost {
		t.Fatalf("%s: %d records missing (%v), %d reported lost", what, len(missing), missing, lost)
	}
	asides := 0
	for _, d := range rec.Damage {
		if d.SetAside != "" {
			if _, err := os.Stat(filepath.Join(dir, d.SetAside)); err != nil {
				t.Fatalf("%s: set-aside copy %s: %v", what, d.SetAside, err)
			}
			asides++
		}
	}
	if asides == 0 {
		t.Fatalf("%s: no copy of the damaged bytes kept: %+v", what, rec.Damage)
	}
	// The index works, and the next Open is clean.
	if err := ix.Upsert(bg, []kbstore.Record{ackRecord(n + 1000)}); err != nil {
		t.Fatalf("%s: write after recovery: %v", what, err)
	}
	ix.close(false)
	ix, err = Open(tOpts(Options{Dir: dir, NoSync: true}))
	if err != nil {
		t.Fatalf("%s: Open after accepting the loss: %v", what, err)
	}
	defer ix.Close()
	if r := ix.Recovery(); len(r.Damage) != 0 {
		t.Fatalf("%s: damage reported again after it was accepted: %+v", what, r.Damage)
	}
	if got, _ := ix.Get(bg, ackRecord(n+1000).Partition, []string{ackRecord(n + 1000).ID}); len(got) != 1 {
		t.Fatalf("%s: the write after recovery was lost", what)
	}
	if m := len(missing); ix.Len() != n-m+1 {
		t.Fatalf("%s: %d records after reopening, want %d", what, ix.Len(), n-m+1)
	}
	return true
}

// logOnly writes n acknowledged records and closes the index the way a
// crash would (no snapshot), returning the directory.
func logOnly(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	ix, err := Open(tOpts(Options{Dir: dir, NoSync: true}))
	if err != nil {
		t.Fatal(err)
	}
	writeAcked(t, ix, 0, n)
	if err := ix.close(false); err != nil {
		t.Fatal(err)
	}
	return dir
}

// withFile returns a copy of dir whose file name holds b.
func withFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	d := copyDir(t, dir)
	if err := os.WriteFile(filepath.Join(d, filepath.Base(name)), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestFlipEveryLogByte changes bytes of a small log, one at a time:
// every byte of the segment header, of the first record and of the last
// record, and every third byte in between (file operations are slow on
// some CI disks; every byte of the middle records is covered by the
// framelog tests).
func TestFlipEveryLogByte(t *testing.T) { bothModes(t, testFlipEveryLogByte) }

func testFlipEveryLogByte(t *testing.T) {
	const n = 8
	base := logOnly(t, n)
	seg := lastSegment(t, base)
	orig, _ := os.ReadFile(seg)
	first := len(walMagic) + 8 + int(binary.LittleEndian.Uint32(orig[len(walMagic):]))
	lastAt := len(orig) - int(lastRecordSize(t, orig))
	refused, tried := 0, 0
	for pos := 0; pos < len(orig); pos++ {
		if pos >= first && pos < lastAt && pos%3 != 0 {
			continue
		}
		tried++
		b := append([]byte(nil), orig...)
		mask := byte(1) << (pos % 8)
		if pos%3 == 0 {
			mask = 0xff
		}
		b[pos] ^= mask
		if checkDamagedOpts(t, withFile(t, base, seg, b), n, fmt.Sprintf("byte %d ^ %#x", pos, mask), pos%8 == 0) {
			refused++
		}
	}
	t.Logf("%d positions: Open refused %d (records lost), recovered everything for the rest", tried, refused)
	if refused == 0 {
		t.Fatal("no damage was ever reported as a loss")
	}
}

// TestFlipInMiddleKeepsLaterRecords is the reported case: one flipped
// byte in the middle of a 500-record log must not drop the 250 after it.
func TestFlipInMiddleKeepsLaterRecords(t *testing.T) { bothModes(t, testFlipInMiddleKeepsLaterRecords) }

func testFlipInMiddleKeepsLaterRecords(t *testing.T) {
	const n = 500
	base := logOnly(t, n)
	seg := lastSegment(t, base)
	b, _ := os.ReadFile(seg)
	b[len(b)/2] ^= 0x20
	dir := withFile(t, base, seg, b)
	_, err := Open(tOpts(Options{Dir: dir, NoSync: true}))
	var ce *kbstore.CorruptionError
	if !errors.As(err, &ce) {
		t.Fatalf("Open = %v, want a *kbstore.CorruptionError", err)
	}
	if lost, exact := ce.RecordsLost(); lost != 1 || !exact {
		t.Fatalf("RecordsLost = %d, %v; want exactly 1: %v", lost, exact, err)
	}
	d := ce.Damage[0]
	if d.File != filepath.Base(seg) || d.Bytes <= 0 || d.Offset <= 0 || d.FirstLSN == 0 || d.FirstLSN != d.LastLSN {
		t.Fatalf("damage = %+v", d)
	}
	t.Log(err)
	ix, err := Open(tOpts(Options{Dir: dir, NoSync: true, AllowDataLoss: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if m := missingAcked(t, ix, n, "AllowDataLoss"); len(m) != 1 {
		t.Fatalf("missing %v, want exactly the damaged record", m)
	}
	if got := ix.Recovery().Damage; len(got) != 1 || got[0].SetAside == "" {
		t.Fatalf("Recovery().Damage = %+v", got)
	}
	aside, err := os.ReadFile(filepath.Join(dir, ix.Recovery().Damage[0].SetAside))
	if err != nil || string(aside) != string(b) {
		t.Fatalf("set-aside copy: %d bytes, %v; want the damaged segment", len(aside), err)
	}
}

// TestTwoSegmentsFlips damages bytes of a log of two segments (no
// snapshot left), where damage at the end of the first is not a torn tail.
func TestTwoSegmentsFlips(t *testing.T) { bothModes(t, testTwoSegmentsFlips) }

func testTwoSegmentsFlips(t *testing.T) {
	const n = 12
	base := t.TempDir()
	ix, _ := Open(tOpts(Options{Dir: base}))
	writeAcked(t, ix, 0, 6)
	if err := ix.Close(); err != nil { // snapshot; a new segment follows
		t.Fatal(err)
	}
	ix, _ = Open(tOpts(Options{Dir: base}))
	writeAcked(t, ix, 6, n)
	ix.close(false)
	snaps, _ := listFiles(base, "snap-", ".snap")
	for _, s := range snaps {
		os.Remove(snapName(base, s)) // replay the whole log
	}
	segs, _ := listFiles(base, "wal-", ".log")
	if len(segs) != 2 {
		t.Fatalf("segments %v, want 2", segs)
	}
	for _, s := range segs {
		name := segName(base, s)
		orig, _ := os.ReadFile(name)
		for pos := 0; pos < len(orig); pos += 5 { // every byte: framelog's tests
			b := append([]byte(nil), orig...)
			b[pos] ^= 0xff
			checkDamagedOpts(t, withFile(t, base, name, b), n, fmt.Sprintf("%s byte %d", filepath.Base(name), pos), pos%20 == 0)
		}
		// The first segment's last record damaged: not a torn tail, the
		// second segment's records are kept.
		b := append([]byte(nil), orig...)
		b[len(b)-3] ^= 0x01
		dir := withFile(t, base, name, b)
		if _, err := Open(tOpts(Options{Dir: dir, NoSync: true})); !errors.Is(err, kbstore.ErrCorrupt) {
			t.Fatalf("%s: last record damaged: Open = %v, want kbstore.ErrCorrupt", filepath.Base(name), err)
		}
	}
}

func TestDamagedSegmentHeaderKeepsRecords(t *testing.T) {
	bothModes(t, testDamagedSegmentHeaderKeepsRecords)
}

func testDamagedSegmentHeaderKeepsRecords(t *testing.T) {
	base := logOnly(t, 20)
	seg := lastSegment(t, base)
	orig, _ := os.ReadFile(seg)
	for _, damage := range []func(b []byte){
		func(b []byte) { b[0] ^= 0xff },
		func(b []byte) { b[7] ^= 0x01 },
		func(b []byte) { clear(b[:8]) },
	} {
		b := append([]byte(nil), orig...)
		damage(b)
		dir := withFile(t, base, seg, b)
		ix, err := Open(tOpts(Options{Dir: dir, NoSync: true}))
		if err != nil {
			t.Fatalf("header damage alone loses nothing, Open = %v", err)
		}
		if m := missingAcked(t, ix, 20, "header"); len(m) > 0 {
			t.Fatalf("missing %v", m)
		}
		r := ix.Recovery()
		if len(r.Damage) != 1 || r.Damage[0].Records != 0 || r.Damage[0].SetAside == "" {
			t.Fatalf("Recovery().Damage = %+v, want the header reported, nothing lost, a copy kept", r.Damage)
		}
		writeAcked(t, ix, 20, 21)
		ix.close(false)
		ix, err = Open(tOpts(Options{Dir: dir, NoSync: true}))
		if err != nil || ix.Len() != 21 || len(ix.Recovery().Damage) != 0 {
			t.Fatalf("reopen: %v, %d records, %+v", err, ix.Len(), ix.Recovery())
		}
		ix.Close()
	}
}

// TestTornTailStaysSilent: what a crash leaves (a cut last record, or
// zeros where its bytes never reached the disk) is repaired without an
// error or a damage report.
func TestTornTailStaysSilent(t *testing.T) { bothModes(t, testTornTailStaysSilent) }

func testTornTailStaysSilent(t *testing.T) {
	base := logOnly(t, 10)
	seg := lastSegment(t, base)
	orig, _ := os.ReadFile(seg)
	ix, _ := Open(tOpts(Options{Dir: base}))
	ix.close(false)
	cases := map[string][]byte{
		"cut":          orig[:len(orig)-5],
		"zero-tail":    append(append([]byte(nil), orig...), make([]byte, 300)...),
		"empty-header": []byte(walMagic[:3]),
	}
	// The last record's bytes replaced by zeros (extended file, data not
	// written).
	last := append([]byte(nil), orig...)
	n := binary.LittleEndian.Uint32(last[len(last)-int(lastRecordSize(t, orig)):])
	clear(last[len(last)-int(n)-8:])
	cases["zeroed-last"] = last
	for name, b := range cases {
		dir := withFile(t, base, seg, b)
		ix, err := Open(tOpts(Options{Dir: dir, NoSync: true}))
		if err != nil {
			t.Fatalf("%s: Open = %v", name, err)
		}
		if r := ix.Recovery(); len(r.Damage) != 0 {
			t.Fatalf("%s: a torn tail reported as damage: %+v", name, r.Damage)
		}
		want := 9
		if name == "zero-tail" {
			want = 10
		}
		if name == "empty-header" {
			want = 0
		}
		if ix.Len() != want {
			t.Fatalf("%s: %d records, want %d", name, ix.Len(), want)
		}
		writeAcked(t, ix, 50, 51)
		ix.close(false)
		ix, err = Open(tOpts(Options{Dir: dir, NoSync: true}))
		if err != nil || ix.Len() != want+1 {
			t.Fatalf("%s: reopen after a write: %v, %d records", name, err, ix.Len())
		}
		ix.Close()
	}
}

// lastRecordSize returns the frame size of the last record of segment b.
func lastRecordSize(t *testing.T, b []byte) int64 {
	t.Helper()
	off, last := int64(len(walMagic)), int64(0)
	for off < int64(len(b)) {
		n := int64(binary.LittleEndian.Uint32(b[off:]))
		last = 8 + n
		off += last
	}
	return last
}

// twoSnapshots writes records in three rounds with a snapshot after each
// (so the log before the second snapshot is deleted), plus a log tail.
func twoSnapshots(t *testing.T) (dir string, n int) {
	dir = t.TempDir()
	for round := range 3 {
		ix, err := Open(tOpts(Options{Dir: dir, NoSync: true}))
		if err != nil {
			t.Fatal(err)
		}
		writeAcked(t, ix, round*10, round*10+10)
		if err := ix.Close(); err != nil {
			t.Fatal(err)
		}
	}
	ix, _ := Open(tOpts(Options{Dir: dir, NoSync: true}))
	writeAcked(t, ix, 30, 35)
	ix.close(false)
	if snaps, _ := listFiles(dir, "snap-", ".snap"); len(snaps) != 2 {
		t.Fatalf("snapshots %v, want 2", snaps)
	}
	if segs, _ := listFiles(dir, "wal-", ".log"); segs[0] == 1 {
		t.Fatalf("segments %v: the log before the older snapshot should be gone", segs)
	}
	return dir, 35
}

func TestDamagedNewestSnapshotFallsBackWithoutLoss(t *testing.T) {
	bothModes(t, testDamagedNewestSnapshotFallsBackWithoutLoss)
}

func testDamagedNewestSnapshotFallsBackWithoutLoss(t *testing.T) {
	base, n := twoSnapshots(t)
	snaps, _ := listFiles(base, "snap-", ".snap")
	newest := snapName(base, snaps[1])
	orig, _ := os.ReadFile(newest)
	for pos := 0; pos < len(orig); pos += 37 {
		b := append([]byte(nil), orig...)
		b[pos] ^= 0x10
		dir := withFile(t, base, newest, b)
		ix, err := Open(tOpts(Options{Dir: dir, NoSync: true}))
		if err != nil {
			t.Fatalf("pos %d: the older snapshot and the log hold everything, Open = %v", pos, err)
		}
		if m := missingAcked(t, ix, n, fmt.Sprint("pos ", pos)); len(m) > 0 {
			t.Fatalf("pos %d: missing %v", pos, m)
		}
		r := ix.Recovery()
		if r.SnapshotLSN != snaps[0] || len(r.Damage) != 1 || r.Damage[0].Records != 0 {
			t.Fatalf("pos %d: Recovery = %+v", pos, r)
		}
		if _, err := os.Stat(filepath.Join(dir, r.Damage[0].SetAside)); err != nil {
			t.Fatalf("pos %d: damaged snapshot not kept aside: %v", pos, err)
		}
		ix.close(false)
	}
}

// TestBothSnapshotsDamaged: with the early log gone, the records only the
// snapshots hold are salvaged frame by frame; what cannot be read is
// named.
func TestBothSnapshotsDamaged(t *testing.T) { bothModes(t, testBothSnapshotsDamaged) }

func testBothSnapshotsDamaged(t *testing.T) {
	base, n := twoSnapshots(t)
	snaps, _ := listFiles(base, "snap-", ".snap")
	dir := copyDir(t, base)
	for _, s := range snaps {
		name := snapName(dir, s)
		b, _ := os.ReadFile(name)
		b[len(snapMagic)+20+8+10] ^= 0xff // inside the first record's payload
		os.WriteFile(name, b, 0o644)
	}
	_, err := Open(tOpts(Options{Dir: dir, NoSync: true}))
	var ce *kbstore.CorruptionError
	if !errors.As(err, &ce) {
		t.Fatalf("Open = %v, want a *kbstore.CorruptionError", err)
	}
	if lost, exact := ce.RecordsLost(); lost != 1 || !exact {
		t.Fatalf("RecordsLost = %d, %v (want the one damaged record): %v", lost, exact, err)
	}
	checkDamaged(t, dir, n, "both snapshots")

	// Sample positions of both snapshots.
	for _, s := range snaps {
		name := snapName(base, s)
		orig, _ := os.ReadFile(name)
		for pos := 0; pos < len(orig); pos += 41 {
			d := copyDir(t, base)
			for _, o := range snaps {
				b, _ := os.ReadFile(snapName(d, o))
				if o == s {
					b[pos] ^= 0x04
				} else {
					b[len(b)-2] ^= 0x04 // the other one damaged too (its trailer)
				}
				os.WriteFile(snapName(d, o), b, 0o644)
			}
			checkDamagedOpts(t, d, n, fmt.Sprintf("snapshot %d byte %d", s, pos), pos%(4*41) == 0)
		}
	}
}

// TestDamagedSnapshotsWholeLog: while the log since the first write is
// still there (fewer than three snapshots so far), damaged snapshots lose
// nothing.
func TestDamagedSnapshotsWholeLog(t *testing.T) { bothModes(t, testDamagedSnapshotsWholeLog) }

func testDamagedSnapshotsWholeLog(t *testing.T) {
	dir := t.TempDir()
	for round := range 2 {
		ix, _ := Open(tOpts(Options{Dir: dir, NoSync: true}))
		writeAcked(t, ix, round*10, round*10+10)
		ix.Close()
	}
	snaps, _ := listFiles(dir, "snap-", ".snap")
	for _, s := range snaps {
		b, _ := os.ReadFile(snapName(dir, s))
		b[len(b)/2] ^= 0x01
		os.WriteFile(snapName(dir, s), b, 0o644)
	}
	ix, err := Open(tOpts(Options{Dir: dir, NoSync: true}))
	if err != nil {
		t.Fatalf("Open = %v; the whole log is there", err)
	}
	defer ix.Close()
	if m := missingAcked(t, ix, 20, "whole log"); len(m) > 0 {
		t.Fatalf("missing %v", m)
	}
	if r := ix.Recovery(); len(r.Damage) != 2 || r.SnapshotLSN != 0 {
		t.Fatalf("Recovery = %+v", r)
	}
}

// TestMissingSegmentIsALoss: a log segment deleted from the directory is
// a gap in the log positions, not a clean open.
func TestMissingSegmentIsALoss(t *testing.T) { bothModes(t, testMissingSegmentIsALoss) }

func testMissingSegmentIsALoss(t *testing.T) {
	base, n := twoSnapshots(t)
	snaps, _ := listFiles(base, "snap-", ".snap")
	dir := copyDir(t, base)
	os.Remove(snapName(dir, snaps[1]))
	os.Remove(snapName(dir, snaps[0]))
	_, err := Open(tOpts(Options{Dir: dir, NoSync: true}))
	var ce *kbstore.CorruptionError
	if !errors.As(err, &ce) {
		t.Fatalf("Open without the snapshots that hold the first records = %v", err)
	}
	if lost, exact := ce.RecordsLost(); !exact || lost != int(snaps[0]) {
		t.Fatalf("RecordsLost = %d, %v; want the %d positions before the remaining log", lost, exact, snaps[0])
	}
	_ = n
}
