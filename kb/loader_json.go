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
//
// # Limits
//
// The value is streamed token by token. Flattening repeats each leaf's key
// path, so a small file of long keys over many leaves could flatten to
// gigabytes: the output is counted as it is written and the load stops with
// ErrTextTooLarge when it would pass LoadLimits.MaxTextBytes (the indented
// form of Pretty is measured before it is written). The key path is kept in
// one buffer, so deep nesting costs no more than the file's own bytes.
// Nesting deeper than MaxDepth fails with ErrTooComplex. A cancelled
// context stops the walk within a few thousand tokens.
type JSONLoader struct {
	// Pretty keeps JSON syntax, indented by two spaces, instead of
	// flattening.
	Pretty bool
	// Lines reads JSON Lines (.jsonl, .ndjson): one record per line.
	Lines bool
	// MaxDepth is the deepest nesting of arrays and objects accepted; 0
	// means 512.
	MaxDepth int
}

// jsonMaxDepth is the default of JSONLoader.MaxDepth.
const jsonMaxDepth = 512

func (l JSONLoader) maxDepth() int {
	if l.MaxDepth > 0 {
		return l.MaxDepth
	}
	return jsonMaxDepth
}

// Load implements Loader.
func (l JSONLoader) Load(ctx context.Context, _ SourceItem, data []byte) (chunk.ParsedDocument, error) {
	if err := loadCheck(ctx); err != nil {
		return chunk.ParsedDocument{}, err
	}
	text, err := decodeText(data)
	if err != nil {
		return chunk.ParsedDocument{}, err
	}
	w := &jsonWriter{ctx: ctx, max: LoadLimitsFromContext(ctx).MaxTextBytes, maxDepth: l.maxDepth()}
	if l.Lines {
		for i, rest := 0, text; rest != ""; i++ {
			if i%1024 == 0 && ctx.Err() != nil {
				return chunk.ParsedDocument{}, ctx.Err()
			}
			line := rest
			if j := strings.IndexByte(rest, '\n'); j >= 0 {
				line, rest = rest[:j], rest[j+1:]
			} else {
				rest = ""
			}
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if err := l.value(w, line, false); err != nil {
				return chunk.ParsedDocument{}, jsonError(fmt.Sprintf("JSON Lines line %d", i+1), err)
			}
		}
	} else if err := l.value(w, text, true); err != nil {
		return chunk.ParsedDocument{}, jsonError("JSON", err)
	}
	return chunk.ParsedDocument{Text: w.b.String()}, nil
}

// jsonError keeps limit and cancellation errors as they are and reports
// anything else as bad syntax.
func jsonError(where string, err error) error {
	if errors.Is(err, ErrLoadLimit) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("kb: %s: %v: %w", where, err, ErrMalformedDocument)
}

// jsonWriter accumulates the loader's output within its limits.
type jsonWriter struct {
	ctx      context.Context
	b        strings.Builder
	max      int64
	maxDepth int
	tokens   int
	path     []byte // the current key path, shared by every level
	record   bool   // the next leaf starts a new record
}

// token reads the next token, checking ctx every few thousand.
func (w *jsonWriter) token(dec *json.Decoder) (json.Token, error) {
	w.tokens++
	if w.tokens%4096 == 0 && w.ctx.Err() != nil {
		return nil, w.ctx.Err()
	}
	return dec.Token()
}

func (w *jsonWriter) tooDeep() error {
	return fmt.Errorf("kb: JSON nested deeper than %d levels (JSONLoader.MaxDepth): %w", w.maxDepth, ErrTooComplex)
}

// value writes one JSON value as a new record; records says a top-level
// array is a list of records.
func (l JSONLoader) value(w *jsonWriter, text string, records bool) error {
	if l.Pretty {
		return w.pretty(text)
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	tok, err := w.token(dec)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("the file holds no JSON value")
		}
		return err
	}
	w.record = true
	w.path = w.path[:0]
	if d, ok := tok.(json.Delim); ok && d == '[' && records {
		for dec.More() {
			w.record = true
			if err := w.flatten(dec, nil, 1); err != nil {
				return err
			}
		}
		if _, err := w.token(dec); err != nil { // ']'
			return err
		}
	} else if err := w.flatten(dec, tok, 0); err != nil {
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

// pretty writes text indented by two spaces, after checking its nesting
// and the size the indentation will have.
func (w *jsonWriter) pretty(text string) error {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	depth := 0
	size := int64(w.b.Len()) + 2
	for {
		tok, err := w.token(dec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			depth--
		}
		// Each token starts a line indented by its depth; a key and its
		// value share one, which this overcounts.
		size += int64(2*depth + 4)
		switch v := tok.(type) {
		case string:
			size += int64(len(v)) + 2
		case json.Number:
			size += int64(len(v))
		default:
			size += 5
		}
		if size > w.max {
			return textTooLarge("indented JSON", w.max)
		}
		if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			depth++
			if depth > w.maxDepth {
				return w.tooDeep()
			}
		}
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(text), "", "  "); err != nil {
		return err
	}
	if w.b.Len() > 0 {
		w.b.WriteString("\n\n")
	}
	w.b.Write(bytes.TrimSpace(buf.Bytes()))
	return nil
}

// flatten writes the value whose first token is tok (read it when nil)
// under the key path in w.path.
func (w *jsonWriter) flatten(dec *json.Decoder, tok json.Token, depth int) error {
	if depth > w.maxDepth {
		return w.tooDeep()
	}
	if tok == nil {
		var err error
		if tok, err = w.token(dec); err != nil {
			return err
		}
	}
	base := len(w.path)
	defer func() { w.path = w.path[:base] }()
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			for dec.More() {
				kt, err := w.token(dec)
				if err != nil {
					return err
				}
				key, _ := kt.(string)
				w.path = w.path[:base]
				if base > 0 {
					w.path = append(w.path, '.')
				}
				w.path = append(w.path, key...)
				if err := w.flatten(dec, nil, depth+1); err != nil {
					return err
				}
			}
		case '[':
			for i := 0; dec.More(); i++ {
				w.path = append(w.path[:base], '[')
				w.path = strconv.AppendInt(w.path, int64(i), 10)
				w.path = append(w.path, ']')
				if err := w.flatten(dec, nil, depth+1); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("unexpected %q", v)
		}
		_, err := w.token(dec) // closing delimiter
		return err
	case nil:
		return nil
	case string:
		return w.leaf(v)
	case json.Number:
		return w.leaf(v.String())
	case bool:
		return w.leaf(strconv.FormatBool(v))
	}
	return nil
}

func (w *jsonWriter) leaf(value string) error {
	if int64(w.b.Len()+len(w.path)+len(value)+4) > w.max {
		return textTooLarge("flattened JSON", w.max)
	}
	if w.b.Len() > 0 {
		if w.record {
			w.b.WriteString("\n\n")
		} else {
			w.b.WriteByte('\n')
		}
	}
	w.record = false
	if len(w.path) > 0 {
		w.b.Write(w.path)
		w.b.WriteString(": ")
	}
	w.b.WriteString(value)
	return nil
}
