package kb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bedrockkit/bedrockkit/chunk"
)

// JSONLoader loads JSON. By default it flattens the value into one
// "path: value" line per leaf, in document order, which embeds and matches
// keywords better than braces and quotes:
//
//	{"card": {"name": "Gold", "fees": [{"type": "annual", "usd": 95}]}}
//
// becomes
//
//	card.name: Gold
//	card.fees[0].type: annual
//	card.fees[0].usd: 95
//
// Keys are joined with ".", array elements are written [i]; strings are
// written as is (unquoted), numbers as written in the file, booleans as
// true/false; nulls, empty objects and empty arrays are left out. When the
// top level is an array, each element is one record: its paths are relative
// to the element ("name: Gold", not "[0].name: Gold") and records are
// separated by a blank line, so they chunk like CSV rows.
//
// With Pretty the value is indented JSON instead. With Lines the file is
// JSON Lines (one value per line, blank lines ignored) and each line is one
// record. The text is decoded like TextLoader's; bad syntax fails with
// ErrMalformedDocument.
type JSONLoader struct {
	// Pretty keeps JSON syntax, indented by two spaces, instead of
	// flattening.
	Pretty bool
	// Lines reads JSON Lines (.jsonl, .ndjson): one record per line.
	Lines bool
}

// maxJSONDepth bounds nesting so a hostile file cannot exhaust the stack.
const maxJSONDepth = 1000

// Load implements Loader.
func (l JSONLoader) Load(ctx context.Context, _ SourceItem, data []byte) (chunk.Document, error) {
	if err := loadCheck(ctx); err != nil {
		return chunk.Document{}, err
	}
	text, err := decodeText(data)
	if err != nil {
		return chunk.Document{}, err
	}
	var b strings.Builder
	if l.Lines {
		for i, line := range strings.Split(text, "\n") {
			if i%1024 == 0 && ctx.Err() != nil {
				return chunk.Document{}, ctx.Err()
			}
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if err := l.value(&b, line, false); err != nil {
				return chunk.Document{}, fmt.Errorf("%w: JSON Lines line %d: %v", ErrMalformedDocument, i+1, err)
			}
		}
	} else if err := l.value(&b, text, true); err != nil {
		return chunk.Document{}, fmt.Errorf("%w: JSON: %v", ErrMalformedDocument, err)
	}
	return chunk.Document{Text: b.String()}, nil
}

// value writes one JSON value as a new record; records says a top-level
// array is a list of records.
func (l JSONLoader) value(b *strings.Builder, text string, records bool) error {
	if l.Pretty {
		var buf bytes.Buffer
		if err := json.Indent(&buf, []byte(text), "", "  "); err != nil {
			return err
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.Write(bytes.TrimSpace(buf.Bytes()))
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("the file holds no JSON value")
		}
		return err
	}
	f := &jsonFlattener{b: b, dec: dec, record: true}
	if d, ok := tok.(json.Delim); ok && d == '[' && records {
		for dec.More() {
			f.record = true
			if err := f.flatten("", nil, 1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return err
		}
	} else if err := f.flatten("", tok, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return err
		}
		return errors.New("unexpected data after the top-level JSON value")
	}
	return nil
}

type jsonFlattener struct {
	b      *strings.Builder
	dec    *json.Decoder
	record bool // the next leaf starts a new record
}

// flatten writes the value whose first token is tok (read it when nil).
func (f *jsonFlattener) flatten(path string, tok json.Token, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("nesting deeper than %d levels", maxJSONDepth)
	}
	if tok == nil {
		var err error
		if tok, err = f.dec.Token(); err != nil {
			return err
		}
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			for f.dec.More() {
				kt, err := f.dec.Token()
				if err != nil {
					return err
				}
				key, _ := kt.(string)
				p := key
				if path != "" {
					p = path + "." + key
				}
				if err := f.flatten(p, nil, depth+1); err != nil {
					return err
				}
			}
		case '[':
			for i := 0; f.dec.More(); i++ {
				if err := f.flatten(path+"["+strconv.Itoa(i)+"]", nil, depth+1); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("unexpected %q", v)
		}
		_, err := f.dec.Token() // closing delimiter
		return err
	case nil:
		return nil
	case string:
		f.leaf(path, v)
	case json.Number:
		f.leaf(path, v.String())
	case bool:
		f.leaf(path, strconv.FormatBool(v))
	}
	return nil
}

func (f *jsonFlattener) leaf(path, value string) {
	if f.b.Len() > 0 {
		if f.record {
			f.b.WriteString("\n\n")
		} else {
			f.b.WriteByte('\n')
		}
	}
	f.record = false
	if path != "" {
		f.b.WriteString(path)
		f.b.WriteString(": ")
	}
	f.b.WriteString(value)
}
