package pdf

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	pdfium "github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"golang.org/x/text/unicode/norm"

	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/kb"
)

// extract reads every page's text. maxText bounds the text plus
// kb.HeadingCost per page.
func extract(ctx context.Context, inst pdfium.Pdfium, data []byte, maxText int64) (chunk.ParsedDocument, error) {
	opened, err := inst.OpenDocument(&requests.OpenDocument{File: &data})
	if err != nil {
		return chunk.ParsedDocument{}, openError(err)
	}
	defer inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: opened.Document})
	count, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: opened.Document})
	if err != nil {
		return chunk.ParsedDocument{}, fmt.Errorf("pdf: PDF page count: %v: %w", firstLine(err), kb.ErrMalformedDocument)
	}
	if count.PageCount <= 0 {
		return chunk.ParsedDocument{}, fmt.Errorf("pdf: the PDF has no pages: %w", kb.ErrMalformedDocument)
	}
	if int64(count.PageCount)*kb.HeadingCost > maxText {
		return chunk.ParsedDocument{}, fmt.Errorf("pdf: the PDF has %d pages, more than its text limit of %d bytes allows; split it or raise kb.Options.MaxTextBytes: %w", count.PageCount, maxText, kb.ErrTextTooLarge)
	}
	budget := maxText - int64(count.PageCount)*kb.HeadingCost
	var b strings.Builder
	offsets := make([]int, 0, count.PageCount)
	for i := 0; i < count.PageCount; i++ {
		if err := ctx.Err(); err != nil {
			return chunk.ParsedDocument{}, err
		}
		text, err := pageText(ctx, inst, opened.Document, i)
		if err != nil {
			if ctx.Err() != nil {
				return chunk.ParsedDocument{}, ctx.Err()
			}
			return chunk.ParsedDocument{}, fmt.Errorf("pdf: PDF page %d: %v: %w", i+1, firstLine(err), kb.ErrMalformedDocument)
		}
		if text != "" && b.Len() > 0 {
			b.WriteString("\n\n")
		}
		if int64(b.Len()+len(text)) > budget {
			return chunk.ParsedDocument{}, fmt.Errorf("pdf: the PDF's text passes the limit of %d bytes at page %d of %d; split the document or raise kb.Options.MaxTextBytes: %w", maxText, i+1, count.PageCount, kb.ErrTextTooLarge)
		}
		offsets = append(offsets, b.Len())
		b.WriteString(text)
	}
	if strings.TrimSpace(b.String()) == "" {
		return chunk.ParsedDocument{}, fmt.Errorf("pdf: none of the PDF's %d pages holds text (a scan?); run OCR on it first: %w", count.PageCount, kb.ErrNoText)
	}
	return chunk.ParsedDocument{Text: b.String(), Pages: offsets}, nil
}

// glyph is one character of a page with its loose box (the advance and
// the font's full height, in points).
type glyph struct {
	r                        rune
	left, right, bottom, top float64
}

// pageText lays out one page: PDFium gives the characters in reading
// order with the spaces and line breaks it infers; a space is added where
// two characters on one line are further apart than a fifth of the font
// height (words placed one by one without a space character), and
// ligatures are expanded.
func pageText(ctx context.Context, inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, index int) (string, error) {
	page, err := inst.FPDF_LoadPage(&requests.FPDF_LoadPage{Document: doc, Index: index})
	if err != nil {
		return "", err
	}
	defer inst.FPDF_ClosePage(&requests.FPDF_ClosePage{Page: page.Page})
	tp, err := inst.FPDFText_LoadPage(&requests.FPDFText_LoadPage{Page: requests.Page{ByReference: &page.Page}})
	if err != nil {
		return "", err
	}
	defer inst.FPDFText_ClosePage(&requests.FPDFText_ClosePage{TextPage: tp.TextPage})
	n, err := inst.FPDFText_CountChars(&requests.FPDFText_CountChars{TextPage: tp.TextPage})
	if err != nil {
		return "", err
	}
	if n.Count <= 0 {
		return "", nil
	}
	all, err := inst.FPDFText_GetText(&requests.FPDFText_GetText{TextPage: tp.TextPage, StartIndex: 0, Count: n.Count})
	if err != nil {
		return "", err
	}
	// One rune per character index, unless characters outside the BMP
	// made the text longer: then ask for each one.
	runes := []rune(all.Text)
	l := &pageLayout{inst: inst, tp: tp.TextPage, runes: runes, perChar: len(runes) != n.Count}
	for i := 0; i < n.Count; i++ {
		if i%1024 == 0 && ctx.Err() != nil {
			return "", ctx.Err()
		}
		r, err := l.char(i)
		if err != nil {
			return "", err
		}
		if err := l.add(i, r); err != nil {
			return "", err
		}
	}
	return tidy(l.b.String()), nil
}

