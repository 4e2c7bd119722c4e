package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/kb"
)

func mustLoadPDF(t *testing.T, data []byte) chunk.ParsedDocument {
	t.Helper()
	doc, err := load(t, shared, data)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

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

func TestPDFLoader(t *testing.T) {
	pages := [][]pdfLine{
		{{72, 720, "Card fees", ""}, {72, 700, "The annual fee is 95 USD.", ""}, {72, 680, "Waived", ""}, {140, 680, "the first year.", ""}},
		{},
		{{72, 720, "Disputes (chargebacks)", ""}, {72, 700, "File within 60 days.", ""}},
	}
	for _, compress := range []bool{false, true} {
		doc := mustLoadPDF(t, (buildPDF(pages, compress)))
		want := "Card fees\nThe annual fee is 95 USD.\nWaived the first year.\n\nDisputes (chargebacks)\nFile within 60 days."
		if doc.Text != want {
			t.Fatalf("compress=%v text\n got %q\nwant %q", compress, doc.Text, want)
		}
		if len(doc.Pages) != 3 || doc.Pages[0] != 0 || !strings.HasPrefix(doc.Text[doc.Pages[2]:], "Disputes") {
			t.Fatalf("pages %v", doc.Pages)
		}
		if doc.Pages[1] > doc.Pages[2] {
			t.Fatalf("empty page offset %v", doc.Pages)
		}
	}
}

// With glyph widths known, word gaps made by TJ kerning become spaces and
// small kerning inside a word does not; runs on one baseline join one line.
func TestPDFLoaderLayout(t *testing.T) {
	pages := [][]pdfLine{{
		{X: 72, Y: 720, TJ: "[(Annual) -3000 (fee) -20 (s) -1500 (apply)]"},
		{X: 72, Y: 700, TJ: "[(Kern) 30 (ing)]"},
		{X: 72, Y: 680, Text: "Left"},
		{X: 300, Y: 680, Text: "Right column"},
	}}
	doc := mustLoadPDF(t, (buildPDFFont(pages, false, true)))
	if want := "Annual fees apply\nKerning\nLeft Right column"; doc.Text != want {
		t.Fatalf("got %q\nwant %q", doc.Text, want)
	}
	// Text matrix, leading, next-line operators, scaling by cm inside q/Q,
	// word spacing and character spacing (tracking of a twelfth of an em,
	// as designers use; letters set a quarter em apart read as separate).
	pages = [][]pdfLine{{
		{TJ: `raw:1 0 0 1 72 600 Tm 14 TL (First) Tj T* (Second) Tj (Third) ' 0 0 (Fourth) "`},
		{TJ: `raw:q 2 0 0 2 0 0 cm 36 200 Td (Big) Tj 60 0 Td (text) Tj Q`},
		{TJ: `raw:72 100 Td 20 Tw (wide words) Tj 0 -20 Td 1 Tc (spaced) Tj`},
		{TJ: `raw:72 50 Td (a) Tj`},
	}}
	doc = mustLoadPDF(t, (buildPDFFont(pages, true, true)))
	if want := "First\nSecond\nThird\nFourth\nBig text\nwide words\nspaced\na"; doc.Text != want {
		t.Fatalf("operators: got %q\nwant %q", doc.Text, want)
	}
}

func TestPDFLoaderFailures(t *testing.T) {
	good := buildPDF([][]pdfLine{{{72, 720, "hello", ""}}}, false)
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"not pdf", []byte("hello world"), kb.ErrMalformedDocument},
		{"truncated", good[:len(good)/2], kb.ErrMalformedDocument},
		{"garbage xref", append(append([]byte{}, good[:len(good)-30]...), []byte("startxref\n99999\n%%EOF\n")...), kb.ErrMalformedDocument},
		{"no text", buildPDF([][]pdfLine{{}, {}}, false), kb.ErrNoText},
		{"empty", nil, kb.ErrMalformedDocument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, shared, tc.data)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
