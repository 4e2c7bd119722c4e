package kb

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/chunk"
)

func load(t *testing.T, l Loader, data string) (chunk.ParsedDocument, error) {
	t.Helper()
	doc, err := l.Load(context.Background(), SourceItem{URI: "mem:x", Name: "x"}, []byte(data))
	if err == nil {
		checkDoc(t, doc)
	}
	return doc, err
}

func mustLoad(t *testing.T, l Loader, data string) chunk.ParsedDocument {
	t.Helper()
	doc, err := load(t, l, data)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return doc
}

func utf16Bytes(s string, bigEndian bool) string {
	units := utf16.Encode([]rune(s))
	b := []byte{0xFF, 0xFE}
	if bigEndian {
		b = []byte{0xFE, 0xFF}
	}
	for _, u := range units {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

func TestTextLoaderEncodings(t *testing.T) {
	const want = "Frais: 5 € — 😀 ok"
	for _, tc := range []struct {
		name, data string
	}{
		{"utf8", want},
		{"utf8 bom", "\xEF\xBB\xBF" + want},
		{"utf16le bom", utf16Bytes(want, false)},
		{"utf16be bom", utf16Bytes(want, true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := mustLoad(t, TextLoader{}, tc.data)
			if doc.Text != want {
				t.Fatalf("got %q, want %q", doc.Text, want)
			}
		})
	}
	for _, tc := range []struct {
		name, data, msg string
	}{
		{"latin1", "caf\xE9 au lait", "offset 3"},
		{"nul", "abc\x00def", "NUL byte at offset 3"},
		{"utf16 odd", "\xFF\xFEa\x00b", "odd number of bytes"},
		{"utf16 lone surrogate", "\xFF\xFE\x00\xD8a\x00", "unpaired surrogate"},
		{"utf16 low surrogate", "\xFF\xFE\x00\xDC", "unpaired surrogate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, TextLoader{}, tc.data)
			if !errors.Is(err, ErrInvalidEncoding) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
				t.Fatalf("err = %v, want ErrInvalidEncoding", err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err %q does not say %q", err, tc.msg)
			}
		})
	}
}

func headingTexts(doc chunk.ParsedDocument) []string {
	var out []string
	for _, h := range doc.Headings {
		out = append(out, strings.Repeat("#", h.Level)+" "+h.Text+" @"+doc.Text[h.Offset:h.Offset+min(3, len(doc.Text)-h.Offset)])
	}
	return out
}

func TestMarkdownHeadings(t *testing.T) {
	src := "---\ntitle: x\n---\n" +
		"# Fees ##\n\nSome text.\n\n" +
		"Card loss\n=========\n\n" +
		"```\n# not a heading\n```\n\n" +
		"Multi line\nsetext\n---\n\n" +
		"- item\n---\n\n" +
		"    # indented code\n\n" +
		"####### seven\n\n" +
		"#hashtag\n\n" +
		"  ### Deep ###   \r\n" +
		"text\n\n***\n"
	doc := mustLoad(t, MarkdownLoader{}, src)
	if doc.Text != src {
		t.Fatal("markdown text changed")
	}
	got := headingTexts(doc)
	want := []string{"# Fees @# F", "# Card loss @Car", "## Multi line setext @Mul", "### Deep @  #"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("headings\n got %q\nwant %q", got, want)
	}
}

func TestHTMLLoader(t *testing.T) {
	src := `<!doctype html><html><head><title>Fees &amp; charges</title>
<style>body{color:red}</style><script>var x = "<p>no</p>";</script></head>
<body><nav><a href="/">Home</a> | <a href="/x">Menu</a></nav>
<h1>Card   fees</h1><p>Annual fee is <b>95</b>&nbsp;USD.<br>Waived the first year.</p>
<h2>ATM</h2><ul><li>Own ATMs: free</li><li>Others: 2.50</li></ul>
<table><tr><th>Type</th><th>Fee</th></tr><tr><td>Wire</td><td>25</td></tr></table>
<ul><li><h3>In<br>list</h3></li></ul><pre>  keep
   spacing</pre><noscript>enable js</noscript><p>caf&eacute; &#x1F600;</p></body></html>`
	doc := mustLoad(t, HTMLLoader{}, src)
	want := "Fees & charges\n\nCard fees\n\nAnnual fee is 95\u00a0USD.\nWaived the first year.\n\nATM\n\n- Own ATMs: free\n- Others: 2.50\n\nType | Fee\nWire | 25\n\nIn\nlist\n\n  keep\n   spacing\n\ncafé 😀"
	if doc.Text != want {
		t.Fatalf("text\n got %q\nwant %q", doc.Text, want)
	}
	got := headingTexts(doc)
	if strings.Join(got, "|") != "# Card fees @Car|## ATM @ATM|### In list @In\n" {
		t.Fatalf("headings %q", got)
	}
}

func TestHTMLLoaderCharset(t *testing.T) {
	src := "<html><head><meta charset=\"iso-8859-1\"></head><body><p>caf\xE9</p></body></html>"
	doc := mustLoad(t, HTMLLoader{}, src)
	if doc.Text != "café" {
		t.Fatalf("got %q", doc.Text)
	}
	if _, err := load(t, HTMLLoader{}, "<meta charset=utf-8><p>caf\xE9</p>"); !errors.Is(err, ErrInvalidEncoding) {
		t.Fatalf("declared UTF-8 with bad bytes: err = %v", err)
	}
}

func TestCSVLoader(t *testing.T) {
	src := "name,fee, currency,\nWire transfer,25,USD,x\n\"ATM, others\",2.5,,\nshort\n"
	doc := mustLoad(t, CSVLoader{}, src)
	want := "name: Wire transfer\nfee: 25\ncurrency: USD\ncolumn 4: x\n\nname: ATM, others\nfee: 2.5\n\nname: short"
	if doc.Text != want {
		t.Fatalf("got %q\nwant %q", doc.Text, want)
	}
	doc = mustLoad(t, CSVLoader{Comma: '\t', NoHeader: true}, "a\tb\n")
	if doc.Text != "column 1: a\ncolumn 2: b" {
		t.Fatalf("tsv got %q", doc.Text)
	}
	_, err := load(t, CSVLoader{}, "a,b\n\"unterminated,1\n")
	if !errors.Is(err, ErrMalformedDocument) || !strings.Contains(err.Error(), "line") {
		t.Fatalf("bad csv: err = %v", err)
	}
}

func TestJSONLoader(t *testing.T) {
	src := `{"card": {"name": "Gold", "fees": [{"type": "annual", "usd": 95.50}], "active": true, "note": null, "tags": []}}`
	doc := mustLoad(t, JSONLoader{}, src)
	want := "card.name: Gold\ncard.fees[0].type: annual\ncard.fees[0].usd: 95.50\ncard.active: true"
	if doc.Text != want {
		t.Fatalf("got %q\nwant %q", doc.Text, want)
	}
	doc = mustLoad(t, JSONLoader{}, `[{"q": "Lost card?", "a": "Call us"}, {"q": "Fees?"}, 7]`)
	if want := "q: Lost card?\na: Call us\n\nq: Fees?\n\n7"; doc.Text != want {
		t.Fatalf("records got %q want %q", doc.Text, want)
	}
	doc = mustLoad(t, JSONLoader{Lines: true}, "{\"a\": 1}\n\n{\"a\": 2, \"b\": {}}\n")
	if want := "a: 1\n\na: 2"; doc.Text != want {
		t.Fatalf("lines got %q want %q", doc.Text, want)
	}
	doc = mustLoad(t, JSONLoader{Pretty: true}, `{"a":[1,2]}`)
	if want := "{\n  \"a\": [\n    1,\n    2\n  ]\n}"; doc.Text != want {
		t.Fatalf("pretty got %q", doc.Text)
	}
	if _, err := load(t, JSONLoader{}, strings.Repeat("[", 2000)+strings.Repeat("]", 2000)); !errors.Is(err, ErrTooComplex) {
		t.Errorf("nested 2000 deep: err = %v, want ErrTooComplex", err)
	}
	for _, bad := range []string{`{"a":}`, `{"a":1} {"b":2}`, ``, `[1,2`} {
		if _, err := load(t, JSONLoader{}, bad); !errors.Is(err, ErrMalformedDocument) {
			t.Errorf("%.20q: err = %v, want ErrMalformedDocument", bad, err)
		}
	}
	if _, err := load(t, JSONLoader{Lines: true}, "{\"a\":1}\n{bad}\n"); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("jsonl error does not name the line: %v", err)
	}
}

