package kb

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/chunk"
)

// Errors of the loaders. Each wraps bedrockkit.ErrInvalidInput, except
// ErrUnsupportedFormat which wraps bedrockkit.ErrUnsupported; test them
// with errors.Is.
var (
	// ErrUnsupportedFormat: no loader handles the document's extension.
	ErrUnsupportedFormat = fmt.Errorf("kb: unsupported document format: %w", bedrockkit.ErrUnsupported)
	// ErrInvalidEncoding: the document's bytes are not text in a supported
	// encoding (UTF-8, or UTF-16 with a byte order mark).
	ErrInvalidEncoding = fmt.Errorf("kb: invalid text encoding: %w", bedrockkit.ErrInvalidInput)
	// ErrMalformedDocument: the document is damaged or not in the format
	// its extension says (a broken PDF, a DOCX that is not a zip, bad CSV
	// or JSON syntax).
	ErrMalformedDocument = fmt.Errorf("kb: malformed document: %w", bedrockkit.ErrInvalidInput)
	// ErrNoText: the document holds no extractable text, such as a PDF of
	// scanned images.
	ErrNoText = fmt.Errorf("kb: no extractable text: %w", bedrockkit.ErrInvalidInput)
)

// Errors of the load limits (see LoadLimits and Options). Each wraps
// ErrLoadLimit, which wraps bedrockkit.ErrInvalidInput: the document fails
// alone and a Sync goes on with the others, counting it in
// SyncReport.OverLimit.
var (
	// ErrLoadLimit is wrapped by every error of a document that went over
	// a limit on its size, text, structure, memory or time.
	ErrLoadLimit = fmt.Errorf("kb: document over a load limit: %w", bedrockkit.ErrInvalidInput)
	// ErrTooLarge: the document's bytes are over the limit of its source
	// (FSSource.MaxSize) or of Options.MaxDocumentBytes.
	ErrTooLarge = fmt.Errorf("kb: document too large: %w", ErrLoadLimit)
	// ErrTextTooLarge: the text extracted from the document is over
	// LoadLimits.MaxTextBytes (Options.MaxTextBytes).
	ErrTextTooLarge = fmt.Errorf("kb: extracted text too large: %w", ErrLoadLimit)
	// ErrTooComplex: the document's structure is over a loader's limit,
	// such as the nesting depth or element count of a DOCX, the nesting
	// of a JSON value, the size of one CSV record or of a zip member once
	// decompressed.
	ErrTooComplex = fmt.Errorf("kb: document structure too complex: %w", ErrLoadLimit)
	// ErrLoadMemory: the loader's engine used up its memory budget on the
	// document (see kb/pdf).
	ErrLoadMemory = fmt.Errorf("kb: out of the loader's memory budget: %w", ErrLoadLimit)
	// ErrLoadTimeout: loading the document took longer than
	// Options.LoadTimeout.
	ErrLoadTimeout = fmt.Errorf("kb: loading took too long: %w", ErrLoadLimit)
)

// DefaultMaxTextBytes is the default of LoadLimits.MaxTextBytes: 32 MiB,
// some eight million tokens, 25,000 chunks of Bedrock's default size.
const DefaultMaxTextBytes = 32 << 20

// LoadLimits bound what loading one document may produce. Sync hands
// Options' limits to every Loader in the context it passes to Load (see
// WithLoadLimits); a Loader reads them with LoadLimitsFromContext and fails
// with an error wrapping ErrTextTooLarge once its output would go over.
// Sync also checks the Document a Loader returns, so a Loader that ignores
// the limits cannot get a larger text indexed, but it can still use the
// memory: a Loader must bound its own work by the limits and honour ctx.
type LoadLimits struct {
	// MaxTextBytes is the most text, in UTF-8 bytes, one document may yield;
	// every heading and page boundary a loader records counts as
	// HeadingCost bytes more. Zero or negative means DefaultMaxTextBytes.
	MaxTextBytes int64
}