// pageLayout is pageText's state while it writes a page's characters.
type pageLayout struct {
	inst    pdfium.Pdfium
	tp      references.FPDF_TEXTPAGE
	runes   []rune // the page's text
	perChar bool   // runes does not hold one rune per character index
	b       strings.Builder
	prev    glyph
	have    bool // prev is a visible character on the current line
}

// char returns character i of the page.
func (l *pageLayout) char(i int) (rune, error) {
	if !l.perChar {
		return l.runes[i], nil
	}
	u, err := l.inst.FPDFText_GetUnicode(&requests.FPDFText_GetUnicode{TextPage: l.tp, Index: i})
	if err != nil {
		return 0, err
	}
	return rune(u.Unicode), nil
}

// add writes character i, r: spacing and line breaks as they are, a space
// before it where it stands apart from the one before, ligatures expanded.
func (l *pageLayout) add(i int, r rune) error {
	if l.spacing(r) {
		return nil
	}
	box, err := l.inst.FPDFText_GetLooseCharBox(&requests.FPDFText_GetLooseCharBox{TextPage: l.tp, Index: i})
	if err != nil {
		return err
	}
	g := glyph{r: r, left: float64(box.Rect.Left), right: float64(box.Rect.Right), bottom: float64(box.Rect.Bottom), top: float64(box.Rect.Top)}
	if l.have && wordGap(l.prev, g) {
		l.b.WriteByte(' ')
	}
	l.prev, l.have = g, true
	if r >= 0xFB00 && r <= 0xFB06 { // ff, fi, fl, ffi, ffl, ſt, st ligatures
		l.b.WriteString(norm.NFKC.String(string(r)))
		return nil
	}
	l.b.WriteRune(r)
	return nil
}

// spacing handles r if it is not a visible character (a line break, a
// joined hyphen, a space, a filler) and reports whether it was.
func (l *pageLayout) spacing(r rune) bool {
	switch {
	case r == '\r':
		return true
	case r == '\n':
		l.b.WriteByte('\n')
		l.have = false
		return true
	case r == 2 || r == 0xFFFE:
		// PDFium's mark for a hyphen ending a line it joined to the
		// next (2 from FPDFText_GetUnicode, U+FFFE in FPDFText_GetText):
		// the word is joined, as PDFium and pdftotext do. That undoes
		// hyphenation, which typeset documents use a lot; a compound
		// word broken at its own hyphen loses it.
		l.have = false
		return true
	case r == ' ' || r == '\t' || r == 0xA0 || r == 0x3000:
		l.b.WriteByte(' ')
		l.have = false
		return true
	case r < 0x20 || r == 0x7F || r == 0xFEFF || r == 0xFFFF || r == utf8.RuneError || !utf8.ValidRune(r):
		return true // fillers and glyphs without a Unicode value
	}
	return false
}

// wordGap reports whether b, drawn after a, starts a new word on the same
// line: their boxes overlap vertically by half the smaller height and b
// starts more than a fifth of that height right of a's end, or well left
// of a's start (the next column on the same baseline).
func wordGap(a, b glyph) bool {
	ha, hb := math.Abs(a.top-a.bottom), math.Abs(b.top-b.bottom)
	h := math.Min(ha, hb)
	if h <= 0 || math.IsNaN(h) || math.IsInf(h, 0) {
		return false
	}
	overlap := math.Min(math.Max(a.top, a.bottom), math.Max(b.top, b.bottom)) - math.Max(math.Min(a.top, a.bottom), math.Min(b.top, b.bottom))
	if overlap < h/2 {
		return false
	}
	return b.left-a.right > h/5 || b.left < a.left-h
}

// tidy collapses runs of spaces, drops spaces at line ends and starts,
// and keeps at most one blank line in a row.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	var b strings.Builder
	blank := 0
	for _, l := range lines {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			blank++
			continue
		}
		if b.Len() > 0 {
			if blank > 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteByte('\n')
			}
		}
		blank = 0
		b.WriteString(l)
	}
	return b.String()
}

// firstLine drops the WebAssembly stack trace the engine's errors carry.
func firstLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}
