package kb

import (
	"context"
	"fmt"
	"io"
	"iter"

	"github.com/bedrockkit/bedrockkit/chunk"
)

// SourceItem is one document a Source offers for ingestion.
type SourceItem struct {
	// URI identifies the document across syncs, such as "file:policies/fees.md"
	// or "s3://bucket/prefix/fees.md". It must be stable: a knowledge base
	// keys its documents by URI and content hash.
	URI string
	// Name is the document's file name ("fees.md"); its extension chooses
	// the Loader.
	Name string
	// Size is the document's size in bytes, or -1 when unknown.
	Size int64
	// Metadata holds the document's attributes, for example from a
	// "<file>.metadata.json" sidecar in Bedrock's format; nil when none.
	Metadata map[string]any
	// Open returns the document's bytes. The caller closes the reader.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// Source lists the documents of a data source: a directory, an fs.FS, an S3
// prefix, or documents held in memory.
//
// Items yields every document. A document that cannot be listed or read is
// reported by yielding an *ItemError (with its URI) and the listing goes on;
// any other error ends the listing, and a knowledge base then deletes
// nothing, since it cannot tell which documents are gone.
type Source interface {
	Items(ctx context.Context) iter.Seq2[SourceItem, error]
}

// ItemError is one document of a Source that failed alone: it could not be
// listed, read or loaded. Sync reports it and carries on with the others.
//
// An ItemError whose URI ends in "/" stands for a folder that could not be
// listed (such as an unreadable subdirectory of an FSSource): every
// document whose URI starts with it is unknown, not deleted, so a
// knowledge base must keep those documents.
type ItemError struct {
	// URI is the failed document's URI.
	URI string
	// Err says why it failed.
	Err error
}

// Error names the document and the reason.
func (e *ItemError) Error() string { return fmt.Sprintf("kb: document %s: %v", e.URI, e.Err) }

// Unwrap returns the reason.
func (e *ItemError) Unwrap() error { return e.Err }

// Loader turns a document's bytes into text with its structure (pages and
// headings, when the format has them) for chunking. The returned Document's
// Metadata is merged over by the item's Metadata.
type Loader interface {
	Load(ctx context.Context, item SourceItem, data []byte) (chunk.ParsedDocument, error)
}

// LoaderFunc adapts a function to the Loader interface.
type LoaderFunc func(ctx context.Context, item SourceItem, data []byte) (chunk.ParsedDocument, error)

// Load calls f.
func (f LoaderFunc) Load(ctx context.Context, item SourceItem, data []byte) (chunk.ParsedDocument, error) {
	return f(ctx, item, data)
}