func TestDOCXLoader(t *testing.T) {
	data := buildDOCX([]docxPara{
		{"Titre", "Card guide"},
		{"", "Intro text & more."},
		{"Berschrift2", "Lost cards"},
		{"", "Call us at once."},
		{"Heading3", "Abroad"},
	}, map[string]string{"Titre": "Title", "Berschrift2": "heading 2"}, [][]string{{"Type", "Fee"}, {"Wire", "25"}})
	doc := mustLoad(t, DOCXLoader{}, string(data))
	want := "Card guide\n\nIntro text & more.\n\nLost cards\n\nCall us at once.\n\nAbroad\n\nType | Fee\n\nWire | 25"
	if doc.Text != want {
		t.Fatalf("text\n got %q\nwant %q", doc.Text, want)
	}
	if got := strings.Join(headingTexts(doc), "|"); got != "# Card guide @Car|## Lost cards @Los|### Abroad @Abr" {
		t.Fatalf("headings %q", got)
	}
	for _, bad := range [][]byte{[]byte("PK\x03\x04garbage"), []byte("not a zip"), buildDOCX(nil, nil, nil)[:40]} {
		if _, err := load(t, DOCXLoader{}, string(bad)); !errors.Is(err, ErrMalformedDocument) {
			t.Errorf("err = %v, want ErrMalformedDocument", err)
		}
	}
}

func TestLoaderFor(t *testing.T) {
	ls := DefaultLoaders()
	for _, name := range []string{"a.txt", "B.MD", "c.markdown", "d.html", "e.HTM", "f.csv", "g.json", "i.docx"} {
		if _, err := LoaderFor(ls, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// PDF needs the opt-in loader of kb/pdf, and the error says so.
	if _, err := LoaderFor(ls, "h.pdf"); !errors.Is(err, ErrUnsupportedFormat) || !strings.Contains(err.Error(), "kb/pdf") {
		t.Errorf("h.pdf: %v", err)
	}
	for _, name := range []string{"a.xlsx", "README"} {
		_, err := LoaderFor(ls, name)
		if !errors.Is(err, ErrUnsupportedFormat) || !errors.Is(err, bedrockkit.ErrUnsupported) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	doc, err := Load(context.Background(), ls, SourceItem{Name: "a.md", Metadata: map[string]any{"k": "v"}}, []byte("# T\nx"))
	if err != nil || doc.Metadata["k"] != "v" || len(doc.Headings) != 1 {
		t.Fatalf("Load: %+v, %v", doc, err)
	}
}

func TestLoadersHonourCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for ext, l := range DefaultLoaders() {
		if _, err := l.Load(ctx, SourceItem{Name: "x." + ext}, []byte("a")); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v", ext, err)
		}
	}
}
