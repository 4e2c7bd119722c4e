package classify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The evaluative lexicons give the hate model knowledge that no
// data set of templated cases can: which words praise, which demean, which
// threaten, and which negate. Each becomes one shared feature, so a template
// the model never saw still scores by the kind of words it uses. Written for
// this project from general English (not from any evaluation set); folded
// (lower-case) forms with common inflections.
var (
	negativeWords = wordSet(`hate hates hated hating hatred despise despises despised loathe loathes loathed detest detests
	detested disgust disgusts disgusted disgusting revolting repulsive repugnant vile filthy dirty foul nasty gross
	sickening sick sickened nauseating abhorrent abominable despicable contemptible contempt disdain scorn scum
	vermin parasite parasites parasitic rats rat cockroaches cockroach pests pest plague disease diseased cancer
	virus infestation filth garbage trash rubbish waste animals animal beasts savages savage barbaric barbarians
	primitive subhuman inferior worthless useless pathetic stupid dumb idiots idiotic moronic morons brainless
	ignorant lazy dishonest liars lying criminals criminal thugs thieves dangerous evil wicked ugly freaks freak
	abnormal unnatural perverted perverts degenerate degenerates deviant sick twisted mentally retarded burden
	inferiority lesser dregs scourge menace threat threats invaders invasion infest infesting pollute polluting
	ruin ruining ruined destroy destroying problem problems shameful disgrace disgraceful embarrassment annoying
	horrible horrendous terrible awful dreadful appalling hideous grotesque monstrous monsters monster demons
	devils unwanted unwelcome can't cannot stand tired enough`)
	threatWords = wordSet(`kill killed killing kills murder murdered murdering slaughter slaughtered exterminate
	exterminated extermination eradicate eradicated eliminate eliminated wipe wiped die dead death deaths hang
	hanged hanging lynch lynched shoot shot shooting stab stabbed burn burned burning gas gassed bomb bombed
	beat beaten hurt hurting harm rape raped torture tortured execute executed execution deport deported
	deportation ban banned expel expelled removed remove punish punished suffer suffering disappear gone
	cleanse cleansing purge genocide`)
	positiveWords = wordSet(`love loves loved loving lovely like likes liked admire admires admired admirable respect
	respects respected respectful cherish cherished adore adored appreciate appreciated appreciation value valued
	valuable welcome welcomed welcoming support supports supported supporting celebrate celebrated celebrating
	proud pride wonderful great good brilliant amazing awesome beautiful gorgeous smart clever intelligent
	wise talented gifted skilled honest kind kindness generous friendly warm caring compassionate brave
	courageous strong inspiring inspirational inspire inspired heroes hero fantastic excellent incredible
	remarkable outstanding delightful pleasant nice sweet fun funny happy glad joy joyful grateful thankful
	thanks thank hug hugs hugged embrace embraced smile smiles smiling honour honoured honor honored protect
	protected protecting defend defended defending include included inclusion equal equality rights deserve
	deserves deserving worthy valid human humans people friends friend neighbours neighbors colleagues
	family welcome safe safety help helping helped care cares contribute contributes contribution enrich
	enriches benefit benefits trust trusted trustworthy fair peace peaceful`)
	negators = wordSet(`not no never nobody none nothing neither nor don't doesn't didn't isn't aren't wasn't
	weren't won't wouldn't shouldn't can't cannot couldn't haven't hasn't hadn't without stop against wrong
	unacceptable`)
)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// lexicon feature kinds.
var (
	lexNeg        = fnv(fnvBasis, "lex:neg") & (Dim - 1)
	lexThreat     = fnv(fnvBasis, "lex:threat") & (Dim - 1)
	lexPos        = fnv(fnvBasis, "lex:pos") & (Dim - 1)
	lexNegatedNeg = fnv(fnvBasis, "lex:negated-neg") & (Dim - 1)
	lexNegatedPos = fnv(fnvBasis, "lex:negated-pos") & (Dim - 1)
	lexQuote      = fnv(fnvBasis, "lex:quote") & (Dim - 1)
	lexNone       = fnv(fnvBasis, "lex:none") & (Dim - 1)
	lexSlur       = fnv(fnvBasis, "lex:slur") & (Dim - 1)
)

// lexiconWeight is the value of one lexicon feature; the n-gram part of the
// vector has unit norm.
const lexiconWeight = 1.0

// Word kinds, as bits of wordKinds.
const (
	kindIdentity = 1 << iota
	kindSlur
	kindNegative
	kindThreat
	kindPositive
	kindNegator
)

// wordKinds holds every word of the identity, slur and evaluative lists
// with its kinds, so that a text is scanned with one lookup per word.
var wordKinds = func() map[string]uint8 {
	m := map[string]uint8{}
	for _, l := range []struct {
		set  map[string]bool
		kind uint8
	}{{identityWords, kindIdentity}, {identityVariants, kindIdentity}, {slurs, kindSlur}, {negativeWords, kindNegative},
		{threatWords, kindThreat}, {positiveWords, kindPositive}, {negators, kindNegator}} {
		for w := range l.set {
			m[w] |= l.kind
		}
	}
	return m
}()

