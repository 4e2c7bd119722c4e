package chromem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// The tests in this file damage the log byte by byte. Whatever the
// damage, Open must either return every acknowledged record or fail with a
// *kbstore.CorruptionError that counts what it could not read; with
// Options.AllowDataLoss it then opens with every readable record, keeps a
// copy of the damaged log, and the next Open is clean.

// ackedLog writes n one-record upserts and closes the store.
func ackedLog(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir, NoSync: true})
	for i := range n {
		if err := s.Upsert(bg, []kbstore.Record{rec(i)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	return dir
}

// missing returns the records 0..n-1 the store lacks; a record present
// but different, or one never written, fails the test.
func missing(t *testing.T, s *Store, n int, what string) []int {
	t.Helper()
	var out []int
	for i := range n {
		r := rec(i)
		got, err := s.Get(bg, r.Partition, []string{r.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			out = append(out, i)
			continue
		}
		if !reflect.DeepEqual(got[0], wantRec(t, i)) {
			t.Fatalf("%s: record %d is wrong: %#v", what, i, got[0])
		}
	}
	if extra := s.Len() - (n - len(out)); extra != 0 {
		t.Fatalf("%s: %d records that were never written", what, extra)
	}
	return out
}

func withLog(t *testing.T, b []byte) string {
	t.Helper()
	d := t.TempDir()
	if err := os.WriteFile(logPath(d), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

// checkLog opens dir and checks the contract for n acknowledged records;
// it reports whether Open refused. Without full, a refusal is not then
// opened with AllowDataLoss.
func checkLog(t *testing.T, dir string, n int, what string, full bool) bool {
	t.Helper()
	s, err := Open(Options{Dir: dir, NoSync: true})
	if err == nil {
		if m := missing(t, s, n, what); len(m) > 0 {
			t.Fatalf("%s: Open succeeded without an error but acknowledged records %v are missing (Recovery %+v)", what, m, s.Recovery())
		}
		s.Close()
		return false
	}
	var ce *kbstore.CorruptionError
	if !errors.As(err, &ce) || !errors.Is(err, kbstore.ErrCorrupt) {
		t.Fatalf("%s: Open failed with %v, want a *kbstore.CorruptionError", what, err)
	}
	lost, exact := ce.RecordsLost()
	if (exact && lost == 0) || !strings.Contains(err.Error(), "AllowDataLoss") {
		t.Fatalf("%s: %v", what, err)
	}
	if !full {
		return true
	}
	before, _ := os.ReadFile(logPath(dir))
	s, err = Open(Options{Dir: dir, NoSync: true, AllowDataLoss: true})
	if err != nil {
		t.Fatalf("%s: Open with AllowDataLoss: %v", what, err)
	}
	m := missing(t, s, n, what+" (AllowDataLoss)")
	rv := s.Recovery()
	if rl, ex := rv.RecordsLost(); rl != lost || ex != exact || (exact && len(m) > lost) {
		t.Fatalf("%s: %d missing, Recovery says %d lost (exact %v), the error said %d: %+v", what, len(m), rl, ex, lost, rv)
	}
	if len(rv.Damage) == 0 || rv.Damage[0].SetAside == "" {
		t.Fatalf("%s: Recovery = %+v", what, rv)
	}
	if aside, err := os.ReadFile(filepath.Join(dir, rv.Damage[0].SetAside)); err != nil || string(aside) != string(before) {
		t.Fatalf("%s: the damaged log was not kept: %v", what, err)
	}
	if err := s.Upsert(bg, []kbstore.Record{rec(n + 100)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(Options{Dir: dir, NoSync: true})
	if err != nil {
		t.Fatalf("%s: Open after accepting the loss: %v", what, err)
	}
	defer s.Close()
	if rv := s.Recovery(); len(rv.Damage) != 0 || rv.CutBytes != 0 || s.Len() != n-len(m)+1 {
		t.Fatalf("%s: reopen: %d records, %+v", what, s.Len(), rv)
	}
	return true
}

func TestFlipLogBytes(t *testing.T) {
	const n = 6
	orig, _ := os.ReadFile(logPath(ackedLog(t, n)))
	first := len(logMagic) + 8 + int(binary.LittleEndian.Uint32(orig[len(logMagic):]))
	var lastAt int
	for off := len(logMagic); off < len(orig); off += 8 + int(binary.LittleEndian.Uint32(orig[off:])) {
		lastAt = off
	}
	refused, tried := 0, 0
	for pos := range orig {
		if pos >= first && pos < lastAt && pos%4 != 0 {
			continue
		}
		tried++
		b := append([]byte(nil), orig...)
		mask := byte(1) << (pos % 8)
		if pos%3 == 0 {
			mask = 0xff
		}
		b[pos] ^= mask
		if checkLog(t, withLog(t, b), n, fmt.Sprintf("byte %d ^ %#x", pos, mask), pos%9 == 0) {
			refused++
		}
	}
	t.Logf("%d positions: Open refused %d, recovered everything for the rest", tried, refused)
}

// TestFlipInMiddleKeepsLaterRecords: one damaged record in the middle of
// the log loses that record, not the ones after it.
func TestFlipInMiddleKeepsLaterRecords(t *testing.T) {
	const n = 300
	b, _ := os.ReadFile(logPath(ackedLog(t, n)))
	b[len(b)/2] ^= 0x08
	dir := withLog(t, b)
	_, err := Open(Options{Dir: dir})
	var ce *kbstore.CorruptionError
	if !errors.As(err, &ce) {
		t.Fatalf("Open = %v", err)
	}
	if lost, exact := ce.RecordsLost(); lost != 1 || !exact {
		t.Fatalf("RecordsLost = %d, %v: %v", lost, exact, err)
	}
	s, err := Open(Options{Dir: dir, AllowDataLoss: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if m := missing(t, s, n, "middle"); len(m) != 1 {
		t.Fatalf("missing %v, want exactly one record", m)
	}
}

func TestDamagedHeaderKeepsRecords(t *testing.T) {
	b, _ := os.ReadFile(logPath(ackedLog(t, 10)))
	b[3] ^= 0x20
	dir := withLog(t, b)
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("a damaged header alone loses nothing: %v", err)
	}
	if m := missing(t, s, 10, "header"); len(m) > 0 {
		t.Fatalf("missing %v", m)
	}
	if rv := s.Recovery(); len(rv.Damage) != 1 || rv.Damage[0].Records != 0 || rv.Damage[0].SetAside == "" {
		t.Fatalf("Recovery = %+v", rv)
	}
	s.Close()
	s = mustOpen(t, Options{Dir: dir})
	defer s.Close()
	if s.Len() != 10 || len(s.Recovery().Damage) != 0 {
		t.Fatalf("reopen: %d records, %+v", s.Len(), s.Recovery())
	}
}
