package kbstore

import (
	"errors"
	"strings"
	"testing"
)

func TestCorruptionError(t *testing.T) {
	e := &CorruptionError{Store: "localindex", Dir: "/data/ix", SetAsideAs: "*.corrupt", Damage: []Damage{
		{File: "wal-1.log", Offset: 100, Bytes: 20, Records: 2, FirstLSN: 7, LastLSN: 8, Reason: "checksum mismatch"},
		{File: "snap-3.snap", Records: -1, Reason: "trailer unreadable"},
		{File: "wal-2.log", Records: 0, Reason: "header damaged"},
	}}
	if n, exact := e.RecordsLost(); n != 3 || exact {
		t.Fatalf("RecordsLost = %d, %v; want 3 (2 and at least 1), not exact", n, exact)
	}
	var ce *CorruptionError
	if !errors.Is(e, ErrCorrupt) || !errors.As(error(e), &ce) {
		t.Fatal("CorruptionError does not match ErrCorrupt")
	}
	msg := e.Error()
	for _, want := range []string{"localindex: /data/ix is damaged", "at least 3 records", "wal-1.log: 20 bytes at offset 100, 2 records (log positions 7-8): checksum mismatch",
		"an unknown number of records", "no lost records", "AllowDataLoss", "*.corrupt"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Error() = %q\nwant it to contain %q", msg, want)
		}
	}
}
