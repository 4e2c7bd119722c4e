package chromem

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrCorrupt is matched (errors.Is) by the *CorruptionError Open returns
// when the log holds acknowledged records it could not read.
var ErrCorrupt = errors.New("kb/chromem: damaged log")

// Damage describes one damaged region of the log.
type Damage struct {
	// File is the damaged file's name in Options.Dir.
	File string
	// Offset and Bytes locate the bytes that could not be read.
	Offset, Bytes int64
	// Records is how many log records (each one Upsert or DeleteDocuments
	// call) the region held: 0 when it held none (a damaged file header,
	// or a record whose damaged length field was repaired), -1 when the
	// number cannot be known.
	Records int
	// SetAside is the name in Dir of the copy of the damaged log kept
	// before it was rewritten (empty when Open refused and changed
	// nothing).
	SetAside string
	// Reason says what was wrong.
	Reason string
}

// String describes the damage: where, how much was lost and where the
// damaged bytes were set aside.
func (d Damage) String() string {
	what := fmt.Sprintf("%d records lost", d.Records)
	switch d.Records {
	case -1:
		what = "an unknown number of records lost"
	case 0:
		what = "nothing lost"
	case 1:
		what = "1 record lost"
	}
	return fmt.Sprintf("%s: %d bytes at offset %d, %s: %s", d.File, d.Bytes, d.Offset, what, d.Reason)
}

func recordsLost(ds []Damage) (n int, exact bool) {
	exact = true
	for _, d := range ds {
		if d.Records < 0 {
			exact = false
			n++
			continue
		}
		n += d.Records
	}
	return n, exact
}

func lossy(ds []Damage) bool {
	n, exact := recordsLost(ds)
	return n > 0 || !exact
}

// CorruptionError is returned by Open when the log in Options.Dir is
// damaged and acknowledged records could not be read. Open changed
// nothing on disk; reopen with Options.AllowDataLoss to open with every
// record that could be read (the damaged log is copied aside first), or
// restore the directory from a backup. It matches ErrCorrupt.
type CorruptionError struct {
	// Dir is the store directory.
	Dir string
	// Damage lists the damaged regions in log order.
	Damage []Damage
}

// RecordsLost returns how many log records could not be read; exact is
// false when the damage hides how many (n is then a lower bound).
func (e *CorruptionError) RecordsLost() (n int, exact bool) { return recordsLost(e.Damage) }

// Error names each damaged region and what it held.
func (e *CorruptionError) Error() string {
	n, exact := e.RecordsLost()
	count := fmt.Sprintf("%d log records", n)
	if n == 1 {
		count = "1 log record"
	}
	if !exact {
		count = "at least " + count
	}
	parts := make([]string, len(e.Damage))
	for i, d := range e.Damage {
		parts[i] = d.String()
	}
	return fmt.Sprintf("kb/chromem: the log in %s is damaged and %s could not be read (%s); nothing was changed: restore the directory from a backup, or open it with Options.AllowDataLoss to keep every readable record (the damaged log is copied aside as %s.corrupt first)",
		e.Dir, count, strings.Join(parts, "; "), logName)
}

// Unwrap returns ErrCorrupt.
func (e *CorruptionError) Unwrap() error { return ErrCorrupt }

// copyAside copies the file name in dir to a new name.corrupt (or
// name.N.corrupt), fsynced, and returns the copy's name.
func copyAside(dir, name string) (string, error) {
	src, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	defer src.Close()
	for n := 1; ; n++ {
		aside := name + ".corrupt"
		if n > 1 {
			aside = fmt.Sprintf("%s.%d.corrupt", name, n)
		}
		f, err := os.OpenFile(filepath.Join(dir, aside), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) && n < 1000 {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = io.Copy(f, src)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = syncDir(dir)
		}
		if err != nil {
			os.Remove(filepath.Join(dir, aside))
			return "", err
		}
		return aside, nil
	}
}
