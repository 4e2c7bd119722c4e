package kb

import (
	"strings"
	"testing"
)

func FuzzCite(f *testing.F) {
	for _, s := range []string{"A [1]. B [2][1].", "[1]", "x [1, 2] y [3]", "  [2] lead", "a.[1]\n[2] b!", "[999] [0] [1", "é [1]ü [2]"} {
		f.Add(s)
	}
	passages := []Result{{ID: "a", Text: "A"}, {ID: "b", Text: "B"}}
	f.Fuzz(func(t *testing.T, raw string) {
		text, cits := cite(raw, passages)
		if len(cits) > len(markerRE.FindAllString(raw, -1)) {
			t.Fatalf("%d citations from %q", len(cits), raw)
		}
		for _, c := range cits {
			p := c.GeneratedResponsePart.TextResponsePart
			if p.Span.Start < 0 || p.Span.End > len(text) || p.Span.Start >= p.Span.End || text[p.Span.Start:p.Span.End] != p.Text {
				t.Fatalf("bad span %+v in %q (raw %q)", p, text, raw)
			}
			if len(c.RetrievedReferences) == 0 {
				t.Fatalf("citation without reference from %q", raw)
			}
		}
	})
}

func FuzzExtractive(f *testing.F) {
	f.Add("fees?", "The fee is 5 dollars. It is waived.\n# Heading\nMore text here!")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, q, passage string) {
		text, cits := extractive(q, []Result{{ID: "p", Text: passage}})
		for _, c := range cits {
			p := c.GeneratedResponsePart.TextResponsePart
			if p.Span.End > len(text) || text[p.Span.Start:p.Span.End] != p.Text {
				t.Fatalf("bad span %+v in %q", p, text)
			}
		}
	})
}

func TestExtractivePrefersNumbersForQuantityQuestions(t *testing.T) {
	p := []Result{{ID: "d", Text: "You can dispute a charge in the app. Disputes close within 60 days."}}
	text, _ := extractive("How long does it take to dispute a charge?", p)
	if !strings.Contains(text, "within 60 days") {
		t.Fatalf("a duration question should get the sentence with a number: %q", text)
	}
	text, _ = extractive("Where can I dispute a charge?", p)
	if strings.Contains(text, "60 days") {
		t.Fatalf("without a quantity question the weaker sentence is left out: %q", text)
	}
}
