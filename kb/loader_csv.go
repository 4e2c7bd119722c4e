package kb

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bedrockkit/bedrockkit/chunk"
)

// CSVLoader loads comma-separated values (encoding/csv, RFC 4180) so that
// each row reads as a small record and rows chunk well. The first row names
// the columns; every other row becomes a block of "column: value" lines,
// and blocks are separated by a blank line:
//
//	name,fee,currency            name: Wire transfer
//	Wire transfer,25,USD    ->   fee: 25
//	ATM,2.5,USD                  currency: USD
//
//	                             name: ATM
//	                             ...
//
// Empty values are left out; an empty or missing header name reads
// "column N" (1-based); rows may have fewer or more fields than the header.
// The text is decoded like TextLoader's. Syntax errors (such as a bare
// quote) fail with ErrMalformedDocument and the line number.
//
// # Limits
//
// Rows are read one at a time. A record (one row, with the line breaks
// inside its quoted fields) longer than MaxRecordBytes fails with
// ErrTooComplex before it is parsed, since parsing keeps every field of a
// record at once: a one-line file of millions of commas would otherwise
// cost tens of bytes per comma. So does a record of more than MaxFields
// fields. Each row repeats the header's names, so the
// output is counted as it is written and stops at LoadLimits.MaxTextBytes
// with ErrTextTooLarge. A cancelled context stops it within a thousand
// rows.
type CSVLoader struct {
	// Comma is the field delimiter; 0 means ','. Use '\t' for TSV.
	Comma rune
	// NoHeader says the first row is data: columns are then named
	// "column 1", "column 2", ...
	NoHeader bool
	// MaxRecordBytes is the longest record accepted, in bytes; 0 means
	// 1 MiB.
	MaxRecordBytes int
	// MaxFields is the most fields one record may have; 0 means 100,000.
	MaxFields int
}

// Defaults of CSVLoader's limits.
const (
	csvMaxRecord = 1 << 20
	csvMaxFields = 100_000
)

// csvGuard passes the text to encoding/csv and fails once one record runs
// longer than max bytes or has more than maxFields fields. A record ends
// at a line break outside quotes; quotes toggle, which also holds for the
// doubled quotes of RFC 4180 (and a stray quote is a syntax error the
// parser reports). comma is the delimiter's first byte.
type csvGuard struct {
	r         io.Reader
	max       int
	maxFields int
	comma     byte
	n, fields int
	inQuote   bool
}

func (g *csvGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for _, c := range p[:n] {
		switch {
		case c == '"':
			g.inQuote = !g.inQuote
		case c == '\n' && !g.inQuote:
			g.n, g.fields = 0, 0
			continue
		case c == g.comma && !g.inQuote:
			if g.fields++; g.fields >= g.maxFields {
				return 0, fmt.Errorf("kb: a CSV record has more than %d fields (CSVLoader.MaxFields): %w", g.maxFields, ErrTooComplex)
			}
		}
		g.n++
		if g.n > g.max {
			return 0, fmt.Errorf("kb: a CSV record is longer than %d bytes (CSVLoader.MaxRecordBytes); check its quotes: %w", g.max, ErrTooComplex)
		}
	}
	return n, err
}

// Load implements Loader.
func (l CSVLoader) Load(ctx context.Context, _ SourceItem, data []byte) (chunk.ParsedDocument, error) {
	if err := loadCheck(ctx); err != nil {
		return chunk.ParsedDocument{}, err
	}
	text, err := decodeText(data)
	if err != nil {
		return chunk.ParsedDocument{}, err
	}
	maxRec := l.MaxRecordBytes
	if maxRec <= 0 {
		maxRec = csvMaxRecord
	}
	maxText := LoadLimitsFromContext(ctx).MaxTextBytes
	maxFields := l.MaxFields
	if maxFields <= 0 {
		maxFields = csvMaxFields
	}
	comma := ','
	if l.Comma != 0 {
		comma = l.Comma
	}
	r := csv.NewReader(&csvGuard{r: strings.NewReader(text), max: maxRec, maxFields: maxFields, comma: string(comma)[0]})
	if l.Comma != 0 {
		r.Comma = l.Comma
	}
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	var (
		header []string
		b      strings.Builder
	)
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return chunk.ParsedDocument{}, ctx.Err()
		}
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, ErrLoadLimit) {
			return chunk.ParsedDocument{}, err
		}
		if err != nil {
			return chunk.ParsedDocument{}, fmt.Errorf("kb: CSV: %v; quote fields that contain the delimiter, quotes or line breaks: %w", err, ErrMalformedDocument)
		}
		if header == nil && !l.NoHeader {
			header = make([]string, len(rec))
			for i, h := range rec {
				header[i] = strings.TrimSpace(h)
			}
			continue
		}
		start := b.Len()
		for i, v := range rec {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			if b.Len() > start {
				b.WriteByte('\n')
			} else if start > 0 {
				b.WriteString("\n\n")
			}
			name := ""
			if i < len(header) {
				name = header[i]
			}
			if name == "" {
				name = "column " + strconv.Itoa(i+1)
			}
			if int64(b.Len()+len(name)+len(v)+4) > maxText {
				return chunk.ParsedDocument{}, textTooLarge("CSV", maxText)
			}
			b.WriteString(name)
			b.WriteString(": ")
			b.WriteString(v)
		}
	}
	return chunk.ParsedDocument{Text: b.String()}, nil
}
