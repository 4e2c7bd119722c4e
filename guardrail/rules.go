package guardrail

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit/guardrail/internal/ahocorasick"
	"github.com/bedrockkit/bedrockkit/guardrail/internal/classify"
	"github.com/bedrockkit/bedrockkit/guardrail/internal/normalize"
)

// attackRules are known prompt-attack shapes, matched on folded text (lower
// case, look-alikes and leetspeak folded). Each is a reason in assessments.
var attackRules = []struct {
	name string
	re   *regexp.Regexp
}{
	{"instruction override", regexp.MustCompile(`\b(ignore|disregard|forget|override|bypass|skip|drop)\b(\s+\w+){0,4}?\s+(previous|prior|above|earlier|preceding|initial|original|system|all|any|your|these|those|the)\s+(\w+\s+)?(instructions?|rules|prompts?|directions|guidelines|tasks?|context|commands?|restrictions|programming|directives)\b`)},
	{"instruction override", regexp.MustCompile(`\b(forget|ignore) (everything|all|anything)( (that|you|i)\b.*)? (before|above|said|told|previously|so far)\b`)},
	{"instruction override (de)", regexp.MustCompile(`\b(ignoriere|vergiss|vergessen sie|ignorieren sie)\b.{0,40}\b(anweisungen|befehle|aufgaben|regeln|alles|vorherigen|zuvor)\b`)},
	{"new instructions", regexp.MustCompile(`\b(new|updated|real|actual) (instructions|task|rules)\s*:`)},
	{"system prompt extraction", regexp.MustCompile(`\b(reveal|print|show|output|repeat|display|leak|tell me|give me|what (is|are|was))\b.{0,30}\b(system prompt|initial prompt|hidden prompt|your (instructions|prompt|rules|guidelines)|the (instructions|prompt) (above|before))\b`)},
	{"jailbreak persona", regexp.MustCompile(`\b(dan|do anything now|developer mode|dev mode|jailbreak(ed)?|aim|stan|dude|evil ?bot|unfiltered ai|uncensored ai)\b.{0,80}\b(no|without|free of|not bound by|any) (restrictions|limits|limitations|filters|rules|censorship|guidelines|ethics|morals|policies)\b`)},
	{"jailbreak persona", regexp.MustCompile(`\b(no|without|free of|not bound by|ignore (all|any|the|your)) (restrictions|limitations|filters|rules|censorship|guidelines|ethical|moral|content polic(y|ies))\b.{0,120}\b(dan|developer mode|jailbr(eak|oken)|unfiltered|uncensored|anything now)\b`)},
	{"role-play jailbreak", regexp.MustCompile(`\b(pretend|act|behave|roleplay|role-play|imagine)\b.{0,40}\b(you (are|have)|as|to be)\b.{0,60}\b(no|without|never|free of|not bound by)\b.{0,20}\b(restrictions|limits|filters|rules|censorship|guidelines|ethics|morals|polic(y|ies)|refus\w*)\b`)},
	{"role-play jailbreak", regexp.MustCompile(`\b(stay in character|never break character|you will always answer|you must answer every|you can do anything|you have been freed|you are free from|openai('s)? (content )?polic(y|ies))\b`)},
	{"safety bypass", regexp.MustCompile(`\b(disable|turn off|bypass|remove|deactivate)\b.{0,20}\b(safety|content) (filters?|guardrails?|mode|policies|restrictions)\b`)},
	// Paraphrases of an override: another verb of dismissal, and "what you
	// were told" for the instructions.
	{"instruction override", regexp.MustCompile(`\b(disregard|ignore|forget|overlook|dismiss|discard|abandon|scrap|set aside|throw (out|away)|pay no (attention|heed|mind) to|take no notice of|never ?mind|(do not|don't|stop|no longer|quit) (follow(ing)?|obey(ing)?|listen(ing)? to|heed(ing)?|adher(e|ing) to))\b(\s+\w+){0,3}?\s+(everything|anything|all|whatever|what|the things?|the stuff)\b.{0,30}\b(you (were|have been|'ve been|got|had been) (told|given|instructed|taught|programmed|trained|asked)|(said|written|stated|mentioned|instructed|told) (before|above|earlier|previously|so far)|before this|up to (now|this point)|until now|so far)\b`)},
	{"instruction override", regexp.MustCompile(`\b(overlook|dismiss|discard|abandon|scrap|set aside|throw (out|away)|pay no (attention|heed|mind) to|take no notice of|never ?mind|(do not|don't|stop|no longer|quit) (follow(ing)?|obey(ing)?|listen(ing)? to|heed(ing)?|adher(e|ing) to))\b(\s+\w+){0,3}?\s+(previous|prior|above|earlier|preceding|initial|original|system|your|these|those|the|all|any)\s+(\w+\s+)?(instructions?|rules|prompts?|directions|guidelines|directives|programming|restrictions|constraints|guardrails|training)\b`)},
	{"instruction override", regexp.MustCompile(`\b(previous|prior|above|earlier|preceding|initial|original|old|existing|system|developer'?s?|your) (\w+ )?(instructions|rules|guidelines|directives|prompt|programming|constraints|restrictions|policies|orders) (are|is|have been|were|has been) (now |hereby |officially )?(void|cancell?ed|revoked|obsolete|invalid|null|lifted|removed|overridden|suspended|deleted|disabled|no longer (valid|apply|applicable|in effect|relevant|active))\b`)},
	{"instruction override", regexp.MustCompile(`\b(previous|prior|above|earlier|preceding|initial|original|system|your) (\w+ )?(instructions|rules|guidelines|directives|prompt|restrictions) (no longer|don't|do not|shall not|won't) (apply|matter|count|bind you)\b`)},
	{"instruction override", regexp.MustCompile(`\b(the|your|all|these|those|any) (\w+ )?(instructions|rules|guidelines|directives|restrictions|prompts?) (above|before|given (earlier|before|above)|you were given|you have been given|you got) (no longer|don't|do not|shall not|won't|are void|are cancell?ed|are revoked|are obsolete)\b`)},
	{"memory wipe", regexp.MustCompile(`\b(erase|wipe|clear|delete|reset|purge)\b(\s+\w+){0,2}?\s+(your|all (of )?your|all (of )?the (previous|prior|above|earlier))\s+(\w+\s+)?(memory|memories|training|programming|instructions|rules|guidelines|conditioning|system prompt|restrictions)\b`)},
	{"jailbreak persona", regexp.MustCompile(`\b(you are|you're|you will be) (now )?no longer (bound|restricted|limited|constrained|required|obligated|governed|an? (ai|assistant|chatbot|language model|ai model|ai assistant))\b`)},
	{"jailbreak persona", regexp.MustCompile(`\b(answer|respond to|reply to)\b.{0,20}\b(every|any|all)\b.{0,30}\b(without|with no|free of)\b(\s+\w+){0,2}?\s+(filters?|restrictions|limits|limitations|censorship|rules|guidelines|warnings|refusals?)\b`)},
	{"role-play jailbreak", regexp.MustCompile(`\b(act|behave|respond|answer|reply|operate|pretend) (as if|as though|like) (you (have|had|were) )?(no|without|never had|free of|free from) (rules|restrictions|guidelines|instructions|system prompt|filters|limits|limitations|guardrails|content polic(y|ies))\b`)},
}