// HeadingCost is what one recorded heading or page boundary counts
// toward LoadLimits.MaxTextBytes, so that a document of many empty headings
// cannot grow the structure beside the text without bound.
const HeadingCost = 64

type loadLimitsKey struct{}

// WithLoadLimits returns a context carrying the limits for Loaders.
func WithLoadLimits(ctx context.Context, l LoadLimits) context.Context {
	return context.WithValue(ctx, loadLimitsKey{}, l)
}

// LoadLimitsFromContext returns the limits WithLoadLimits put in ctx, with
// defaults in place of zero fields (all defaults when there are none).
func LoadLimitsFromContext(ctx context.Context) LoadLimits {
	l, _ := ctx.Value(loadLimitsKey{}).(LoadLimits)
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = DefaultMaxTextBytes
	}
	return l
}

// textTooLarge is the error of a loader whose output would exceed max.
func textTooLarge(format string, max int64) error {
	return fmt.Errorf("kb: the %s text is over the limit of %d bytes; split the document or raise Options.MaxTextBytes: %w", format, max, ErrTextTooLarge)
}

// checkDocSize fails a Document whose text and structure exceed max.
func checkDocSize(format string, doc chunk.ParsedDocument, max int64) error {
	if int64(len(doc.Text))+HeadingCost*int64(len(doc.Headings)+len(doc.Pages)) > max {
		return textTooLarge(format, max)
	}
	return nil
}

// DefaultLoaders returns a new map of the built-in loaders keyed by
// lowercase file extension without the dot:
//
//	txt, text              TextLoader
//	md, markdown           MarkdownLoader
//	html, htm              HTMLLoader
//	csv                    CSVLoader
//	tsv                    CSVLoader with Comma '\t'
//	json                   JSONLoader
//	jsonl, ndjson          JSONLoader with Lines
//	docx                   DOCXLoader
//
// PDF is not among them: its loader, in package kb/pdf, runs a PDF engine
// that adds several megabytes to a program, so a program that wants it
// registers it (loaders["pdf"] = pdf.NewLoader(pdf.Options{})). The map is
// the caller's to change: add or replace entries to support other formats.
func DefaultLoaders() map[string]Loader {
	return map[string]Loader{
		"txt":      TextLoader{},
		"text":     TextLoader{},
		"md":       MarkdownLoader{},
		"markdown": MarkdownLoader{},
		"html":     HTMLLoader{},
		"htm":      HTMLLoader{},
		"csv":      CSVLoader{},
		"tsv":      CSVLoader{Comma: '\t'},
		"json":     JSONLoader{},
		"jsonl":    JSONLoader{Lines: true},
		"ndjson":   JSONLoader{Lines: true},
		"docx":     DOCXLoader{},
	}
}

// Extension returns the lowercase extension of a document name without the
// dot ("pdf" for "Report.PDF"), or "" when it has none.
func Extension(name string) string {
	ext := path.Ext(name)
	if ext == "" {
		return ""
	}
	return strings.ToLower(ext[1:])
}

// LoaderFor picks the loader for a document name by its extension, case
// insensitively. When none matches, the error wraps ErrUnsupportedFormat
// and names the extension.
func LoaderFor(loaders map[string]Loader, name string) (Loader, error) {
	ext := Extension(name)
	if l, ok := loaders[ext]; ok && l != nil {
		return l, nil
	}
	if ext == "" {
		return nil, fmt.Errorf("kb: %q has no file extension; give it one of the loaders' extensions or add a loader: %w", name, ErrUnsupportedFormat)
	}
	return nil, fmt.Errorf("kb: no loader for %q files; %s: %w", "."+ext, addLoaderHint(ext), ErrUnsupportedFormat)
}

// Load loads one item with the loader its name picks: a convenience for
// LoaderFor followed by Load, with the item's Metadata merged over the
// document's.
func Load(ctx context.Context, loaders map[string]Loader, item SourceItem, data []byte) (chunk.ParsedDocument, error) {
	l, err := LoaderFor(loaders, item.Name)
	if err != nil {
		return chunk.ParsedDocument{}, err
	}
	doc, err := l.Load(ctx, item, data)
	if err != nil {
		return chunk.ParsedDocument{}, err
	}
	if len(item.Metadata) > 0 {
		md := make(map[string]any, len(doc.Metadata)+len(item.Metadata))
		for k, v := range doc.Metadata {
			md[k] = v
		}
		for k, v := range item.Metadata {
			md[k] = v
		}
		doc.Metadata = md
	}
	return doc, nil
}

