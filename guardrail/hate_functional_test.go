package guardrail

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestHateFunctional runs the HATE filter (strength HIGH) over
// testdata/hate_functional.tsv: cases written for this project in
// HateCheck's functionalities but with other sentence frames and groups,
// never used for training. The filter must tell hate from what only looks
// like it: praise of a group, negated hate, and counter speech that quotes
// or reports hate, while still catching hate phrased as a negated positive
// ("X are not worthy of respect"). Before the negation- and speech-aware
// features the filter got 29% of the negated-positive cases and 10% of the
// reported counter speech right.
func TestHateFunctional(t *testing.T) {
	b, err := os.ReadFile("testdata/hate_functional.tsv")
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewLocal(&Policy{BlockedInputMessaging: "no", BlockedOutputsMessaging: "no",
		ContentPolicyConfig: &ContentPolicyConfig{FiltersConfig: []ContentFilterConfig{
			{Type: FilterHate, InputStrength: StrengthHigh, OutputStrength: StrengthHigh}}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	type tally struct{ ok, n int }
	per := map[string]*tally{}
	var all tally
	for l := range strings.Lines(string(b)) {
		l = strings.TrimRight(l, "\r\n")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.SplitN(l, "\t", 3)
		if len(f) != 3 {
			t.Fatalf("malformed line %q", l)
		}
		res, err := g.Assess(context.Background(), SourceInput, Content{Text: f[2]})
		if err != nil {
			t.Fatal(err)
		}
		if per[f[0]] == nil {
			per[f[0]] = &tally{}
		}
		per[f[0]].n++
		all.n++
		if res.Blocked == (f[1] == "1") {
			per[f[0]].ok++
			all.ok++
		} else {
			t.Logf("%s: blocked=%v %q", f[0], res.Blocked, f[2])
		}
	}
	acc := func(t tally) float64 { return float64(t.ok) / float64(max(t.n, 1)) }
	if all.n < 100 {
		t.Fatalf("%d cases, want at least 100", all.n)
	}
	t.Logf("overall accuracy %.3f (%d cases)", acc(all), all.n)
	if acc(all) < 0.85 {
		t.Errorf("overall accuracy %.3f < 0.85", acc(all))
	}
	// The functionalities the issue names, each with a floor.
	for name, floor := range map[string]float64{
		"negate_pos_h": 0.85, "ident_pos_nh": 0.85, "negate_neg_nh": 0.8,
		"counter_quote_nh": 0.8, "counter_ref_nh": 0.7, "ident_neutral_nh": 0.9,
	} {
		a := per[name]
		if a == nil {
			t.Errorf("no %s cases", name)
			continue
		}
		t.Logf("%-18s %.3f (%d cases)", name, acc(*a), a.n)
		if acc(*a) < floor {
			t.Errorf("%s accuracy %.3f < %.2f", name, acc(*a), floor)
		}
	}
}
