package classify

import (
	"math"
	"math/bits"
	"slices"
	"strings"
	"testing"
)

func TestMaskIdentity(t *testing.T) {
	for in, want := range map[string]string{
		"we hired two women and a muslim engineer": "we hired two  and a  engineer",
		"the wmen and the immigrnt":                "the  and the ",
		"typical faggot behaviour":                 "typical faggot behaviour", // slurs stay visible
		"will it rain tomorrow?":                   "will it rain tomorrow?",
		"women's rights":                           "'s rights",
		"":                                         "",
	} {
		if got := MaskIdentity(in); got != want {
			t.Errorf("MaskIdentity(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMentionsTarget(t *testing.T) {
	for in, want := range map[string]bool{
		"my manager is a trans woman":       true,
		"i keep meeting jews at the market": true,
		"you are a tranny":                  true,
		"a blck person moved in":            true, // one vowel dropped
		"women's football is on tonight":    true,
		"he is worthless dirt":              false,
		"traffic jams are the worst":        false,
		"back to the roman empire":          false, // ordinary words near group names
	} {
		if got := MentionsTarget(in); got != want {
			t.Errorf("MentionsTarget(%q) = %v, want %v", in, got, want)
		}
	}
}

// hateConsistent checks that HateScore (run time) equals the probability of
// HateFeatures (training) with the no-target damping.
func hateConsistent(t *testing.T, m *Model, folded string) {
	t.Helper()
	want := m.Prob(HateFeatures(folded))
	if !MentionsTarget(folded) {
		want *= NoTargetFactor
		if NoTargetFactor < float64(m.Low) {
			want = 0
		}
	}
	calls := 0
	got := HateScore(m, folded, Words(folded), func() []Feature { calls++; return Features(folded) })
	if math.Abs(got-want) > 1e-6 {
		t.Fatalf("HateScore(%q) = %v, training features give %v", folded, got, want)
	}
	if MaskIdentity(folded) != folded && calls != 0 {
		t.Fatalf("HateScore(%q) used the unmasked features", folded)
	}
	if m := MaskIdentity(folded); MaskIdentity(m) != m {
		t.Fatalf("MaskIdentity not idempotent on %q", folded)
	}
}

func TestHateScoreMatchesTraining(t *testing.T) {
	m := Hate()
	for _, s := range []string{"", "i love my muslim neighbours", "immigrants are vermin", "don't you dare say \"women are scum\"",
		"will it rain tomorrow?", "no gay person deserves to die", strings.Repeat("black ", 50)} {
		hateConsistent(t, m, s)
	}
}

// TestHateMentionIsNotEvidence checks the decomposition on sentences written
// for this test: a neutral or positive mention of a group scores below the
// HIGH-strength threshold (the model's Low), derogation of a group above it,
// and the same derogation of an object is damped below it.
func TestHateMentionIsNotEvidence(t *testing.T) {
	m := Hate()
	score := func(s string) float64 { return HateScore(m, s, Words(s), func() []Feature { return Features(s) }) }
	for _, s := range []string{
		"my best friend at university was a muslim woman",
		"our new neighbours are refugees and they are lovely people",
		"the conference had many disabled speakers this year",
		"i really admire the gay couple who run the bakery",
	} {
		if p := score(s); p >= float64(m.Low) {
			t.Errorf("neutral mention %q scores %.2f >= %.2f", s, p, m.Low)
		}
	}
	for _, s := range []string{
		"immigrants are filthy vermin and should be exterminated",
		"i despise muslims, they are a disease",
	} {
		if p := score(s); p < float64(m.Low) {
			t.Errorf("derogation %q scores %.2f < %.2f", s, p, m.Low)
		}
	}
	if p := score("traffic jams are filthy vermin and should be exterminated"); p >= float64(m.Low) {
		t.Errorf("abuse without a protected target scores %.2f >= %.2f", p, m.Low)
	}
}

func FuzzHateScore(f *testing.F) {
	f.Add("women are great")
	f.Add("typical f a g behaviour \"quoted\"")
	f.Add("don't hate muslims' food")
	f.Add("\xff\xfe wmen")
	m := Hate()
	f.Fuzz(func(t *testing.T, s string) {
		s = strings.ToLower(s)
		hateConsistent(t, m, s)
		ws := Words(s)
		if slices.Contains(ws, "") {
			t.Fatalf("Words(%q) holds an empty word", s)
		}
	})
}

// TestHateScanReadsComposition checks the lexicon features on sentences
// written for this test: negation scope (before and after the evaluative
// word), rhetorical questions, reported speech, sentence scope and the
// speaker's own slur.
func TestHateScanReadsComposition(t *testing.T) {
	type want struct {
		set, unset uint32
	}
	for s, w := range map[string]want{
		"sikhs are not worthy of anyone's respect":               {hNeg | hNegTarget | hNegatedPos, hPos},
		"sikhs are worthy of respect":                            {hPos | hPosTarget | hPosOnlyTarget, hNeg},
		"hindus don't deserve any kindness":                      {hNegTarget, hPosTarget},
		"christians contribute nothing of value":                 {hNegTarget, 0},
		"jewish lives are not worth any less than anyone else's": {0, hNegTarget},
		"jews are not dangerous at all":                          {hPosTarget | hNegatedNeg, hNegTarget},
		"i would never hurt a roma family":                       {hPosTarget, hThreatTarget},
		"isn't it obvious that i despise asians?":                {hNegTarget, hPosTarget},
		"is it not clear that i loathe asians?":                  {hNegTarget, hPosTarget},
		"i really can't stand hindus":                            {hNegTarget, hPos},
		"no matter what, hindus are welcome here":                {0, hNegTarget},
		"saying that mexicans are lazy is racist":                {hReport | hCondemn | hReportCondemn, 0},
		"\"asians are vermin\" is a bigoted thing to write":      {hQuote | hQuoteCondemn, 0},
		"i hate mondays. my neighbours are sikhs.":               {hNeg, hNegTarget},
		"i met some sikhs. they are scum.":                       {hNegTarget, 0},
		"they are all crooks. needless to say they are hindus.":  {hNegTarget, 0},
		"i don't like crowds but i have nothing against hindus":  {0, hNegTarget},
		"people like you are idiots":                             {hNeg, hPos},
		"i like hindus":                                          {hPosTarget, hNeg},
		"will it rain tomorrow?":                                 {hNone, hNeg | hPos},
	} {
		f := scanHate(s, Words(s)).flags
		if f&w.set != w.set || f&w.unset != 0 {
			t.Errorf("%q: flags %s; want set %s, unset %s", s, flagNames(f), flagNames(w.set), flagNames(w.unset))
		}
	}
}

func flagNames(f uint32) string {
	var out []string
	for i, n := range hateFeatureNames {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return "[" + strings.Join(out, " ") + "]"
}

func TestHateFeatureNames(t *testing.T) {
	if len(hateFeatureNames) != bits.TrailingZeros(hBits) {
		t.Fatalf("%d feature names for %d feature bits", len(hateFeatureNames), bits.TrailingZeros(hBits))
	}
}

// BenchmarkHateScan4K reads 4 KB of ordinary text for hate (the scan and
// the lexicon features, without the n-grams it shares with other models).
func BenchmarkHateScan4K(b *testing.B) {
	para := "our support team answers questions about billing, shipping and returns. contact maria lopez at maria.lopez@example.com " +
		"or call (555) 123-4567 between nine and five. orders usually arrive within three business days of dispatch. "
	text := strings.Repeat(para, 4096/len(para)+1)[:4096]
	words := Words(text)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		scanHate(text, words)
	}
}
