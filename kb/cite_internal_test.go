package kb

import (
	"strings"
	"testing"
)

func FuzzCite(f *testing.F) {
	for _, s := range []string{"A [1]. B [2][1].", "[1]", "x [1, 2] y [3]", "  [2] lead", "a.[1]\n[2] b!", "[999] [0] [1", "é [1]ü [2]"} {
		f.Add(s)
	}
	passages := []RetrievalResult{{ID: "a", Text: "A"}, {ID: "b", Text: "B"}}
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
		text, cits := extractive(q, []RetrievalResult{{ID: "p", Text: passage}})
		for _, c := range cits {
			if c.Span.End > len(text) || text[c.Span.Start:c.Span.End] != c.Text {
				t.Fatalf("bad span %+v in %q", c, text)
			}
		}
	})
}

func TestExtractivePrefersNumbersForQuantityQuestions(t *testing.T) {
	p := []RetrievalResult{{ID: "d", Text: "You can dispute a charge in the app. Disputes close within 60 days."}}
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
	p := []RetrievalResult{{ID: "d", Text: "A foreign card transaction costs a fee of 3% of the amount. " +
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
		"How long does it take?":  2,
		"When is it due?":         2,
		"How much is the fee?":    2,
		"How many branches?":      2,
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

// TestExtractiveTables: a superlative question over table rows is answered
// by the row with the extreme value among the rows the question narrows
// to; a row quoted for a question about some of its columns keeps only
// those (and its name); headings glued to the text under them are left out
// of sentences.
func TestExtractiveTables(t *testing.T) {
	rows := "product: Everyday Checking\ntype: checking\nmonthly_fee: $6\ninterest_rate: 0.01% APY\n\n" +
		"product: Harbor Savings\ntype: savings\nmonthly_fee: $4\ninterest_rate: 0.50% APY\n\n" +
		"product: High-Yield Savings\ntype: savings\nmonthly_fee: $0\ninterest_rate: 3.80% APY\n\n" +
		"product: Premier Checking\ntype: checking\nmonthly_fee: $18\ninterest_rate: 4.50% APY"
	p := []RetrievalResult{{ID: "csv", Text: rows}}
	for q, want := range map[string]string{
		"Which savings product pays the highest interest rate?": "High-Yield Savings has the highest interest rate: 3.80% APY.",
		"Which checking account has the lowest monthly fee?":    "Everyday Checking has the lowest monthly fee: $6.",
		"What is the cheapest account?":                         "", // no column named: not a table answer
	} {
		text, cits, ok := tableAnswer(q, p)
		if want == "" {
			if ok {
				t.Errorf("%q: table answer %q", q, text)
			}
			continue
		}
		if !ok || text != want || len(cits) != 1 || !strings.Contains(cits[0].Text, "product: ") {
			t.Errorf("%q: got %q (%v, %+v), want %q", q, text, ok, cits, want)
		}
	}
	text, _ := extractive("What is the monthly fee of Harbor Savings?", p)
	if !strings.HasPrefix(text, "product: Harbor Savings; monthly_fee: $4.") {
		t.Errorf("a row should be trimmed to the fields asked: %q", text)
	}
	got := sentences("Failed payments\nIf a payment fails, we retry it once.\n\n## Overdrafts\nAn overdraft fee is $25.")
	if len(got) != 2 || got[0] != "If a payment fails, we retry it once." || got[1] != "An overdraft fee is $25." {
		t.Errorf("headings glued to sentences: %q", got)
	}
}
