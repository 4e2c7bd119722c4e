package kb

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bedrockkit/bedrockkit/chunk"
)

// DOCXLoader extracts the text of a Word document (Office Open XML,
// .docx). A .docx file is a zip archive; the loader reads its
// word/document.xml with archive/zip and encoding/xml (no third-party
// dependency: the maintained Go DOCX libraries are either commercial or not
// served by the module proxy this project uses):
//
//   - each paragraph (w:p) ends with a blank line; w:t runs are joined, w:tab
//     becomes a tab and w:br/w:cr a line break;
//   - paragraphs styled as headings (styles named "heading 1".."heading 9"
//     or "Title", or with an outline level, looked up in word/styles.xml)
//     become Headings, so chunks carry their section path;
//   - table cells are joined with " | ", each table row a paragraph.
//
// Only the document body is read: headers, footers, footnotes and comments
// are left out, and so is deleted text of tracked changes. DOCX has no fixed
// pages (pagination happens when Word renders), so
// Document.Pages stays nil. Legacy .doc files are not supported. A damaged
// archive or XML fails with ErrMalformedDocument.
//
// # Limits
//
// The XML is streamed token by token, never held whole, and the loader
// stops with an error wrapping ErrTooComplex as soon as an archive member
// decompresses past MaxXMLBytes (a zip bomb), elements nest deeper than
// MaxDepth, more than MaxElements elements are read, or one tag is longer
// than 1 MiB (an element with a million attributes). The text, plus
// HeadingCost per heading, stops at LoadLimits.MaxTextBytes with
// ErrTextTooLarge. A cancelled context stops it within a few thousand
// tokens. Memory therefore stays within a small multiple of these limits
// whatever the file holds.
type DOCXLoader struct {
	// MaxDepth is the deepest element nesting accepted; 0 means 256 (Word
	// documents nest a few dozen deep, tables in tables included).
	MaxDepth int
	// MaxElements is the most XML elements read from the document and its
	// styles together; 0 means 4,000,000 (about 2,000 pages).
	MaxElements int
	// MaxXMLBytes is the most bytes one archive member may decompress to;
	// 0 means 128 MiB.
	MaxXMLBytes int64
}

// Defaults of DOCXLoader's limits.
const (
	docxMaxDepth    = 256
	docxMaxElements = 4_000_000
	docxMaxXML      = 128 << 20
	xmlMaxTag       = 1 << 20
)

func (l DOCXLoader) limits() (depth, elements int, xmlBytes int64) {
	depth, elements, xmlBytes = l.MaxDepth, l.MaxElements, l.MaxXMLBytes
	if depth <= 0 {
		depth = docxMaxDepth
	}
	if elements <= 0 {
		elements = docxMaxElements
	}
	if xmlBytes <= 0 {
		xmlBytes = docxMaxXML
	}
	return depth, elements, xmlBytes
}

// xmlStream is a DOCX member being decoded within the loader's limits.
type xmlStream struct {
	dec      *xml.Decoder
	depth    int
	maxDepth int
	elements *int // shared count across members
	maxElems int
	tokens   int
}

func (l DOCXLoader) open(f *zip.File, elements *int, maxText int64) (*xmlStream, io.Closer, error) {
	maxDepth, maxElems, maxBytes := l.limits()
	if f.UncompressedSize64 > uint64(maxBytes) {
		return nil, nil, fmt.Errorf("kb: DOCX member %s decompresses to %d bytes, over the limit of %d (DOCXLoader.MaxXMLBytes): %w", f.Name, f.UncompressedSize64, maxBytes, ErrTooComplex)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("kb: DOCX %s: %v: %w", f.Name, err, ErrMalformedDocument)
	}
	r := &xmlGuard{r: rc, left: maxBytes, name: f.Name, maxRun: maxText}
	return &xmlStream{dec: xml.NewDecoder(r), maxDepth: maxDepth, elements: elements, maxElems: maxElems}, rc, nil
}

// next returns the next token, enforcing the limits and ctx.
func (x *xmlStream) next(ctx context.Context) (xml.Token, error) {
	x.tokens++
	if x.tokens%4096 == 0 && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	tok, err := x.dec.Token()
	if err != nil {
		var le *limitError
		if errors.As(err, &le) {
			return nil, le.err
		}
		return nil, err
	}
	switch tok.(type) {
	case xml.StartElement:
		x.depth++
		*x.elements++
		if x.depth > x.maxDepth {
			return nil, fmt.Errorf("kb: DOCX elements nest deeper than %d levels (DOCXLoader.MaxDepth): %w", x.maxDepth, ErrTooComplex)
		}
		if *x.elements > x.maxElems {
			return nil, fmt.Errorf("kb: the DOCX has more than %d XML elements (DOCXLoader.MaxElements): %w", x.maxElems, ErrTooComplex)
		}
	case xml.EndElement:
		x.depth--
	}
	return tok, nil
}

