package kb

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit/chunk"
)

// pdfLine is one run of text placed at (X, Y) on a page, shown with Tj;
// when TJ is set it is a raw TJ array ("[(Hel) -20 (lo)]") shown instead,
// or, after "raw:", text operators written as is.
type pdfLine struct {
	X, Y float64
	Text string
	TJ   string
}

// buildPDF writes a minimal valid PDF (PDF 1.4, one Helvetica font,
// a correct xref table) with one content stream per page. With compress the
// streams are FlateDecode-compressed, as most generators write them.
func buildPDF(pages [][]pdfLine, compress bool) []byte {
	return buildPDFFont(pages, compress, false)
}

// buildPDFFont is buildPDF whose font, with widths, declares every glyph
// 600/1000 em wide, so glyph positions advance as in real PDFs.
func buildPDFFont(pages [][]pdfLine, compress, widths bool) []byte {
	var objs []string
	font := "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
	if widths {
		font = "<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 126 /Widths [" +
			strings.TrimSpace(strings.Repeat("600 ", 95)) + "] >>"
	}
	n := len(pages)
	// 1 catalog, 2 pages, 3 font, then page i at 4+2i and content at 5+2i.
	kids := make([]string, n)
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	objs = append(objs,
		"<< /Type /Catalog /Pages 2 0 R >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n),
		font,
	)
	for i, lines := range pages {
		var cs strings.Builder
		for _, l := range lines {
			if raw, ok := strings.CutPrefix(l.TJ, "raw:"); ok {
				fmt.Fprintf(&cs, "BT /F1 12 Tf %s ET\n", raw)
				continue
			}
			if l.TJ != "" {
				fmt.Fprintf(&cs, "BT /F1 12 Tf %g %g Td %s TJ ET\n", l.X, l.Y, l.TJ)
				continue
			}
			esc := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`).Replace(l.Text)
			fmt.Fprintf(&cs, "BT /F1 12 Tf %g %g Td (%s) Tj ET\n", l.X, l.Y, esc)
		}
		stream := cs.String()
		filter := ""
		if compress {
			var zb bytes.Buffer
			zw := zlib.NewWriter(&zb)
			zw.Write([]byte(stream))
			zw.Close()
			stream, filter = zb.String(), " /Filter /FlateDecode"
		}
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i),
			fmt.Sprintf("<< /Length %d%s >>\nstream\n%s\nendstream", len(stream), filter, stream),
		)
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// docxPara is one paragraph of a test DOCX: style "" for body text.
type docxPara struct {
	Style string
	Text  string
}

// buildDOCX writes a minimal .docx: [Content_Types].xml, word/document.xml
// and, when styles is set, word/styles.xml mapping style IDs to names.
func buildDOCX(paras []docxPara, styles map[string]string, table [][]string) []byte {
	const ns = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`
	var body strings.Builder
	for _, p := range paras {
		body.WriteString("<w:p>")
		if p.Style != "" {
			fmt.Fprintf(&body, `<w:pPr><w:pStyle w:val="%s"/></w:pPr>`, p.Style)
		}
		// Split the text into two runs to check that runs are joined.
		half := len(p.Text) / 2
		for half > 0 && !utf8.RuneStart(p.Text[half]) {
			half--
		}
		fmt.Fprintf(&body, `<w:r><w:t xml:space="preserve">%s</w:t></w:r><w:r><w:t>%s</w:t></w:r></w:p>`, xmlEscape(p.Text[:half]), xmlEscape(p.Text[half:]))
	}
	if table != nil {
		body.WriteString("<w:tbl>")
		for _, row := range table {
			body.WriteString("<w:tr>")
			for _, c := range row {
				fmt.Fprintf(&body, `<w:tc><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:tc>`, xmlEscape(c))
			}
			body.WriteString("</w:tr>")
		}
		body.WriteString("</w:tbl>")
	}
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	add := func(name, content string) {
		w, _ := zw.Create(name)
		w.Write([]byte(content))
	}
	add("[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`)
	add("word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document `+ns+`><w:body>`+body.String()+`</w:body></w:document>`)
	if styles != nil {
		var s strings.Builder
		for id, name := range styles {
			fmt.Fprintf(&s, `<w:style w:type="paragraph" w:styleId="%s"><w:name w:val="%s"/></w:style>`, id, name)
		}
		add("word/styles.xml", `<?xml version="1.0"?><w:styles `+ns+`>`+s.String()+`</w:styles>`)
	}
	zw.Close()
	return zb.Bytes()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// checkDoc asserts what every loader promises: valid UTF-8 text and page
// and heading offsets in order inside the text, at line starts.
func checkDoc(t testing.TB, doc chunk.Document) {
	t.Helper()
	if !utf8.ValidString(doc.Text) {
		t.Fatalf("text is not valid UTF-8: %q", doc.Text)
	}
	prev := -1
	for i, p := range doc.Pages {
		if p < prev || p < 0 || p > len(doc.Text) {
			t.Fatalf("Pages[%d]=%d out of order or outside text of %d bytes: %v", i, p, len(doc.Text), doc.Pages)
		}
		prev = p
	}
	prev = -1
	for i, h := range doc.Headings {
		if h.Offset < prev || h.Offset < 0 || h.Offset > len(doc.Text) {
			t.Fatalf("Headings[%d].Offset=%d out of order or outside text of %d bytes", i, h.Offset, len(doc.Text))
		}
		if h.Level < 1 || h.Level > 9 {
			t.Fatalf("Headings[%d].Level=%d", i, h.Level)
		}
		if !utf8.ValidString(h.Text) {
			t.Fatalf("Headings[%d].Text is not valid UTF-8", i)
		}
		prev = h.Offset
	}
}
