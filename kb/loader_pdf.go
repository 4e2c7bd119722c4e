package kb

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"

	"github.com/bedrockkit/bedrockkit/chunk"
)

// PDFLoader extracts the text of a PDF with github.com/ledongthuc/pdf, a
// pure-Go reader (no cgo, no external tools), one page at a time so that
// Document.Pages holds the offset where each page's text starts and chunks
// cite their page number, as Bedrock does.
//
// Text is laid out from the glyph positions: a change of baseline starts a
// new line and a horizontal gap wider than a fraction of the font size
// becomes a space. Pages are separated by a blank line. Damaged files,
// encrypted files and files whose pages hold no text at all (scanned
// images: run OCR first) fail with ErrMalformedDocument or ErrNoText; a
// panic inside the PDF library is recovered and reported the same way, so
// one broken PDF never stops a sync.
type PDFLoader struct{}

// pdfMaxPages bounds the page-tree walk so a cyclic or hostile tree ends.
const pdfMaxPages = 100_000

// Load implements Loader.
func (PDFLoader) Load(ctx context.Context, _ SourceItem, data []byte) (doc chunk.Document, err error) {
	if err := loadCheck(ctx); err != nil {
		return chunk.Document{}, err
	}
	defer recoverLoad("PDF", &err)
	if !bytes.HasPrefix(bytes.TrimLeft(data[:min(len(data), 1024)], "\x00\t\r\n "), []byte("%PDF-")) {
		return chunk.Document{}, fmt.Errorf("%w: not a PDF file (no %%PDF- header); check the file's extension", ErrMalformedDocument)
	}
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "encrypt") || strings.Contains(msg, "password") {
			return chunk.Document{}, fmt.Errorf("%w: the PDF is encrypted (%v); save an unprotected copy", ErrMalformedDocument, err)
		}
		return chunk.Document{}, fmt.Errorf("%w: PDF: %v; check that it opens in a viewer or re-save it", ErrMalformedDocument, err)
	}
	pages := pdfPages(r)
	if len(pages) == 0 {
		return chunk.Document{}, fmt.Errorf("%w: the PDF has no pages", ErrMalformedDocument)
	}
	var b strings.Builder
	offsets := make([]int, 0, len(pages))
	for i, p := range pages {
		if err := ctx.Err(); err != nil {
			return chunk.Document{}, err
		}
		text, err := pdfPageText(p)
		if err != nil {
			return chunk.Document{}, fmt.Errorf("%w: PDF page %d: %v", ErrMalformedDocument, i+1, err)
		}
		if text != "" && b.Len() > 0 {
			b.WriteString("\n\n")
		}
		offsets = append(offsets, b.Len())
		b.WriteString(text)
	}
	if strings.TrimSpace(b.String()) == "" {
		return chunk.Document{}, fmt.Errorf("%w: none of the PDF's %d pages holds text (a scan?); run OCR on it first", ErrNoText, len(pages))
	}
	return chunk.Document{Text: b.String(), Pages: offsets}, nil
}

// pdfPages walks the page tree in order, bounded in depth and size.
func pdfPages(r *pdf.Reader) []pdf.Page {
	var (
		pages   []pdf.Page
		visited int
		walk    func(v pdf.Value, depth int)
	)
	walk = func(v pdf.Value, depth int) {
		visited++
		if depth > 64 || visited > 2*pdfMaxPages || len(pages) >= pdfMaxPages {
			return
		}
		switch v.Key("Type").Name() {
		case "Pages":
			kids := v.Key("Kids")
			for i := 0; i < kids.Len(); i++ {
				walk(kids.Index(i), depth+1)
			}
		case "Page":
			pages = append(pages, pdf.Page{V: v})
		}
	}
	walk(r.Trailer().Key("Root").Key("Pages"), 0)
	return pages
}

// pdfPageText lays out a page's glyphs as lines of text.
func pdfPageText(p pdf.Page) (text string, err error) {
	defer recoverLoad("PDF", &err)
	var (
		b         strings.Builder
		prev      pdf.Text
		have      bool
		prevEnd   float64
		space     bool // a space is due before the next glyph on this line
		lineStart = true
	)
	for _, g := range p.Content().Text {
		// The library emits "\n" after each TJ array whatever the layout;
		// line breaks come from the glyph positions instead.
		if g.S == "" || g.S == "\n" {
			continue
		}
		size := math.Abs(g.FontSize)
		if size < 1 || math.IsNaN(size) || math.IsInf(size, 0) {
			size = 10
		}
		if have {
			switch {
			case math.Abs(g.Y-prev.Y) > size*0.5:
				if !lineStart {
					b.WriteByte('\n')
					lineStart, space = true, false
				}
			case g.X-prevEnd > size*0.2 || g.X < prev.X-size:
				space = true
			}
		}
		s := g.S
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		s = strings.Map(pdfRune, s)
		prev, have, prevEnd = g, true, g.X+g.W
		if strings.TrimSpace(s) == "" {
			if s != "" {
				space = true
			}
			continue
		}
		if space && !lineStart {
			b.WriteByte(' ')
		}
		b.WriteString(s)
		space, lineStart = false, false
	}
	return b.String(), nil
}

// pdfRune drops control characters that PDFs use as filler and maps
// other white space to a plain space.
func pdfRune(r rune) rune {
	switch {
	case r == '\n' || r == '\r' || r == '\t' || r == 0xA0:
		return ' '
	case r < 0x20 || r == 0x7F || r == 0xFEFF:
		return -1
	}
	return r
}
