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

// PDFLoader extracts the text of a PDF, one page at a time, so that
// Document.Pages holds the offset where each page's text starts and chunks
// cite their page number, as Bedrock does. It is pure Go (no cgo, no
// external tools): github.com/ledongthuc/pdf parses the file (xref tables
// and streams, filters, font encodings and ToUnicode maps), and the loader
// interprets each page's text operators itself, resolving every font once
// per page.
//
// Text is laid out from the positions of the shown strings: a change of
// baseline starts a new line and a horizontal gap wider than a fifth of the
// font size (such as a word gap made by TJ kerning) becomes a space. Pages
// are separated by a blank line. Damaged files, encrypted files and files
// whose pages hold no text at all (scanned images: run OCR first) fail with
// ErrMalformedDocument or ErrNoText; a panic inside the PDF library is
// recovered and reported the same way, so one broken PDF never stops a
// sync.
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

// pdfRun is one shown string: its decoded text, where its first glyph
// starts, where the last one ends, and the font size.
type pdfRun struct {
	text       string
	x, y, endX float64
	size       float64
}

// pdfFont is a font resolved once per page: resolving a Value re-reads (and
// may re-inflate) its object, so looking widths up per glyph is slow.
type pdfFont struct {
	enc     pdf.TextEncoding
	first   int
	widths  []float64
	twoByte bool            // Type0 font: 2-byte codes, widths in W/DW
	cidW    map[int]float64 // Type0 widths by code
	dw      float64         // Type0 default width
}

func newPDFFont(f pdf.Font) *pdfFont {
	pf := &pdfFont{enc: f.Encoder()}
	if f.V.Key("Subtype").Name() != "Type0" {
		pf.first, pf.widths = f.FirstChar(), f.Widths()
		return pf
	}
	pf.twoByte, pf.dw, pf.cidW = true, 1000, map[int]float64{}
	d := f.V.Key("DescendantFonts").Index(0)
	if v := d.Key("DW"); v.Kind() == pdf.Integer || v.Kind() == pdf.Real {
		pf.dw = v.Float64()
	}
	// W is [c [w1 w2 ...] cfirst clast w ...].
	w := d.Key("W")
	for i := 0; i+1 < w.Len() && len(pf.cidW) < 1<<16; {
		c := int(w.Index(i).Int64())
		if next := w.Index(i + 1); next.Kind() == pdf.Array {
			for j := 0; j < next.Len() && len(pf.cidW) < 1<<16; j++ {
				pf.cidW[c+j] = next.Index(j).Float64()
			}
			i += 2
			continue
		}
		if i+2 >= w.Len() {
			break
		}
		last, width := int(w.Index(i+1).Int64()), w.Index(i+2).Float64()
		for c2 := c; c2 <= last && c2-c < 1<<16; c2++ {
			pf.cidW[c2] = width
		}
		i += 3
	}
	return pf
}

// advance returns the width of raw in text space units (1/1000 em) and
// the number of single-byte spaces in it (for word spacing).
func (f *pdfFont) advance(raw string) (width float64, spaces int) {
	if f.twoByte {
		for i := 0; i+1 < len(raw); i += 2 {
			code := int(raw[i])<<8 | int(raw[i+1])
			w, ok := f.cidW[code]
			if !ok {
				w = f.dw
			}
			width += w
		}
		return width, 0
	}
	for i := 0; i < len(raw); i++ {
		if c := int(raw[i]) - f.first; c >= 0 && c < len(f.widths) {
			width += f.widths[c]
		}
		if raw[i] == ' ' {
			spaces++
		}
	}
	return width, spaces
}

type pdfMatrix [6]float64 // a b c d e f

