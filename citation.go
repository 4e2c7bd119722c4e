package bedrockkit

// CitedText is generated text that the model backs with sources: passages
// of the documents it was given with Document.Citations (Converse), or of a
// knowledge base's retrieved chunks. Message.Text includes its text;
// Message.Citations lists it with its position in that text.
type CitedText struct {
	Text    string
	Sources []CitationSource
}

// Citation links a part of a generated answer to the sources that support
// it. Converse answers (Message.Citations) and knowledge-base answers
// (kb.Answer.Citations) use this one shape.
type Citation struct {
	// Text is the cited part of the answer: answer[Span.Start:Span.End].
	Text string `json:"text"`
	// Span is where Text sits in the answer.
	Span Span `json:"span"`
	// Sources support Text, at least one.
	Sources []CitationSource `json:"sources"`
}

// Span delimits a part of an answer by byte offsets (Go string indexes).
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// CitationSource is a passage that supports a cited text.
type CitationSource struct {
	// Title names the source: the Document's Name for Converse citations of
	// a document, the page title for web citations.
	Title string `json:"title,omitempty"`
	// URI says where the source lives: a knowledge-base document's URI, a
	// web URL, or a search result's source.
	URI string `json:"uri,omitempty"`
	// Text is the cited passage of the source (for knowledge bases, the
	// retrieved chunk).
	Text string `json:"text,omitempty"`
	// Location says where in the source the passage is.
	Location SourceLocation `json:"location"`
	// Metadata holds a knowledge-base chunk's attributes.
	Metadata map[string]any `json:"metadata,omitempty"`
	// ID is a knowledge-base chunk's record ID.
	ID string `json:"id,omitempty"`
}

// SourceLocation says where a cited passage is in its source.
type SourceLocation struct {
	// Kind says which of the other fields apply.
	Kind LocationKind `json:"kind"`
	// Index is the position of the cited document among the request's
	// documents with citations (document locations), or of the search
	// result (LocationSearchResult), counting from 0.
	Index int `json:"index"`
	// Start and End delimit the passage: characters for
	// LocationDocumentChar, chunks for LocationDocumentChunk, pages for
	// LocationDocumentPage, content blocks for LocationSearchResult, as the
	// model reports them.
	Start int `json:"start"`
	End   int `json:"end"`
}

// LocationKind is the kind of a SourceLocation.
type LocationKind string

// Kinds of source location. The document and search-result kinds come from
// Converse; S3, web and custom describe a knowledge-base document's origin
// (Bedrock's RetrievalResultLocation types) or a web citation.
const (
	LocationDocumentChar  LocationKind = "document_char"
	LocationDocumentChunk LocationKind = "document_chunk"
	LocationDocumentPage  LocationKind = "document_page"
	LocationSearchResult  LocationKind = "search_result"
	LocationWeb           LocationKind = "web"
	LocationS3            LocationKind = "s3"
	LocationCustom        LocationKind = "custom"
)

// Citations returns the message's CitedText parts that have sources, as
// Citations whose spans are byte offsets into Message.Text.
func (m Message) Citations() []Citation {
	var out []Citation
	pos := 0
	for _, p := range m.Parts {
		switch p := p.(type) {
		case Text:
			pos += len(p.Text)
		case CitedText:
			if len(p.Sources) > 0 {
				out = append(out, Citation{
					Text:    p.Text,
					Span:    Span{Start: pos, End: pos + len(p.Text)},
					Sources: append([]CitationSource(nil), p.Sources...),
				})
			}
			pos += len(p.Text)
		}
	}
	return out
}
