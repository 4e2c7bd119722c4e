package chunk

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit"
)

// ParsedDocument is the input of a Chunker: text plus the structure its loader
// found. Offsets are byte offsets into Text.
type ParsedDocument struct {
	// Text is the document's text. It must be valid UTF-8.
	Text string
	// Pages holds the byte offset where each page starts, in increasing
	// order (Pages[0] is normally 0). Nil when the loader knew no pages.
	Pages []int
	// Headings are the document's section headings, in increasing Offset
	// order. Loaders that know the structure (HTML, DOCX) fill them; the
	// Recursive strategy with Markdown set derives them from Markdown text
	// when this is nil.
	Headings []Heading
	// Metadata is copied by reference into every chunk (Bedrock's
	// metadataAttributes: string, number, bool or []string values).
	Metadata map[string]any
}

// Heading is a section heading of a Document.
type Heading struct {
	// Offset is the byte offset where the heading's line starts.
	Offset int
	// Level is 1 for a top-level heading (Markdown #), 2 for ##, and so on.
	Level int
	// Text is the heading's text without its Markdown markers.
	Text string
}

// Chunk is one piece of a Document.
//
// Text is always Document.Text[Start-Overlap:End]: an optional overlap
// prefix (the end of the previous chunk, for strategies with overlap)
// followed by the chunk's own span Document.Text[Start:End]. Own spans of
// the chunks of one level never overlap and appear in increasing order, so
// Start and End can be used for citations.
type Chunk struct {
	// Text is the text to embed: the overlap prefix and the own span.
	Text string
	// Start and End delimit the chunk's own span in Document.Text.
	Start, End int
	// Overlap is the length in bytes of the prefix of Text taken from the
	// previous chunk; 0 without overlap.
	Overlap int
	// Tokens is the number of tokens of Text counted by the strategy's
	// Tokenizer.
	Tokens int
	// Page is the 1-based page where the own span starts, or 0 when the
	// document has no pages.
	Page int
	// Headings is the heading path at Start, outermost first (nil when
	// none).
	Headings []string
	// Metadata is the document's metadata (shared, not copied).
	Metadata map[string]any
	// Level is 1 for a parent chunk of the Hierarchical strategy and 0 for
	// every chunk that should be embedded and searched.
	Level int
	// Parent is the index, in the slice returned by Chunk, of this chunk's
	// parent chunk, or -1 when it has none.
	Parent int
}

// Chunker splits a document into chunks. Implementations are safe for
// concurrent use when their configuration is not modified.
type Chunker interface {
	Chunk(ctx context.Context, doc ParsedDocument) ([]Chunk, error)
}

// InvalidUTF8Error reports text that is not valid UTF-8. It wraps
// bedrockkit.ErrInvalidInput.
type InvalidUTF8Error struct {
	// Offset is the byte offset of the first invalid byte.
	Offset int
}

// Error says where the invalid byte is and what to do.
func (e *InvalidUTF8Error) Error() string {
	return fmt.Sprintf("chunk: document text is not valid UTF-8 at byte offset %d; decode the file to UTF-8 before chunking", e.Offset)
}

// Unwrap returns bedrockkit.ErrInvalidInput.
func (e *InvalidUTF8Error) Unwrap() error { return bedrockkit.ErrInvalidInput }

// checkUTF8 returns an *InvalidUTF8Error for the first invalid byte of s.
func checkUTF8(s string) error {
	if utf8.ValidString(s) {
		return nil
	}
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			return &InvalidUTF8Error{Offset: i}
		}
		i += w
	}
	return nil
}

func configError(format string, args ...any) error {
	return fmt.Errorf("chunk: "+format+": %w", append(args, bedrockkit.ErrInvalidInput)...)
}

// checkDoc validates the document's text and structure.
func checkDoc(doc ParsedDocument) error {
	if err := checkUTF8(doc.Text); err != nil {
		return err
	}
	prev := -1
	for i, p := range doc.Pages {
		if p < 0 || p > len(doc.Text) || p < prev {
			return configError("Document.Pages[%d]=%d is out of order or outside the text (0..%d); give page start offsets in increasing order", i, p, len(doc.Text))
		}
		prev = p
	}
	prev = -1
	for i, h := range doc.Headings {
		if h.Offset < 0 || h.Offset > len(doc.Text) || h.Offset < prev {
			return configError("Document.Headings[%d].Offset=%d is out of order or outside the text (0..%d)", i, h.Offset, len(doc.Text))
		}
		prev = h.Offset
	}
	return nil
}

var errNilEmbedder = errors.New("chunk: Semantic.Embedder is nil; set an embedder such as bedrockkit's Titan or bedrockkittest.NewHashEmbedder")