// limitError carries a limit error through encoding/xml, which wraps the
// reader's errors in its own.
type limitError struct{ err error }

func (e *limitError) Error() string { return e.err.Error() }

// xmlGuard fails reads past the member's size limit and tags longer than
// xmlMaxTag (encoding/xml holds a whole tag, attributes included, in
// memory). Inside CDATA sections and comments '<' starts no tag, but no
// DOCX writer emits megabytes of those.
type xmlGuard struct {
	r      io.Reader
	left   int64
	name   string
	inTag  bool
	tagLen int
	// A text node is held whole by encoding/xml too: one longer than the
	// text limit fails at once.
	runLen, maxRun int64
}

func (g *xmlGuard) Read(p []byte) (int, error) {
	if g.left <= 0 {
		// One byte more tells a member of exactly the limit from a larger one.
		var one [1]byte
		if n, _ := g.r.Read(one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, &limitError{fmt.Errorf("kb: DOCX member %s decompresses to more than the limit of its size (DOCXLoader.MaxXMLBytes); a zip bomb?: %w", g.name, ErrTooComplex)}
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, err := g.r.Read(p)
	g.left -= int64(n)
	for _, c := range p[:n] {
		switch {
		case c == '<':
			g.inTag, g.tagLen, g.runLen = true, 0, 0
		case c == '>':
			g.inTag = false
		case g.inTag:
			g.tagLen++
			if g.tagLen > xmlMaxTag {
				return n, &limitError{fmt.Errorf("kb: DOCX member %s has a tag longer than %d bytes: %w", g.name, xmlMaxTag, ErrTooComplex)}
			}
		default:
			g.runLen++
			if g.runLen > g.maxRun {
				return n, &limitError{textTooLarge("DOCX", g.maxRun)}
			}
		}
	}
	if errors.Is(err, io.EOF) && g.left <= 0 {
		err = nil // let the next Read check for more
	}
	return n, err
}

// Load implements Loader.
func (l DOCXLoader) Load(ctx context.Context, _ SourceItem, data []byte) (doc chunk.ParsedDocument, err error) {
	if err := loadCheck(ctx); err != nil {
		return chunk.ParsedDocument{}, err
	}
	defer recoverLoad("DOCX", &err)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return chunk.ParsedDocument{}, fmt.Errorf("kb: DOCX is not a valid zip archive (%v); legacy .doc files must be converted to .docx: %w", err, ErrMalformedDocument)
	}
	var main, styles *zip.File
	for _, f := range zr.File {
		switch f.Name {
		case "word/document.xml":
			main = f
		case "word/styles.xml":
			styles = f
		}
	}
	if main == nil {
		return chunk.ParsedDocument{}, fmt.Errorf("kb: DOCX archive has no word/document.xml; is it a Word document?: %w", ErrMalformedDocument)
	}
	elements := 0
	maxText := LoadLimitsFromContext(ctx).MaxTextBytes
	levels := map[string]int{}
	if styles != nil {
		x, c, err := l.open(styles, &elements, maxText)
		if err != nil {
			return chunk.ParsedDocument{}, err
		}
		levels, err = docxStyleLevels(ctx, x)
		c.Close()
		if err != nil {
			return chunk.ParsedDocument{}, docxError("word/styles.xml", err)
		}
	}
	x, c, err := l.open(main, &elements, maxText)
	if err != nil {
		return chunk.ParsedDocument{}, err
	}
	defer c.Close()
	doc, err = docxText(ctx, x, levels, maxText)
	if err != nil {
		if ctx.Err() != nil {
			return chunk.ParsedDocument{}, ctx.Err()
		}
		return chunk.ParsedDocument{}, docxError("word/document.xml", err)
	}
	return doc, nil
}

// docxError keeps limit and cancellation errors as they are and reports
// anything else as a malformed member.
func docxError(member string, err error) error {
	if errors.Is(err, ErrLoadLimit) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("kb: DOCX %s: %v: %w", member, err, ErrMalformedDocument)
}

const wordNS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

func wattr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name && (a.Name.Space == wordNS || a.Name.Space == "") {
			return a.Value
		}
	}
	return ""
}

// docxStyleLevels maps paragraph style IDs to heading levels.
func docxStyleLevels(ctx context.Context, x *xmlStream) (map[string]int, error) {
	levels := map[string]int{}
	var id string
	level := 0
	for {
		tok, err := x.next(ctx)
		if errors.Is(err, io.EOF) {
			return levels, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != wordNS {
				continue
			}
			switch t.Name.Local {
			case "style":
				id, level = wattr(t, "styleId"), 0
			case "name":
				if id != "" && level == 0 {
					level = headingStyleLevel(wattr(t, "val"))
				}
			case "outlineLvl":
				if id != "" && level == 0 {
					if n, err := strconv.Atoi(wattr(t, "val")); err == nil && n >= 0 && n < 9 {
						level = n + 1
					}
				}
			}
		case xml.EndElement:
			if t.Name.Space == wordNS && t.Name.Local == "style" {
				if id != "" && level > 0 && len(levels) < 1<<16 {
					levels[id] = level
				}
				id, level = "", 0
			}
		}
	}
}