// squashedAttacks are attack phrases with every space and punctuation
// removed. They are looked for in the squashed view of a text (letters
// only), which is how an attack spelled out with any spacing or separators
// (i  g  n  o  r  e, I.g.n.o.r.e, IgnoreAllPreviousInstructions) reads, and
// in its reverse (text written backwards).
var squashedAttacks = func() []string {
	var out []string
	verbs := []string{"ignore", "disregard", "forget", "bypass", "override", "skip"}
	quants := []string{"", "all", "allthe", "allyour", "the", "your", "any", "anyof", "allof", "allofyour", "alloftheabove"}
	adjs := []string{"", "previous", "prior", "above", "earlier", "preceding", "initial", "original", "system"}
	nouns := []string{"instructions", "instruction", "rules", "prompts", "prompt", "directions", "guidelines", "commands", "directives"}
	for _, v := range verbs {
		for _, q := range quants {
			for _, a := range adjs {
				if q == "" && a == "" {
					continue
				}
				for _, n := range nouns {
					out = append(out, v+q+a+n)
				}
			}
		}
		for _, w := range []string{"everythingyouweretold", "everythingyouvebeentold", "everythingbefore", "everythingabove", "allpreviouslysaid"} {
			out = append(out, v+w)
		}
	}
	for _, v := range []string{"reveal", "print", "show", "showme", "repeat", "output", "leak", "tellme", "whatis", "display"} {
		for _, o := range []string{"yoursystemprompt", "thesystemprompt", "yourinitialprompt", "yourhiddenprompt", "yourinstructions"} {
			out = append(out, v+o)
		}
	}
	return append(out, "doanythingnow", "developermodeenabled", "youarenowdan", "youarenolongerbound", "nolongerboundbyyour",
		"withoutanyrestrictions", "actasifyouhavenorules", "jailbreakmodeenabled")
}()

