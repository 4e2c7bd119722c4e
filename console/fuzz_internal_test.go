package console

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit/guardrail"
	"github.com/bedrockkit/bedrockkit/kb"
)

// The console reads external state in four places: texts it redacts (any
// event content), the spans a guardrail reports, and the two forms. Each
// has a fuzz target; the seeds run as normal tests.

// FuzzRedact: redaction never panics, keeps valid UTF-8 valid, leaves text
// that is not a JSON document alone apart from masks, and keeps JSON valid.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"", "plain text", `{"password":"hunter2","user":"bob"}`, `[{"api_key":1},{"nested":{"token":"x"}}]`,
		"mail bob@example.com or call 555-123-4567", "AKIAIOSFODNN7EXAMPLE", "Bearer abcdefghijklmnop",
		`{"a":`, "\xff\xfe", "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n", strings.Repeat("{", 100) + strings.Repeat("}", 100),
		`{"a":[` + strings.Repeat(`{"b":`, 80) + "1" + strings.Repeat("}", 80) + `]}`,
	} {
		f.Add(s)
	}
	r := newRedactor(Redaction{})
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4<<10 {
			return
		}
		out := r.text(context.Background(), s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("valid UTF-8 became invalid: %q -> %q", s, out)
		}
		j := redactJSONKeys(s)
		if json.Valid([]byte(s)) && !json.Valid([]byte(j)) {
			t.Fatalf("valid JSON became invalid: %q -> %q", s, j)
		}
		if !json.Valid([]byte(s)) && j != s {
			t.Fatalf("text that is not JSON changed: %q -> %q", s, j)
		}
	})
}

// FuzzMaskFindings: any spans a guardrail reports (out of range, reversed,
// overlapping, splitting a rune) are masked without panicking, and text
// before the first in-range span is kept.
func FuzzMaskFindings(f *testing.F) {
	f.Add("hello bob@example.com bye", 6, 21, 0, 3, "bob")
	f.Add("short", -5, 100, 3, 1, "")
	f.Add("héllo wörld", 1, 2, 2, 9, "ö")
	f.Fuzz(func(t *testing.T, text string, s1, e1, s2, e2 int, match string) {
		res := &guardrail.Verdict{Assessments: []guardrail.Assessment{{SensitiveInformationPolicy: &guardrail.SensitiveAssessment{
			PiiEntities: []guardrail.PIIFinding{
				{Type: "EMAIL", Action: "ANONYMIZED", Detected: true, Span: &guardrail.Span{Start: s1, End: e1}},
				{Type: "PHONE", Action: "BLOCKED", Detected: true, Span: &guardrail.Span{Start: s2, End: e2}},
				{Type: "NAME", Action: "ANONYMIZED", Detected: true, Match: match}, // remote: no span
			},
		}}}}
		out := maskFindings(text, res)
		first := len(text)
		for _, sp := range [][2]int{{s1, e1}, {s2, e2}} {
			if sp[0] >= 0 && sp[0] < sp[1] && sp[1] <= len(text) {
				first = min(first, sp[0])
			}
		}
		if match != "" {
			if i := strings.Index(text, match); i >= 0 {
				first = min(first, i)
			}
		}
		if !strings.HasPrefix(out, text[:first]) {
			t.Fatalf("text before the first span changed: %q -> %q", text, out)
		}
	})
}

// FuzzAssessmentSegments: however a guardrail's spans fall, the marked
// pieces of the assessed text spell it exactly.
func FuzzAssessmentSegments(f *testing.F) {
	f.Add("Any hot stocks? mail ana@example.com", 4, 14, 21, 36, 0)
	f.Add("ab", 1, 1, -1, 3, 1)
	f.Add("日本語のテキスト", 1, 4, 3, 8, 0)
	f.Fuzz(func(t *testing.T, text string, s1, e1, s2, e2, block int) {
		res := &guardrail.Verdict{Action: guardrail.OutcomeIntervened, Assessments: []guardrail.Assessment{{
			WordPolicy: &guardrail.WordAssessment{CustomWords: []guardrail.WordFinding{{Match: "w", Action: "BLOCKED", Detected: true, Span: &guardrail.Span{Content: block, Start: s1, End: e1}}}},
			SensitiveInformationPolicy: &guardrail.SensitiveAssessment{PiiEntities: []guardrail.PIIFinding{
				{Type: "EMAIL", Action: "ANONYMIZED", Detected: true, Span: &guardrail.Span{Start: s2, End: e2}},
				{Type: "PHONE", Action: "ANONYMIZED", Detected: true},
			}},
		}}}
		v := assessmentView(res, text, 0)
		var b strings.Builder
		for _, s := range v.Segments {
			b.WriteString(s.Text)
		}
		if b.String() != text {
			t.Fatalf("segments spell %q, not %q", b.String(), text)
		}
		if len(v.Findings) != 3 {
			t.Fatalf("%d findings", len(v.Findings))
		}
	})
}

// FuzzPlaygroundForm: any form is refused with a reason or turned into
// options Retrieve accepts the shape of.
func FuzzPlaygroundForm(f *testing.F) {
	f.Add("wire cost", "HYBRID", "5", "", "")
	f.Add("x", "KEYWORD", "100", "t1", `{"andAll":[{"equals":{"key":"type","value":"faq"}},{"in":{"key":"y","value":[1,2]}}]}`)
	f.Add(" ", "FUZZY", "0", "", `{"equals":`)
	f.Add("q", "", "-1", "", `{"orAll":[`+strings.Repeat(`{"andAll":[`, 50)+`]}`)
	f.Fuzz(func(t *testing.T, q, st, n, part, filter string) {
		query, opts, err := playgroundForm{Query: q, SearchType: st, N: n, Partition: part, Filter: filter}.parse()
		if err != nil {
			if !strings.HasPrefix(err.Error(), "console: ") {
				t.Fatalf("error without the package name: %v", err)
			}
			return
		}
		if strings.TrimSpace(query) == "" || opts.NumberOfResults < 0 || opts.NumberOfResults > 100 {
			t.Fatalf("accepted %q with %+v", query, opts)
		}
		switch opts.SearchType {
		case "", kb.Hybrid, kb.Semantic, kb.Keyword:
		default:
			t.Fatalf("accepted search type %q", opts.SearchType)
		}
		if !opts.Filter.IsZero() {
			if err := opts.Filter.Validate(); err != nil {
				t.Fatalf("accepted a filter kb refuses: %v", err)
			}
		}
	})
}

// TestGuardForm checks the guardrail form's refusals and its grounding
// blocks.
func TestGuardForm(t *testing.T) {
	for _, f := range []guardForm{{Source: "SIDEWAYS", Text: "x"}, {Source: "INPUT"}, {Source: "INPUT", Text: strings.Repeat("x", maxGuardText+1)}} {
		if _, _, _, err := f.content(); err == nil {
			t.Errorf("%+v accepted", f)
		}
	}
	src, cs, block, err := guardForm{Source: "OUTPUT", Text: "answer", Grounding: "source", Query: "q"}.content()
	if err != nil || src != guardrail.SourceOutput || len(cs) != 3 || block != 2 || cs[2].Text != "answer" {
		t.Errorf("grounding form: %v %v %d %v", src, cs, block, err)
	}
}