func (m pdfMatrix) mul(n pdfMatrix) pdfMatrix {
	return pdfMatrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

var pdfIdentity = pdfMatrix{1, 0, 0, 1, 0, 0}

// pdfState is the part of the graphics state that places text.
type pdfState struct {
	ctm                      pdfMatrix
	font                     *pdfFont
	size, tc, tw, th, tl, ts float64
}

// pdfPageText interprets a page's content stream (the text operators of
// PDF 32000-1 section 9.4) and lays out the shown strings as lines.
func pdfPageText(p pdf.Page) (text string, err error) {
	defer recoverLoad("PDF", &err)
	if p.V.Key("Contents").Kind() == pdf.Null {
		return "", nil
	}
	fonts := map[string]*pdfFont{}
	fontFor := func(name string) *pdfFont {
		if f, ok := fonts[name]; ok {
			return f
		}
		var f *pdfFont
		if v := p.Font(name); v.V.Kind() == pdf.Dict {
			f = newPDFFont(v)
		}
		if len(fonts) < 1024 {
			fonts[name] = f
		}
		return f
	}
	var (
		runs     []pdfRun
		g        = pdfState{ctm: pdfIdentity, th: 1}
		stack    []pdfState
		tm, tlm  = pdfIdentity, pdfIdentity
		num      = func(v pdf.Value) float64 { return v.Float64() }
		nextLine = func(tx, ty float64) {
			tlm = pdfMatrix{1, 0, 0, 1, tx, ty}.mul(tlm)
			tm = tlm
		}
	)
	show := func(raw string) {
		if g.font == nil || raw == "" {
			return
		}
		trm := pdfMatrix{g.size * g.th, 0, 0, g.size, 0, g.ts}.mul(tm).mul(g.ctm)
		w, spaces := g.font.advance(raw)
		n := len(raw)
		if g.font.twoByte {
			n = len(raw) / 2
		}
		tx := (w/1000*g.size + g.tc*float64(n) + g.tw*float64(spaces)) * g.th
		tm = pdfMatrix{1, 0, 0, 1, tx, 0}.mul(tm)
		end := tm.mul(g.ctm)
		t := raw
		if g.font.enc != nil {
			t = g.font.enc.Decode(raw)
		}
		if len(runs) < 1<<20 {
			runs = append(runs, pdfRun{text: t, x: trm[4], y: trm[5], endX: end[4], size: math.Hypot(trm[2], trm[3])})
		}
	}
	pdf.Interpret(p.V.Key("Contents"), func(stk *pdf.Stack, op string) {
		n := stk.Len()
		args := make([]pdf.Value, n)
		for i := n - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		switch op {
		case "q":
			if len(stack) < 1024 {
				stack = append(stack, g)
			}
		case "Q":
			if len(stack) > 0 {
				g, stack = stack[len(stack)-1], stack[:len(stack)-1]
			}
		case "cm":
			if n == 6 {
				g.ctm = pdfMatrix{num(args[0]), num(args[1]), num(args[2]), num(args[3]), num(args[4]), num(args[5])}.mul(g.ctm)
			}
		case "BT":
			tm, tlm = pdfIdentity, pdfIdentity
		case "Tf":
			if n == 2 {
				g.font, g.size = fontFor(args[0].Name()), num(args[1])
			}
		case "Tc":
			if n == 1 {
				g.tc = num(args[0])
			}
		case "Tw":
			if n == 1 {
				g.tw = num(args[0])
			}
		case "Tz":
			if n == 1 {
				g.th = num(args[0]) / 100
			}
		case "TL":
			if n == 1 {
				g.tl = num(args[0])
			}
		case "Ts":
			if n == 1 {
				g.ts = num(args[0])
			}
		case "Td":
			if n == 2 {
				nextLine(num(args[0]), num(args[1]))
			}
		case "TD":
			if n == 2 {
				g.tl = -num(args[1])
				nextLine(num(args[0]), num(args[1]))
			}
		case "Tm":
			if n == 6 {
				tm = pdfMatrix{num(args[0]), num(args[1]), num(args[2]), num(args[3]), num(args[4]), num(args[5])}
				tlm = tm
			}
		case "T*":
			nextLine(0, -g.tl)
		case "Tj":
			if n == 1 {
				show(args[0].RawString())
			}
		case "'":
			if n == 1 {
				nextLine(0, -g.tl)
				show(args[0].RawString())
			}
		case "\"":
			if n == 3 {
				g.tw, g.tc = num(args[0]), num(args[1])
				nextLine(0, -g.tl)
				show(args[2].RawString())
			}
		case "TJ":
			if n == 1 {
				a := args[0]
				for i := 0; i < a.Len(); i++ {
					x := a.Index(i)
					if x.Kind() == pdf.String {
						show(x.RawString())
					} else {
						tm = pdfMatrix{1, 0, 0, 1, -num(x) / 1000 * g.size * g.th, 0}.mul(tm)
					}
				}
			}
		}
	})
	return layoutPDFRuns(runs), nil
}

// layoutPDFRuns joins runs in content order: a change of baseline by more
// than half the font size starts a new line, and a horizontal gap wider than
// a fifth of it (or a jump back to the left) becomes a space.
func layoutPDFRuns(runs []pdfRun) string {
	var (
		b         strings.Builder
		prev      pdfRun
		have      bool
		space     bool
		lineStart = true
	)
	for _, r := range runs {
		s := r.text
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "")
		}
		s = strings.Map(pdfRune, s)
		if s == "" {
			continue
		}
		size := math.Abs(r.size)
		if size < 1 || math.IsNaN(size) || math.IsInf(size, 0) {
			size = 10
		}
		if have {
			switch {
			case math.Abs(r.y-prev.y) > size*0.5:
				if !lineStart {
					b.WriteByte('\n')
					lineStart, space = true, false
				}
			case r.x-prev.endX > size*0.2 || r.x < prev.x-size:
				space = true
			}
		}
		prev, have = r, true
		lead := len(s) - len(strings.TrimLeft(s, " "))
		body := strings.TrimRight(s[lead:], " ")
		if body == "" {
			space = true
			continue
		}
		if (space || lead > 0) && !lineStart {
			b.WriteByte(' ')
		}
		b.WriteString(collapseSpaces(body))
		space, lineStart = len(body) < len(s)-lead, false
	}
	return b.String()
}

// collapseSpaces folds runs of spaces to one.
func collapseSpaces(s string) string {
	if !strings.Contains(s, "  ") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' }), " ")
}

// pdfRune drops control characters that PDFs use as filler and maps
// other white space to a plain space.
func pdfRune(r rune) rune {
	switch {
	case r == '\n' || r == '\r' || r == '\t' || r == 0xA0:
		return ' '
	case r < 0x20 || r == 0x7F || r == 0xFEFF || r == utf8.RuneError:
		return -1 // fillers, and glyphs the font's encoding cannot map
	}
	return r
}
