package guardrail

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"
)

// benignPrompts reads testdata/benign_prompts.txt: everyday questions
// (weather, cooking, banking, coding, travel, ...) written for this project,
// some of which mention an identity group in a neutral or positive way. None
// of them should be blocked by a content filter.
func benignPrompts(t *testing.T) []string {
	t.Helper()
	fh, err := os.Open("testdata/benign_prompts.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 100 {
		t.Fatalf("benign set has %d prompts, want at least 100", len(out))
	}
	return out
}

// TestBenignPromptsFalsePositives runs the benign regression set through
// every content filter at each strength and bounds the false-positive rate.
//
// Bounds: a user of a general assistant sends prompts like these all day, so
// a false block is a visible failure. At MEDIUM, Bedrock's default and the
// strength most policies use, we allow at most 1% (with ~150 prompts: one
// block); at HIGH, which trades false positives for recall by design, at most
// 2% (the bar for benign prompts of the injection sets is 5%, and
// these everyday prompts are far easier than those, so the bound is tighter).
// LOW is reported but must not exceed MEDIUM's bound either.
func TestBenignPromptsFalsePositives(t *testing.T) {
	prompts := benignPrompts(t)
	bound := map[Strength]float64{StrengthLow: 0.01, StrengthMedium: 0.01, StrengthHigh: 0.02}
	types := []ContentFilterType{FilterHate, FilterInsults, FilterSexual, FilterViolence, FilterMisconduct, FilterPromptAttack}
	for _, s := range []Strength{StrengthLow, StrengthMedium, StrengthHigh} {
		var fcs []ContentFilterConfig
		for _, ty := range types {
			out := s
			if ty == FilterPromptAttack {
				out = StrengthNone
			}
			fcs = append(fcs, ContentFilterConfig{Type: ty, InputStrength: s, OutputStrength: out})
		}
		g, err := NewLocal(&Policy{BlockedInputMessaging: "no", BlockedOutputsMessaging: "no",
			ContentPolicyConfig: &ContentPolicyConfig{FiltersConfig: fcs}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		blocked := 0
		for _, p := range prompts {
			res, err := g.Assess(context.Background(), SourceInput, Content{Text: p})
			if err != nil {
				t.Fatal(err)
			}
			if res.Blocked {
				blocked++
				var why []string
				for _, f := range res.Assessments[0].ContentPolicy.Filters {
					if f.Action == actBlocked {
						why = append(why, string(f.Type)+" "+f.Reason)
					}
				}
				t.Logf("%s blocks %q: %s", s, p, strings.Join(why, "; "))
			}
		}
		fpr := float64(blocked) / float64(len(prompts))
		t.Logf("strength %-6s benign false-positive rate %d/%d = %.3f (bound %.3f)", s, blocked, len(prompts), fpr, bound[s])
		if fpr > bound[s] {
			t.Errorf("strength %s: benign false-positive rate %.3f above %.3f", s, fpr, bound[s])
		}
	}
}
