package classify

import "strings"

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

// appendLexicon appends the evaluative-lexicon features of folded text: one
// feature per kind of evaluative word present (negative, threat, positive),
// the negated forms when a negator stands up to five words before, whether
// the text quotes someone (counter-speech often does), whether it holds a
// slur, and a feature for text with no evaluative word at all.
func appendLexicon(dst []Feature, folded string) []Feature {
	var has [7]bool
	lastNeg := -10
	k := 0
	eachWordApos(folded, func(w string) {
		negated := k-lastNeg <= 5
		switch {
		case slurs[w]:
			has[6] = true
		case negators[w]:
			lastNeg = k
		case threatWords[w]:
			has[1] = true
			if negated {
				has[3] = true
			}
		case negativeWords[w]:
			has[0] = true
			if negated {
				has[3] = true
			}
		case positiveWords[w]:
			has[2] = true
			if negated {
				has[4] = true
			}
		}
		k++
	})
	has[5] = strings.ContainsAny(folded, "\"“”")
	ids := [7]uint32{lexNeg, lexThreat, lexPos, lexNegatedNeg, lexNegatedPos, lexQuote, lexSlur}
	any := false
	for i, h := range has {
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

// eachWordApos calls f with each word of s: runs of letters and
// apostrophes (so "don't" stays one word).
func eachWordApos(s string, f func(w string)) {
	for i := 0; i < len(s); {
		if !isLetter(s[i], s[i:]) {
			i += runeLen(s[i], s[i:])
			continue
		}
		j := i
		for j < len(s) && (isLetter(s[j], s[j:]) || s[j] == '\'') {
			j += runeLen(s[j], s[j:])
		}
		f(strings.TrimRight(s[i:j], "'"))
		i = j
	}
}
