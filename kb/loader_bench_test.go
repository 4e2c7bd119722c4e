package kb

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkLoaders measures each loader on a generated document of a few
// hundred KB (b.SetBytes, so the output reads in MB/s of input).
func BenchmarkLoaders(b *testing.B) {
	var md, html, csv, json strings.Builder
	var paras []docxPara
	for i := range 2000 {
		line := fmt.Sprintf("Clause %d: the annual fee of %d USD is waived in the first year for premium cards.", i, i%300)
		if i%50 == 0 {
			fmt.Fprintf(&md, "## Section %d\n\n", i/50)
			fmt.Fprintf(&html, "<h2>Section %d</h2>", i/50)
			paras = append(paras, docxPara{"Heading2", fmt.Sprintf("Section %d", i/50)})
		}
		md.WriteString(line + "\n\n")
		fmt.Fprintf(&html, "<p>%s <b>bold</b> &amp; more</p>\n", line)
		fmt.Fprintf(&csv, "%d,%q,%d\n", i, line, i%300)
		fmt.Fprintf(&json, `{"id": %d, "text": %q, "fee": {"usd": %d}},`, i, line, i%300)
		paras = append(paras, docxPara{"", line})
	}
	docs := []struct {
		name string
		l    Loader
		data []byte
	}{
		{"txt", TextLoader{}, []byte(md.String())},
		{"md", MarkdownLoader{}, []byte(md.String())},
		{"html", HTMLLoader{}, []byte("<html><body>" + html.String() + "</body></html>")},
		{"csv", CSVLoader{}, []byte("id,text,fee\n" + csv.String())},
		{"json", JSONLoader{}, []byte("[" + strings.TrimSuffix(json.String(), ",") + "]")},
		{"docx", DOCXLoader{}, buildDOCX(paras, map[string]string{"Heading2": "heading 2"}, nil)},
	}
	for _, d := range docs {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(d.data)))
			for b.Loop() {
				if _, err := d.l.Load(context.Background(), SourceItem{Name: "x." + d.name}, d.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
