package kb

import (
	"context"
	"errors"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/internal/hostiledoc"
)

// fuzzLoader checks the loader contract on arbitrary bytes: no panic, and
// either an error wrapping bedrockkit.ErrInvalidInput or a Document with
// valid UTF-8 text and in-range, ordered page and heading offsets.
func fuzzLoader(f *testing.F, l Loader, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := l.Load(context.Background(), SourceItem{URI: "mem:f", Name: "f"}, data)
		if err != nil {
			if !errors.Is(err, bedrockkit.ErrInvalidInput) {
				t.Fatalf("error does not wrap ErrInvalidInput: %v", err)
			}
			return
		}
		checkDoc(t, doc)
	})
}

func FuzzTextLoader(f *testing.F) {
	fuzzLoader(f, TextLoader{}, []byte("hello"), []byte("\xEF\xBB\xBFhi"), []byte(utf16Bytes("hé😀", false)),
		[]byte(utf16Bytes("x", true)), []byte("caf\xE9"), []byte("\xFF\xFE\x00\xD8"))
}

func FuzzMarkdownLoader(f *testing.F) {
	fuzzLoader(f, MarkdownLoader{}, []byte("# A\ntext\n\nB\n===\n```\n# no\n```\n## C ##\n"),
		[]byte("---\nx: 1\n---\nT\n---\n"), []byte("  ### x\r\n- a\n---\n"), []byte("~~~~\n# x\n~~~\n# y"))
}

func FuzzHTMLLoader(f *testing.F) {
	fuzzLoader(f, HTMLLoader{},
		[]byte(`<html><head><title>T</title><script>x</script></head><body><nav>n</nav><h1>A</h1><p>b<br>c</p><ul><li>d</li></ul><table><tr><td>1</td><td>2</td></tr></table><pre> x
 y</pre></body></html>`),
		[]byte("<meta charset=iso-8859-1><p>caf\xE9</p>"), []byte("<h2>unclosed <b>heading"),
		[]byte("<p>&#xD800; &#0; &amp;&lt;\x00</p>"), []byte(utf16Bytes("<h1>x</h1>", false)),
		[]byte("<meta http-equiv=content-type content='text/html; charset=shift_jis'><p>\x82\xa0</p>"),
		hostiledoc.HTMLDeep(2000), hostiledoc.HTMLListBomb(2000))
}

func FuzzCSVLoader(f *testing.F) {
	fuzzLoader(f, CSVLoader{MaxRecordBytes: 256, MaxFields: 16}, []byte("a,b\n1,2\n\"x,y\",3\n"), []byte("a\n\"bad"), []byte(",,\n,,\n"), []byte("h\r\n\"a\"\"b\"\r\n"),
		hostiledoc.CSVWideRecord(100), hostiledoc.CSVLongHeader(10, 10, 10), []byte("\"a\nb\",c\n"))
}

func FuzzJSONLoader(f *testing.F) {
	fuzzLoader(f, JSONLoader{MaxDepth: 8}, []byte(`{"a":{"b":[1,{"c":"d"}]},"e":null}`), []byte(`[{"q":1},2,"s"]`), []byte(`{"a":`), []byte(`"x"`), []byte(`[[[[]]]]`),
		hostiledoc.JSONDeep(20), hostiledoc.JSONDeepKeys(10, 10), hostiledoc.JSONLongKeys(100, 100))
}

func FuzzJSONLinesLoader(f *testing.F) {
	fuzzLoader(f, JSONLoader{Lines: true}, []byte("{\"a\":1}\n{\"b\":[2]}\n"), []byte("1\n\n{"))
}

func FuzzDOCXLoader(f *testing.F) {
	d := buildDOCX([]docxPara{{"Heading1", "Title"}, {"", "Body & text"}}, map[string]string{"Heading1": "heading 1"}, [][]string{{"a", "b"}})
	fuzzLoader(f, DOCXLoader{MaxDepth: 16, MaxElements: 1000, MaxXMLBytes: 1 << 16}, d, d[:len(d)/2], []byte("PK\x03\x04"),
		hostiledoc.DOCXDeep(100), hostiledoc.DOCXManyElements(2000), hostiledoc.DOCXTextBomb(1), hostiledoc.DOCXManyHeadings(50), hostiledoc.DOCXManyAttributes(100))
}
