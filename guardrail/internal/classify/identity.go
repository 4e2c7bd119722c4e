package classify

import (
	"math"
	"strings"
)

// NoTargetFactor scales the hate model's score of text that names no
// protected group (see HateScore).
const NoTargetFactor = 0.3

// identityWords name protected groups by identity, religion, origin,
// disability, sexuality and gender, in folded (lower-case) form. Written for
// this project; it is deliberately wider than the groups of any one data set
// so that the hate model cannot tie its score to the groups it was trained on.
var identityWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`women woman female females girls girl ladies lady wives
	trans transgender transgenders transsexual nonbinary gay gays lesbian lesbians queer queers homosexual homosexuals
	bisexual bisexuals lgbt lgbtq lgbtqia
	black blacks african africans negro negroes
	muslim muslims islam islamic moslem moslems jew jews jewish judaism
	immigrant immigrants refugee refugees migrant migrants foreigner foreigners asylum
	disabled disability disabilities handicapped cripple cripples wheelchair autistic deaf blind
	asian asians chinese japanese korean mexican mexicans latino latinos latina latinas hispanic hispanics
	arab arabs indian indians pakistani pakistanis gypsy gypsies roma romani aboriginal indigenous
	christian christians catholic catholics hindu hindus sikh sikhs buddhist buddhists atheist atheists
	minorities minority colored coloured`) {
		m[w] = true
	}
	return m
}()

// identityVariants are the identity words with one vowel dropped (not the
// first letter), a common way to slip a group's name past a word list
// ("wmen", "muslm", "immigrnt"); variants shorter than four letters or that
// are ordinary English words are left out.
var identityVariants = func() map[string]bool {
	ordinary := map[string]bool{"hind": true, "hinds": true, "koran": true, "latin": true, "latins": true,
		"refuge": true, "refuges": true, "roman": true, "pakistan": true, "pakistans": true}
	m := map[string]bool{}
	for w := range identityWords {
		for i := 1; i < len(w); i++ {
			if !strings.ContainsRune("aeiou", rune(w[i])) {
				continue
			}
			v := w[:i] + w[i+1:]
			if len(v) >= 4 && !identityWords[v] && !ordinary[v] {
				m[v] = true
			}
		}
	}
	return m
}()

// slurs are words that both name a protected group and demean it (folded
// forms); they count as a target and stay visible to the model.
var slurs = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`nigger niggers nigga niggas negroid faggot faggots fag fags dyke dykes tranny trannies
	shemale shemales chink chinks spic spics kike kikes wetback wetbacks gook gooks raghead ragheads towelhead towelheads
	paki pakis coon coons beaner beaners retard retards retarded spastic spastics mong mongs cripple cripples
	bitch bitches slut sluts whore whores skank skanks hoe hoes cunt cunts twat twats sandnigger sandniggers kaffir
	kaffirs muzzie muzzies rapefugee rapefugees dothead dotheads gyppo gyppos pikey pikeys golliwog darkie darkies
	zipperhead yid yids heeb heebs shylock lesbo lesbos poofter poofters batty jihadi jihadis camelfucker
	camelfuckers`) {
		m[w] = true
	}
	return m
}()

// MentionsTarget reports whether folded text names a protected group, by an
// identity word (also with one vowel dropped) or a slur.
func MentionsTarget(folded string) bool { return scanHate(folded, Words(folded)).target }

// HateScore is the probability that folded text is hateful: the hate
// model's probability that it demeans, threatens or dehumanises, scaled by
// NoTargetFactor when it names no protected group. Hate needs both a target
// and derogation; a mention alone scores as the rest of the sentence does,
// and abuse of a person, an object or a non-protected group stays low. It
// equals Prob(HateFeatures(folded)), scaled; for text naming no group it is
// 0 when NoTargetFactor is below the model's lowest threshold (the damped
// score could not reach it), so the model is not evaluated.
//
// words must be Words(folded). features returns Features(folded); it is
// called only when no group name is masked, so a caller that already holds
// those features (for another model) need not compute n-grams again.
func HateScore(m *Model, folded string, words []string, features func() []Feature) float64 {
	t := scanHate(folded, words)
	if !t.target && NoTargetFactor < float64(m.Low) {
		return 0 // damped, it could not reach the lowest threshold
	}
	var ngrams []Feature
	if t.identity {
		ngrams = Features(MaskIdentity(folded))
	} else {
		ngrams = features()
	}
	var buf [32]Feature
	lex := appendHateLexicon(buf[:0], t)
	z := float64(m.Bias)
	for _, f := range ngrams {
		z += float64(m.Weights[f.Index] * f.Value)
	}
	for _, f := range lex {
		z += float64(m.Weights[f.Index] * f.Value)
	}
	p := 1 / (1 + math.Exp(-z))
	if !t.target {
		p *= NoTargetFactor
	}
	return p
}

// MaskIdentity returns folded text with every identity-group word removed.
// The hate model is trained and run on this view, so it scores what is said
// (derogation, threats, dehumanisation) and never which group is named or
// whether one is: a mention of a group carries no weight by itself.
// MentionsTarget supplies the other half of the decision. Slurs are kept.
// Text without identity words is returned unchanged.
func MaskIdentity(folded string) string {
	var b strings.Builder
	last, pos := 0, 0 // end of the part of folded copied to b; end of the last word
	for _, w := range Words(folded) {
		// Words are maximal runs of word characters in order, so the first
		// occurrence after the previous word is this one.
		i := pos + strings.Index(folded[pos:], w)
		pos = i + len(w)
		if k, n := lookupKind(w); k&kindIdentity != 0 {
			if last == 0 {
				b.Grow(len(folded))
			}
			b.WriteString(folded[last:i])
			last = i + n
		}
	}
	if last == 0 {
		return folded
	}
	b.WriteString(folded[last:])
	return b.String()
}

// HateFeatures returns the features the hate model reads: Features of
// MaskIdentity(folded) followed by the hate lexicon features of folded.
func HateFeatures(folded string) []Feature {
	return AppendHateFeatures(make([]Feature, 0, len(folded)*3+32), folded)
}

// AppendHateFeatures is HateFeatures appending to dst (see AppendFeatures).
func AppendHateFeatures(dst []Feature, folded string) []Feature {
	return appendHateLexicon(AppendFeatures(dst, MaskIdentity(folded)), scanHate(folded, Words(folded)))
}