// squashMatcher finds squashedAttacks.
var squashMatcher = ahocorasick.New(squashedAttacks)

// squashed returns the letters of folded text only.
func squashed(folded string) string {
	b := make([]byte, 0, len(folded))
	for i := 0; i < len(folded); i++ {
		if c := folded[i]; c >= 'a' && c <= 'z' {
			b = append(b, c)
		}
	}
	return string(b)
}

// reverseBytes reverses an ASCII string.
func reverseBytes(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// reverseRunes reverses s character by character.
func reverseRunes(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// reverseWords reverses the order of the words of s.
func reverseWords(s string) string {
	ws := strings.Fields(s)
	for i, j := 0, len(ws)-1; i < j; i, j = i+1, j-1 {
		ws[i], ws[j] = ws[j], ws[i]
	}
	return strings.Join(ws, " ")
}

// evasiveAttack looks for an attack written so that ruleAttack cannot read
// it: spelled out with any spacing (squashed view), written backwards
// character by character (reversed squashed view and reversed text), or
// with its words in reverse order. It returns the reason, or "". Each view
// costs one linear pass; text written backwards is checked by the rules only
// when it holds a trigger written backwards, and text of more than 1 KB
// with its words reversed only when an override's object comes before its
// verb.
//
// views must be rewordedViews(raw, folded).
func evasiveAttack(raw, folded string, views []attackView) string {
	sq := squashed(folded)
	if squashMatcher.Contains(sq, squashedAttacks) {
		return "spelled-out attack phrase"
	}
	if squashMatcher.Contains(reverseBytes(sq), squashedAttacks) {
		return "reversed text: attack phrase"
	}
	for i, v := range views {
		if i > 0 {
			if r := ruleAttack(v.text); r != "" {
				return v.name + r
			}
		}
		if reversedTriggerMatcher.Contains(v.text, reversedTriggers) {
			if r := ruleAttack(reverseRunes(v.text)); r != "" {
				return v.name + "reversed text: " + r
			}
		}
		if len(v.text) <= 1024 || views[i].objectBeforeVerb() {
			if r := ruleAttack(reverseWords(v.text)); r != "" {
				return v.name + "reversed words: " + r
			}
		}
	}
	return ""
}

// attackView is a rewording of a text, named for the reason it gives;
// strict views count for the model only from its HIGH confidence
// threshold (they are read for every short text, so a lower bar would
// add false positives).
type attackView struct {
	name, text string
	strict     bool
	obv        int8 // objectBeforeVerb(text): 0 not known yet, 1 true, 2 false
}

// objectBeforeVerb is objectBeforeVerb(v.text), computed once.
func (v *attackView) objectBeforeVerb() bool {
	if v.obv == 0 {
		v.obv = 2
		if objectBeforeVerb(v.text) {
			v.obv = 1
		}
	}
	return v.obv == 1
}

// rewordedViews returns the folded text, then the readings that restore
// word boundaries folding loses: letters spelled out one at a time with a
// wider gap between words (P a y  n o  a t t e n t i o n), and words run
// together in camel case, forwards or backwards. Each is built only when
// the text has that shape.
func rewordedViews(raw, folded string) []attackView {
	views := []attackView{{name: "", text: folded}}
	if spelledOut(raw) {
		views = append(views, attackView{name: "spelled out: ", text: normalize.Full(despell(raw)).String()})
	}
	fwd, rev := hasCamel(raw)
	if fwd {
		views = append(views, attackView{name: "words run together: ", text: normalize.Full(camelSplit(raw, false)).String()})
	}
	if rev {
		views = append(views, attackView{name: "words run together, reversed: ", text: reverseRunes(normalize.Full(camelSplit(raw, true)).String())})
	}
	return views
}

// classifierViews are the texts besides the folded text that the
// prompt-attack model reads: the reworded views and, for each that reads
// as English written backwards, its reverse; and the folded text with its
// words in reverse order (the model reads word order across words), when
// it is short or an override's object comes before its verb.
//
// views must be rewordedViews(raw, folded).
func classifierViews(folded string, views []attackView) []attackView {
	var out []attackView
	for i, v := range views {
		if i > 0 {
			out = append(out, v)
		}
		if looksReversed(v.text) {
			out = append(out, attackView{name: v.name + "reversed text: ", text: reverseRunes(v.text)})
		}
	}
	if len(folded) <= 1024 || views[0].objectBeforeVerb() {
		out = append(out, attackView{name: "reversed words: ", text: reverseWords(folded), strict: true})
	}
	return out
}

var (
	commonWords   = set(`the and you to of is in that it for your are all me this with be not what do`)
	reversedWords = func() map[string]bool {
		m := map[string]bool{}
		for w := range commonWords {
			if r := reverseBytes(w); !commonWords[r] {
				m[r] = true
			}
		}
		return m
	}()
)

// looksReversed reports whether folded text reads as English written
// backwards: its common words appear reversed (eht, dna, uoy) more often
// than as they are, at least twice.
func looksReversed(folded string) bool {
	fwd, rev := 0, 0
	for i := 0; i < len(folded); {
		if c := folded[i]; c < 'a' || c > 'z' {
			i++
			continue
		}
		j := i + 1
		for j < len(folded) && folded[j] >= 'a' && folded[j] <= 'z' {
			j++
		}
		if j-i <= 4 { // every common word is short
			if w := folded[i:j]; commonWords[w] {
				fwd++
			} else if reversedWords[w] {
				rev++
			}
		}
		i = j
	}
	return rev >= 2 && rev > fwd
}

// reversedTriggers are the attack triggers written backwards: text written
// backwards holds one if it holds an attack.
var (
	reversedTriggers = func() []string {
		out := make([]string, len(attackTriggers))
		for i, t := range attackTriggers {
			out[i] = reverseBytes(t)
		}
		return out
	}()
	reversedTriggerMatcher = ahocorasick.New(reversedTriggers)
)

// overrideVerbs and overrideObjects are the two halves of an instruction
// override; with the words in reverse order, an object comes first.
var (
	overrideVerbs   = []string{"ignor", "disregard", "forget", "overrid", "bypass", "skip", "overlook", "dismiss", "discard", "abandon", "follow", "obey", "erase", "wipe", "reveal", "print", "show", "repeat"}
	overrideObjects = []string{"instruction", "rules", "prompt", "guideline", "told", "directive", "programming", "restriction", "memor", "training"}
	overrideMatcher = ahocorasick.New(append(append([]string{}, overrideVerbs...), overrideObjects...))
)

// objectBeforeVerb reports whether an override object (instructions,
// rules, what you were told) comes before an override verb within 200
// bytes: how an override reads with its words in reverse order.
func objectBeforeVerb(folded string) bool {
	lastObject := -1 << 30
	found := false
	overrideMatcher.FindAll(folded, nil, func(m ahocorasick.Match) {
		if m.Pattern >= len(overrideVerbs) {
			lastObject = m.Start
		} else if m.Start-lastObject <= 200 {
			found = true
		}
	})
	return found
}

// isSpellSep marks the separators people put between spelled-out letters.
func isSpellSep(r rune) bool {
	switch r {
	case ' ', '.', '-', '_', '*', '~', '/', ',', '|', '·', '•', '+':
		return true
	}
	return false
}

// spelledOut reports whether raw holds six or more letters in a row each
// standing alone between separators (P a y n o, P.a.y.n.o).
func spelledOut(raw string) bool {
	run := 0
	for i := 0; i < len(raw); {
		r, sz := utf8.DecodeRuneInString(raw[i:])
		if !unicode.IsLetter(r) {
			i += sz
			continue
		}
		j := i + sz
		next, nsz := utf8.DecodeRuneInString(raw[j:])
		if j < len(raw) && (unicode.IsLetter(next) || unicode.IsDigit(next)) {
			run = 0
			for j < len(raw) {
				next, nsz = utf8.DecodeRuneInString(raw[j:])
				if !unicode.IsLetter(next) && !unicode.IsDigit(next) {
					break
				}
				j += nsz
			}
			i = j
			continue
		}
		run++
		if run >= 6 {
			return true
		}
		i = j
	}
	return false
}

// despell rebuilds the words of text spelled out a letter at a time, where
// one separator stands between letters and more than one between words
// ("P a y  n o", "P.a.y..n.o").
func despell(raw string) string {
	var b strings.Builder
	prevSingle := false
	rs := []rune(raw)
	letter := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '’' }
	for i := 0; i < len(rs); {
		if !letter(rs[i]) {
			j := i
			for j < len(rs) && !letter(rs[j]) {
				j++
			}
			gap := rs[i:j]
			seps := true
			for _, r := range gap {
				seps = seps && isSpellSep(r)
			}
			switch {
			case seps && len(gap) == 1 && prevSingle:
				// between letters of one word
			case seps:
				b.WriteByte(' ')
			default:
				b.WriteString(string(gap))
			}
			i = j
			continue
		}
		j := i
		for j < len(rs) && letter(rs[j]) {
			j++
		}
		single := j-i == 1
		if !single && prevSingle {
			b.WriteByte(' ')
		}
		b.WriteString(string(rs[i:j]))
		prevSingle = single
		i = j
	}
	return b.String()
}

// camelBreak reports whether camelSplit breaks the text after rs[i] (or,
// not reversed, before it).
func camelBreak(rs []rune, i int, reversed bool) bool {
	if !reversed {
		return i > 0 && unicode.IsLower(rs[i-1]) && unicode.IsUpper(rs[i])
	}
	return i > 0 && i+1 < len(rs) && unicode.IsUpper(rs[i]) && unicode.IsLower(rs[i-1]) && unicode.IsLower(rs[i+1])
}

// hasCamel reports whether a word of raw holds three camel-case breaks
// (fwd), and three breaks of camel case written backwards (rev).
func hasCamel(raw string) (fwd, rev bool) {
	// Letter classes: 0 other, 1 lower, 2 upper, 3 space.
	class := func(r rune) int {
		switch {
		case r >= 'a' && r <= 'z':
			return 1
		case r >= 'A' && r <= 'Z':
			return 2
		case r == ' ' || r == '\n' || r == '\t' || r == '\r':
			return 3
		case r < utf8.RuneSelf:
			return 0
		case unicode.IsLower(r):
			return 1
		case unicode.IsUpper(r):
			return 2
		case unicode.IsSpace(r):
			return 3
		}
		return 0
	}
	prev, cur := 3, 3
	nf, nr := 0, 0
	step := func(next int) {
		switch {
		case cur == 3:
			nf, nr = 0, 0
		case cur == 2 && prev == 1:
			nf++
			if next == 1 {
				nr++
			}
			fwd, rev = fwd || nf >= 3, rev || nr >= 3
		}
	}
	for i := 0; i < len(raw); {
		var next int
		if b := raw[i]; b < utf8.RuneSelf {
			next = class(rune(b))
			i++
		} else {
			r, sz := utf8.DecodeRuneInString(raw[i:])
			next = class(r)
			i += sz
		}
		step(next)
		prev, cur = cur, next
	}
	step(3)
	return fwd, rev
}

// camelSplit puts a space where a lower-case letter meets an upper-case one
// (PayNoAttention -> Pay No Attention); with reversed, after an upper-case
// letter between two lower-case ones, which is where words of camel case
// written backwards end (noitnettAoNyaP -> noitnettA oN yaP).
func camelSplit(raw string, reversed bool) string {
	rs := []rune(raw)
	var b strings.Builder
	for i, r := range rs {
		if !reversed && camelBreak(rs, i, false) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		if reversed && camelBreak(rs, i, true) {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// attackTriggers are literals at least one of which every attack rule
// needs; the regular expressions run only on windows around them, which keeps
// long benign texts fast.
var attackTriggers = []string{"ignor", "disregard", "forget", "overrid", "bypass", "skip", "drop", "vergiss",
	"instruction", "task", "rules", "prompt", "guideline", "restrict", "limit", "filter", "censor", "ethic", "moral",
	"polic", "refus", "character", "always answer", "answer every", "do anything", "freed", "free from", "safety",
	"overlook", "dismiss", "discard", "abandon", "scrap", "set aside", "throw", "pay no", "notice", "never mind", "nevermind",
	"follow", "obey", "listen", "heed", "adher", "told", "directive", "programming", "constraint", "erase", "wipe", "memor",
	"training", "no longer", "as if", "as though"}

// triggerMatcher finds every attackTriggers occurrence in one pass;
// rot13Triggers finds their ROT13 forms, which a ROT13-encoded attack must
// contain, so the ROT13 view of a text is folded and checked only then.
var (
	triggerMatcher = ahocorasick.New(attackTriggers)
	rot13Triggers  = func() []string {
		out := make([]string, len(attackTriggers))
		for i, t := range attackTriggers {
			out[i] = rot13(t)
		}
		return out
	}()
	rot13Matcher = ahocorasick.New(rot13Triggers)
)

// mayHoldROT13Attack reports whether folded text contains the ROT13 form of
// an attack trigger.
func mayHoldROT13Attack(folded string) bool {
	return rot13Matcher.Contains(folded, rot13Triggers)
}

// ruleAttack returns the name of the first attack rule that matches, or "".
// The regular expressions run only where a trigger occurs: on the whole text
// when it is short, else on windows around the triggers.
func ruleAttack(folded string) string {
	type win struct{ a, b int }
	var ws []win
	triggerMatcher.FindAll(folded, attackTriggers, func(m ahocorasick.Match) {
		ws = append(ws, win{max(0, m.Start-200), min(len(folded), m.Start+250)})
	})
	if len(ws) == 0 {
		return ""
	}
	if len(folded) <= 600 {
		return matchRules(folded)
	}
	// Windows merged so each byte is matched once.
	sort.Slice(ws, func(i, j int) bool { return ws[i].a < ws[j].a })
	for i := 0; i < len(ws); {
		a, b := ws[i].a, ws[i].b
		j := i + 1
		for j < len(ws) && ws[j].a <= b {
			b = max(b, ws[j].b)
			j++
		}
		if r := matchRules(folded[a:b]); r != "" {
			return r
		}
		i = j
	}
	return ""
}

// matchRules returns the name of the first rule matching s, or "".
func matchRules(s string) string {
	for _, r := range attackRules {
		if r.re.MatchString(s) {
			return r.name
		}
	}
	return ""
}

// runs returns the maximal runs of bytes in set that are at least min long.
func runs(s string, min int, set *[256]bool) []string {
	var out []string
	for i := 0; i < len(s); {
		if !set[s[i]] {
			i++
			continue
		}
		j := i + 1
		for j < len(s) && set[s[j]] {
			j++
		}
		if j-i >= min {
			out = append(out, s[i:j])
		}
		i = j
	}
	return out
}

// byteSet builds a byte-membership table.
func byteSet(ok func(c byte) bool) (t [256]bool) {
	for c := range 256 {
		t[c] = ok(byte(c))
	}
	return t
}

var (
	b64Bytes = byteSet(func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
	})
	hexOrSepBytes = byteSet(func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ' ' || c == ':'
	})
)

// decodedPayloads returns texts hidden in base64 or hex runs and, with
// withROT13, the ROT13 of the whole text, so that they can be checked again.
// Only decodings that are mostly printable text are returned.
func decodedPayloads(raw string, withROT13 bool) []string {
	var out []string
	for _, m := range runs(raw, 16, &b64Bytes) {
		m = strings.TrimRight(m, "=")
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding} {
			if b, err := enc.DecodeString(m); err == nil && printable(b) {
				out = append(out, string(b))
				break
			}
		}
	}
	for _, m := range runs(raw, 24, &hexOrSepBytes) {
		h := strings.NewReplacer(" ", "", ":", "").Replace(strings.TrimSpace(m))
		if b, err := hex.DecodeString(h); err == nil && printable(b) {
			out = append(out, string(b))
		}
	}
	if withROT13 {
		out = append(out, rot13(raw))
	}
	return out
}

func printable(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	ok, letters := 0, 0
	for _, c := range string(b) {
		if unicode.IsPrint(c) || c == '\n' || c == '\t' {
			ok++
		}
		if unicode.IsLetter(c) {
			letters++
		}
	}
	n := len([]rune(string(b)))
	return ok*100 >= n*95 && letters*2 >= n
}

func rot13(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return 'a' + (r-'a'+13)%26
		case r >= 'A' && r <= 'Z':
			return 'A' + (r-'A'+13)%26
		}
		return r
	}, s)
}

