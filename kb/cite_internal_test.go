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
			if c.Span.Start < 0 || c.Span.End > len(text) || c.Span.Start >= c.Span.End || text[c.Span.Start:c.Span.End] != c.Text {
				t.Fatalf("bad span %+v in %q (raw %q)", c, text, raw)
			}
			if len(c.Sources) == 0 {
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
			if c.Span.End > len(text) || text[c.Span.Start:c.Span.End] != c.Text {
				t.Fatalf("bad span %+v in %q", c, text)
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

// TestExtractiveMatchesTheKindOfQuantity: a duration question prefers a
// sentence with a duration over one with another number, and a money
// question a sum over a duration.
func TestExtractiveMatchesTheKindOfQuantity(t *testing.T) {
	p := []Result{{ID: "d", Text: "A foreign card transaction costs a fee of 3% of the amount. " +
		"You must dispute a card transaction within 60 days of the statement."}}
	text, _ := extractive("How long do I have to dispute a card transaction?", p)
	if !strings.HasPrefix(text, "You must dispute") || strings.Contains(text, "3%") {
		t.Fatalf("a duration question should be answered by the duration: %q", text)
	}
	text, _ = extractive("How much does a foreign card transaction cost?", p)
	if !strings.HasPrefix(text, "A foreign card transaction costs") || strings.Contains(text, "60 days") {
		t.Fatalf("a money question should be answered by the sum: %q", text)
	}
	for q, want := range map[string]float64{
		"How long does it take?":  1.5,
		"When is it due?":         1.5,
		"How much is the fee?":    1.5,
		"How many branches?":      1.5,
		"What does a wire cost?":  1.2,
		"How soon is the refund?": 1,
	} {
		s := map[string]string{
			"How long does it take?":  "It takes 10 business days.",
			"When is it due?":         "It is due within two weeks.",
			"How much is the fee?":    "The fee is $25.",
			"How many branches?":      "There are 12 branches.",
			"What does a wire cost?":  "Wires settle in 2 days.",
			"How soon is the refund?": "Refunds are sent by mail.",
		}[q]
		if got := quantityBoost(q, s); got != want {
			t.Errorf("quantityBoost(%q, %q) = %v, want %v", q, s, got, want)
		}
	}
}
