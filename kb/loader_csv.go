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
type CSVLoader struct {
	// Comma is the field delimiter; 0 means ','. Use '\t' for TSV.
	Comma rune
	// NoHeader says the first row is data: columns are then named
	// "column 1", "column 2", ...
	NoHeader bool
}

// Load implements Loader.
func (l CSVLoader) Load(ctx context.Context, _ SourceItem, data []byte) (chunk.Document, error) {
	if err := loadCheck(ctx); err != nil {
		return chunk.Document{}, err
	}
	text, err := decodeText(data)
	if err != nil {
		return chunk.Document{}, err
	}
	r := csv.NewReader(strings.NewReader(text))
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
			return chunk.Document{}, ctx.Err()
		}
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return chunk.Document{}, fmt.Errorf("%w: CSV: %v; quote fields that contain the delimiter, quotes or line breaks", ErrMalformedDocument, err)
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
			b.WriteString(name)
			b.WriteString(": ")
			b.WriteString(v)
		}
	}
	return chunk.Document{Text: b.String()}, nil
}