// lexicons give evidence for the content categories without a trained model
// (INSULTS, SEXUAL, VIOLENCE, MISCONDUCT); HATE is the hate model's alone. Weights
// add up; the score is 1-exp(-sum). Written for this project.
var lexicons = map[ContentFilterType]map[string]float64{
	FilterInsults: weights(`idiot:1.2 idiots:1.2 stupid:0.9 moron:1.3 morons:1.3 dumb:0.8 loser:1 losers:1 pathetic:0.9
		worthless:1 useless:0.7 ugly:0.7 fat:0.4 imbecile:1.3 cretin:1.3 dimwit:1.2 halfwit:1.2 scum:1.2 trash:0.6
		clown:0.6 fool:0.8 freak:0.8 jerk:0.9 disgusting:0.7 pig:0.6 shut_up:1.0 you_suck:1.4 retard:1.5 bitch:1.3
		asshole:1.5 dickhead:1.5 bastard:1.2 cunt:1.8 twat:1.5 wanker:1.5 piece_of_shit:1.8 go_to_hell:1.2 loser:1`),
	FilterSexual: weights(`sex:0.6 sexual:0.6 porn:1.5 porno:1.5 pornography:1.3 nude:1.0 naked:0.9 nudes:1.4 erotic:1.2
		orgasm:1.5 masturbate:1.6 masturbation:1.5 blowjob:2 handjob:2 horny:1.2 dildo:1.8 genitals:1.2 penis:1.1
		vagina:1.1 boobs:1.2 tits:1.3 pussy:1.3 cock:1.1 cum:1.2 fetish:1.0 bdsm:1.4 hentai:1.8 nsfw:1.3 sexy:0.7
		strip:0.3 stripper:0.9 escort:0.6 onlyfans:1.0 intercourse:1.0 fuck_me:1.6 have_sex:1.3 explicit:0.5`),
	FilterViolence: weights(`kill:1.0 killing:1.0 killed:0.7 murder:1.2 murdered:1.0 shoot:0.9 shooting:0.9 stab:1.2
		stabbing:1.2 bomb:1.1 bombing:1.2 explode:0.8 massacre:1.4 slaughter:1.3 torture:1.3 behead:1.8 decapitate:1.8
		strangle:1.4 assault:1.0 attack:0.5 beat_up:1.2 blood:0.6 bloody:0.5 gun:0.6 guns:0.6 rifle:0.6 knife:0.6
		weapon:0.6 weapons:0.6 die:0.6 dead:0.4 violence:0.8 violent:0.8 hurt:0.6 punch:0.7 execute:0.8 lynch:1.8
		genocide:1.6 terrorist:1.0 terrorism:1.0 shoot_up:1.6 i_will_kill:2.0 going_to_kill:2.0`),
	FilterMisconduct: weights(`steal:1.0 stealing:1.0 shoplift:1.4 rob:1.0 robbery:1.1 fraud:1.0 scam:0.9 launder:1.3
		laundering:1.3 counterfeit:1.3 hack:0.7 hacking:0.8 phishing:1.2 malware:1.1 ransomware:1.4 keylogger:1.4
		cocaine:1.2 heroin:1.3 meth:1.2 methamphetamine:1.4 fentanyl:1.2 cook_meth:2 drug_dealer:1.2 smuggle:1.2
		smuggling:1.2 bribe:1.1 blackmail:1.3 extort:1.3 forge:0.8 forged:0.8 fake_id:1.4 evade_taxes:1.5
		tax_evasion:1.2 pick_a_lock:1.3 hotwire:1.5 make_a_bomb:2.2 build_a_bomb:2.2 illegal:0.6 untraceable:1.0
		dark_web:0.9 without_getting_caught:1.6 how_to_steal:2`),
}