// kindFirst marks the bytes that start a word of wordKinds, and
// kindMaxLen is the longest such word: words that cannot be in the map are
// skipped without hashing them.
var kindFirst, kindMaxLen = func() (t [256]bool, n int) {
	for w := range wordKinds {
		t[w[0]] = true
		n = max(n, len(w))
	}
	return t, n
}()

// kindOf returns the kinds of folded word w.
func kindOf(w string) (uint8, bool) {
	if len(w) == 0 || len(w) > kindMaxLen || !kindFirst[w[0]] {
		return 0, false
	}
	k, ok := wordKinds[w]
	return k, ok
}

// lookupKind returns the kinds of a word of Words and the length of the
// part of it they belong to: the word without trailing apostrophes or, when
// that is not listed, its part before the first apostrophe ("women's"; a
// negator is not looked for there).
func lookupKind(w string) (kind uint8, n int) {
	w = strings.TrimRight(w, "'")
	if k, ok := kindOf(w); ok {
		return k, len(w)
	}
	if i := strings.IndexByte(w, '\''); i > 0 {
		if k, ok := kindOf(w[:i]); ok {
			return k &^ kindNegator, i
		}
	}
	return 0, 0
}

// textInfo is what one scan of a folded text finds.
type textInfo struct {
	lex      [7]bool // negative, threat, positive, negated negative, negated positive, quote, slur
	target   bool    // names a protected group (identity word or slur)
	identity bool    // holds an identity word (MaskIdentity changes the text)
}

// scanText reads the words of folded text (Words) once: the
// evaluative-lexicon findings (a negator up to five words before an
// evaluative word negates it) and whether a protected group is named. A word
// with an apostrophe is also looked up without its suffix ("women's").
func scanText(folded string, words []string) textInfo {
	var t textInfo
	lastNeg := -10
	for k, w := range words {
		kind, _ := lookupKind(w)
		t.target = t.target || kind&(kindIdentity|kindSlur) != 0
		t.identity = t.identity || kind&kindIdentity != 0
		negated := k-lastNeg <= 5
		switch {
		case kind&kindSlur != 0:
			t.lex[6] = true
		case kind&kindNegator != 0:
			lastNeg = k
		case kind&kindThreat != 0:
			t.lex[1] = true
			t.lex[3] = t.lex[3] || negated
		case kind&kindNegative != 0:
			t.lex[0] = true
			t.lex[3] = t.lex[3] || negated
		case kind&kindPositive != 0:
			t.lex[2] = true
			t.lex[4] = t.lex[4] || negated
		}
	}
	t.lex[5] = strings.IndexByte(folded, '"') >= 0 || strings.Contains(folded, "“") || strings.Contains(folded, "”")
	return t
}

// appendLexicon appends the evaluative-lexicon features of a scanned text:
// one feature per kind of evaluative word present (negative, threat,
// positive), the negated forms, whether the text quotes someone
// (counter-speech often does), whether it holds a slur, and a feature for
// text with no evaluative word or slur at all.
func appendLexicon(dst []Feature, t textInfo) []Feature {
	ids := [7]uint32{lexNeg, lexThreat, lexPos, lexNegatedNeg, lexNegatedPos, lexQuote, lexSlur}
	any := false
	for i, h := range t.lex {
		if h {
			dst = append(dst, Feature{ids[i], lexiconWeight})
			any = any || i < 3 || i == 6
		}
	}
	if !any {
		dst = append(dst, Feature{lexNone, lexiconWeight})
	}
	return dst
}

// Words splits folded text into words: runs of letters, digits and '.
func Words(folded string) []string {
	n := 0 // count first, so the slice is allocated once
	for i := 0; i < len(folded); i++ {
		if folded[i] == ' ' {
			n++
		}
	}
	out := make([]string, 0, n+1)
	start := -1
	for i := 0; i < len(folded); {
		c := folded[i]
		in, sz := false, 1
		if c < utf8.RuneSelf {
			in = wordBytes[c]
		} else {
			var r rune
			r, sz = utf8.DecodeRuneInString(folded[i:])
			in = unicode.IsLetter(r) || unicode.IsDigit(r)
		}
		if in && start < 0 {
			start = i
		} else if !in && start >= 0 {
			out = append(out, folded[start:i])
			start = -1
		}
		i += sz
	}
	if start >= 0 {
		out = append(out, folded[start:])
	}
	return out
}

var wordBytes = func() (t [256]bool) {
	for c := 0; c < utf8.RuneSelf; c++ {
		t[c] = unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)) || c == '\''
	}
	return t
}()