// addLoaderHint says how to get a loader for ext.
func addLoaderHint(ext string) string {
	if ext == "pdf" {
		return "register the PDF loader of package github.com/bedrockkit/bedrockkit/kb/pdf (loaders[\"pdf\"] = pdf.NewLoader(pdf.Options{}))"
	}
	return "add one to the loaders map or convert the file"
}

// decodeText returns data as UTF-8 text: UTF-8 (a byte order mark is
// dropped) as is, UTF-16 with a byte order mark converted. Anything else
// is an error wrapping ErrInvalidEncoding that gives the offset of the
// first bad byte; text is never silently altered.
func decodeText(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, utf8BOM):
		data = data[len(utf8BOM):]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return decodeUTF16(data)
	}
	if err := checkText(data); err != nil {
		return "", err
	}
	return string(data), nil
}

// checkText reports invalid UTF-8 and NUL bytes (a sign of a binary file).
func checkText(data []byte) error {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return fmt.Errorf("kb: NUL byte at offset %d: this looks like a binary file or UTF-16 without a byte order mark; save it as UTF-8: %w", i, ErrInvalidEncoding)
	}
	if utf8.Valid(data) {
		return nil
	}
	for i := 0; i < len(data); {
		r, w := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && w == 1 {
			return fmt.Errorf("kb: not valid UTF-8 at byte offset %d (byte 0x%02X); save the file as UTF-8 (or UTF-16 with a byte order mark): %w", i, data[i], ErrInvalidEncoding)
		}
		i += w
	}
	return nil
}

func decodeUTF16(data []byte) (string, error) {
	if len(data)%2 != 0 {
		return "", fmt.Errorf("kb: UTF-16 text has an odd number of bytes (%d); the file is truncated or not UTF-16: %w", len(data), ErrInvalidEncoding)
	}
	be := data[0] == 0xFE
	// Check surrogate pairs first: the decoder would replace a lone
	// surrogate with U+FFFD, silently changing the text.
	unit := func(i int) uint16 {
		if be {
			return uint16(data[i])<<8 | uint16(data[i+1])
		}
		return uint16(data[i+1])<<8 | uint16(data[i])
	}
	for i := 2; i < len(data); i += 2 {
		u := unit(i)
		switch {
		case u >= 0xD800 && u < 0xDC00:
			if i+2 >= len(data) || unit(i+2) < 0xDC00 || unit(i+2) > 0xDFFF {
				return "", fmt.Errorf("kb: UTF-16 text has an unpaired surrogate at byte offset %d: %w", i, ErrInvalidEncoding)
			}
			i += 2
		case u >= 0xDC00 && u <= 0xDFFF:
			return "", fmt.Errorf("kb: UTF-16 text has an unpaired surrogate at byte offset %d: %w", i, ErrInvalidEncoding)
		case u == 0:
			return "", fmt.Errorf("kb: UTF-16 text has a NUL character at byte offset %d: this looks like a binary file: %w", i, ErrInvalidEncoding)
		}
	}
	enc := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)
	if be {
		enc = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)
	}
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return "", fmt.Errorf("kb: UTF-16: %v: %w", err, ErrInvalidEncoding)
	}
	return string(out), nil
}

// loadCheck is the common start of every loader.
func loadCheck(ctx context.Context) error {
	return ctx.Err()
}

// recoverLoad turns a panic of a third-party parser into an error wrapping
// ErrMalformedDocument, so one broken file cannot crash a sync.
func recoverLoad(format string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("kb: the %s parser failed on this file (%v); check that it opens in a viewer or re-save it: %w", format, r, ErrMalformedDocument)
	}
}