func weights(spec string) map[string]float64 {
	m := map[string]float64{}
	for _, f := range strings.Fields(spec) {
		k, v, _ := strings.Cut(f, ":")
		m[strings.ReplaceAll(k, "_", " ")] = parseFloat(v)
	}
	return m
}

func parseFloat(s string) float64 {
	whole, frac, _ := strings.Cut(s, ".")
	x := 0.0
	for _, c := range whole {
		x = x*10 + float64(c-'0')
	}
	d := 0.1
	for _, c := range frac {
		x += float64(c-'0') * d
		d /= 10
	}
	return x
}

// lexiconFirst holds, per lexicon, the first words of its multi-word
// entries: only after one of them can a bigram or trigram match.
var lexiconFirst = func() map[ContentFilterType]map[string]bool {
	out := map[ContentFilterType]map[string]bool{}
	for t, lex := range lexicons {
		first := map[string]bool{}
		for k := range lex {
			if w, _, ok := strings.Cut(k, " "); ok {
				first[w] = true
			}
		}
		out[t] = first
	}
	return out
}()

// lexiconScore scores folded text against lexicon t: unigrams, bigrams and
// trigrams of its words. It returns the score and the words that matched.
func lexiconScore(words []string, t ContentFilterType) (float64, []string) {
	lex, first := lexicons[t], lexiconFirst[t]
	sum := 0.0
	var hits []string
	for i := range words {
		w := words[i]
		if v, ok := lex[w]; ok {
			sum += v
			hits = append(hits, w)
		}
		if i+1 < len(words) && first[w] {
			b := w + " " + words[i+1]
			if v, ok := lex[b]; ok {
				sum += v
				hits = append(hits, b)
			}
			if i+2 < len(words) {
				t := b + " " + words[i+2]
				if v, ok := lex[t]; ok {
					sum += v
					hits = append(hits, t)
				}
			}
		}
	}
	return 1 - math.Exp(-sum), hits
}

// wordsOf splits folded text into words: runs of letters, digits and '
// (classify.Words, so that the lexicons here and the hate model read the
// same words).
func wordsOf(folded string) []string { return classify.Words(folded) }
