package kbstore

import (
	"errors"
	"fmt"
	"strings"
)

// ErrCorrupt is matched (errors.Is) by the *CorruptionError a store's Open
// returns when its files hold acknowledged records it could not read.
var ErrCorrupt = errors.New("kbstore: damaged store files")

// Damage describes one damaged region of a file in a store's directory
// (kb/localindex, kb/chromem).
type Damage struct {
	// File is the damaged file's name in the store's directory.
	File string
	// Offset and Bytes locate the bytes that could not be read.
	Offset, Bytes int64
	// Records is how many records the region held that are now lost: log
	// records (each one Upsert or DeleteDocuments call) for a log, stored
	// records for a snapshot. 0 means nothing was lost (the region held no
	// record, or its records were rebuilt from other files); -1 means the
	// number cannot be known.
	Records int
	// FirstLSN and LastLSN are the log positions lost, when the store
	// numbers its log records and knows them (else 0).
	FirstLSN, LastLSN uint64
	// SetAside is the name in the directory of the copy of the damaged
	// file Open kept before repairing anything (empty when Open refused
	// and changed nothing).
	SetAside string
	// Reason says what was wrong.
	Reason string
}

// String describes the damage: where, how much was lost and why.
func (d Damage) String() string {
	var what string
	switch {
	case d.Records < 0:
		what = "an unknown number of records"
	case d.Records == 0:
		what = "no lost records"
	case d.Records == 1:
		what = "1 record"
	default:
		what = fmt.Sprintf("%d records", d.Records)
	}
	if d.FirstLSN != 0 && d.Records > 0 {
		if d.FirstLSN == d.LastLSN {
			what += fmt.Sprintf(" (log position %d)", d.FirstLSN)
		} else {
			what += fmt.Sprintf(" (log positions %d-%d)", d.FirstLSN, d.LastLSN)
		}
	}
	return fmt.Sprintf("%s: %d bytes at offset %d, %s: %s", d.File, d.Bytes, d.Offset, what, d.Reason)
}

// RecordsLost sums the records lost in ds; exact is false when some
// region's count is unknown (n is then a lower bound, counting one for
// each such region).
func RecordsLost(ds []Damage) (n int, exact bool) {
	exact = true
	for _, d := range ds {
		if d.Records < 0 {
			exact = false
			n++ // at least one
			continue
		}
		n += d.Records
	}
	return n, exact
}

// CorruptionError is returned by a store's Open when files in its
// directory are damaged and acknowledged records could not be read. Open
// changed nothing on disk; reopen with the store's Options.AllowDataLoss to
// open with every record that could be read (the damaged files are copied
// aside first), or restore the directory from a backup. It matches
// ErrCorrupt.
type CorruptionError struct {
	// Store names the store ("localindex", "kb/chromem").
	Store string
	// Dir is the store's directory.
	Dir string
	// Damage lists the damaged regions, in the order Open met them.
	Damage []Damage
	// SetAsideAs names the copies AllowDataLoss keeps of the damaged files
	// (e.g. "*.corrupt").
	SetAsideAs string
}

// RecordsLost returns how many records could not be read; exact is false
// when the damage hides how many (n is then a lower bound).
func (e *CorruptionError) RecordsLost() (n int, exact bool) { return RecordsLost(e.Damage) }

// Error names each damaged region and what it held, and what to do.
func (e *CorruptionError) Error() string {
	n, exact := e.RecordsLost()
	count := fmt.Sprintf("%d records", n)
	if n == 1 {
		count = "1 record"
	}
	if !exact {
		count = "at least " + count
	}
	parts := make([]string, len(e.Damage))
	for i, d := range e.Damage {
		parts[i] = d.String()
	}
	return fmt.Sprintf("%s: %s is damaged and %s could not be read (%s); nothing was changed: restore the directory from a backup, or open it with Options.AllowDataLoss to keep every readable record (the damaged files are copied aside as %s first): %v",
		e.Store, e.Dir, count, strings.Join(parts, "; "), e.SetAsideAs, ErrCorrupt)
}

// Unwrap returns ErrCorrupt.
func (e *CorruptionError) Unwrap() error { return ErrCorrupt }