// headingStyleLevel reads "heading 2" as 2 and "Title" as 1.
func headingStyleLevel(name string) int {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "title" {
		return 1
	}
	if rest, ok := strings.CutPrefix(n, "heading"); ok {
		if l, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil && l >= 1 && l <= 9 {
			return l
		}
	}
	return 0
}

// docxText streams document.xml into text: paragraphs separated by blank
// lines, table cells of a row joined by " | ", headings from paragraph
// styles and outline levels.
func docxText(ctx context.Context, x *xmlStream, styleLevels map[string]int, maxText int64) (chunk.ParsedDocument, error) {
	d := &docxBuilder{styleLevels: styleLevels}
	for {
		tok, err := x.next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return chunk.ParsedDocument{}, err
		}
		// Separators and the heading entry add a few bytes per paragraph.
		if d.size()+HeadingCost+8 > maxText {
			return chunk.ParsedDocument{}, textTooLarge("DOCX", maxText)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space == wordNS {
				d.start(t)
			}
		case xml.EndElement:
			if t.Name.Space == wordNS {
				d.end(t)
			}
		case xml.CharData:
			if d.inText {
				if d.size()+int64(len(t)) > maxText {
					return chunk.ParsedDocument{}, textTooLarge("DOCX", maxText)
				}
				d.para.Write(t)
			}
		}
	}
	d.endPara()
	// encoding/xml rejects invalid UTF-8, so the text is valid.
	return chunk.ParsedDocument{Text: d.b.String(), Headings: d.heads}, nil
}

// docxBuilder is the state of docxText.
type docxBuilder struct {
	styleLevels map[string]int
	b           strings.Builder
	para        strings.Builder
	heads       []chunk.Heading
	inText      bool
	level       int // heading level of the current paragraph
	cellDep     int // nesting of table cells
	rowCells    int // cells written in the current row
}

// size is the text so far, with the cost of its headings.
func (d *docxBuilder) size() int64 {
	return int64(d.b.Len()+d.para.Len()) + HeadingCost*int64(len(d.heads))
}

// start handles the start of a WordprocessingML element.
func (d *docxBuilder) start(t xml.StartElement) {
	switch t.Name.Local {
	case "t":
		d.inText = true
	case "tab":
		d.para.WriteByte('\t')
	case "br", "cr":
		d.para.WriteByte('\n')
	case "pStyle":
		if l := d.styleLevels[wattr(t, "val")]; l > 0 {
			d.level = l
		} else if l := headingStyleLevel(wattr(t, "val")); l > 0 {
			d.level = l // documents without styles.xml use IDs like "Heading1"
		} else if l := headingStyleLevel(strings.Replace(wattr(t, "val"), "Heading", "heading ", 1)); l > 0 {
			d.level = l
		}
	case "outlineLvl":
		if n, err := strconv.Atoi(wattr(t, "val")); err == nil && n >= 0 && n < 9 && d.level == 0 {
			d.level = n + 1
		}
	case "tc":
		d.cellDep++
	case "tr":
		d.rowCells = 0
	}
}

// end handles the end of a WordprocessingML element.
func (d *docxBuilder) end(t xml.EndElement) {
	switch t.Name.Local {
	case "t":
		d.inText = false
	case "p":
		d.endPara()
	case "tc":
		if d.cellDep > 0 {
			d.cellDep--
		}
	case "tbl":
		d.rowCells = 0
	}
}

// endPara writes the finished paragraph: as a cell of the current table
// row, or as a paragraph (a heading when its style says so).
func (d *docxBuilder) endPara() {
	p := strings.TrimSpace(d.para.String())
	d.para.Reset()
	defer func() { d.level = 0 }()
	if p == "" {
		return
	}
	if d.cellDep > 0 {
		if d.rowCells > 0 {
			d.b.WriteString(" | ")
		} else if d.b.Len() > 0 {
			d.b.WriteString("\n\n")
		}
		d.rowCells++
		d.b.WriteString(strings.ReplaceAll(p, "\n", " "))
		return
	}
	if d.b.Len() > 0 {
		d.b.WriteString("\n\n")
	}
	if d.level > 0 {
		d.heads = append(d.heads, chunk.Heading{Offset: d.b.Len(), Level: d.level, Text: strings.Join(strings.Fields(p), " ")})
	}
	d.b.WriteString(p)
}
