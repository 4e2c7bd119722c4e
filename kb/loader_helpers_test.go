package kb

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit/chunk"
)

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
func checkDoc(t testing.TB, doc chunk.ParsedDocument) {
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
