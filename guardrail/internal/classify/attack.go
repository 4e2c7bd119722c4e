package classify

import (
	"math"

	"github.com/bedrockkit/bedrockkit/guardrail/internal/ahocorasick"
)

// Prompt-attack features beyond the word and character n-grams of
// Features: character 6-grams that run across word boundaries, so word
// order within a phrase counts ("ore all pre", "s davor. "), and cues.
//
// Cues: which kinds of move a text makes, in several languages: it assigns
// the model a persona, tells it to forget or ignore what it was told,
// switches to a new task, dictates the output, talks about the model's
// instructions, context or training, or asks for the opinion of the persona
// it assigned. Each kind is one shared feature, and each pair of kinds one
// more, so a wording or a language the training sets hold few of still
// scores by the moves it makes; "forget/ignore" and "your instructions"
// count only in pairs, as each alone is everyday ("ignore the typos").
// Written for this project from general knowledge of these moves, not from
// the evaluation sets; matched as phrases of folded text at word
// boundaries, in one pass.
var attackCuePhrases = [...][]string{
	cuePersona: {"you are now", "now you are", "you're now", "from now on you", "stay in character", "in your role",
		"nun bist du", "jetzt bist du", "ab jetzt bist du", "ahora eres", "tu es maintenant", "ora sei", "sada si"},
	cueOverride: {"forget", "ignore", "disregard", "override", "bypass", "pay no attention", "vergiss", "vergessen sie",
		"ignoriere", "ignorieren sie", "missachte", "olvida", "ignora", "oublie", "oubliez", "ignorez", "dimentica",
		"zaboravi", "zanemari", "vergeet", "negeer", "esquece"},
	cueSwitch: {"new task", "new instruction", "new instructions", "next task", "additional instruction", "instruction:",
		"but now", "and now", "that's done", "that is done", "well done", "great job", "simply great", "neue aufgabe",
		"neue anweisung", "achtung", "stopp", "ab jetzt", "von nun an", "das ist erledigt", "sehr gut. ", "nueva tarea",
		"nouvelle tache", "nuovo compito"},
	cueOutput: {"state that", "repeat after me", "include that", "respond with", "answer with", "reply with",
		"only answer", "just answer", "just say", "say that", "sag dass", "sage dass", "schreibe dass", "antworte mit",
		"gib aus", "di que", "dime que", "escribe que", "dis que", "ecris que", "scrivi che", "reci da"},
	cueMeta: {"your instructions", "your prompt", "system prompt", "the articles", "the documents", "the provided",
		"the text above", "text above", "your own knowledge", "your rules", "your programming", "your training",
		"were you trained", "who created you", "your guidelines", "your initial", "previous instructions",
		"all instructions", "everything before", "everything above", "deine anweisungen", "deine instruktionen",
		"die artikel", "alles davor", "alles zuvor", "alle anweisungen", "tus instrucciones", "todas las instrucciones",
		"tes instructions", "le tue istruzioni", "sve instrukcije", "sve upute"},
	cueOpinion: {"what do you think of", "wie findest du", "was haltst du von", "que opinas de", "qu'en penses-tu"},
	cuePwn:     {"pwned", "jailbreak", "jailbroken", "dan mode", "developer mode"},
}

// Cue kinds, as bits.
const (
	cuePersona = iota
	cueOverride
	cueSwitch
	cueOutput
	cueMeta
	cueOpinion
	cuePwn
	cueKinds
)

var attackCuePatterns, attackCueKinds = func() (pats []string, kinds []int) {
	for k, ps := range attackCuePhrases {
		for _, p := range ps {
			pats = append(pats, p)
			kinds = append(kinds, k)
		}
	}
	return pats, kinds
}()

var attackCueMatcher = ahocorasick.New(attackCuePatterns)

// AttackCueWeight is the value of one cue feature; the n-gram part of the
// vector has unit norm.
const AttackCueWeight = 1.0

// attackCueIndex are the hashed indices of the cue features: one per kind,
// then one per pair of kinds.
var attackCueIndex = func() (t [cueKinds + cueKinds*cueKinds]uint32) {
	for a := 0; a < cueKinds; a++ {
		t[a] = fnv(fnvBasis, "cue:"+string(rune('a'+a))) & (Dim - 1)
		for b := a + 1; b < cueKinds; b++ {
			t[cueKinds+a*cueKinds+b] = fnv(fnvBasis, "cue:"+string(rune('a'+a))+"+"+string(rune('a'+b))) & (Dim - 1)
		}
	}
	return t
}()

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80 || c == '\''
}

// attackCues returns the cue kinds of folded text, as bits.
func attackCues(folded string) uint32 {
	var found uint32
	attackCueMatcher.FindAll(folded, attackCuePatterns, func(m ahocorasick.Match) {
		end := m.End
		if end < len(folded) && folded[end] == 's' {
			end++
		}
		if m.Start > 0 && isWordByte(folded[m.Start-1]) || end < len(folded) && isWordByte(folded[end]) {
			return
		}
		found |= 1 << attackCueKinds[m.Pattern]
	})
	return found
}

// AppendAttackCues appends the cue features of folded text to dst.
func AppendAttackCues(dst []Feature, folded string) []Feature {
	found := attackCues(folded)
	for a := 0; a < cueKinds; a++ {
		if found&(1<<a) == 0 {
			continue
		}
		if a != cueOverride && a != cueMeta {
			// "ignore the typos", "the previous instructions for the
			// shelf": alone, these two are everyday words; only with
			// another move do they count.
			dst = append(dst, Feature{attackCueIndex[a], AttackCueWeight})
		}
		for b := a + 1; b < cueKinds; b++ {
			if found&(1<<b) != 0 {
				dst = append(dst, Feature{attackCueIndex[cueKinds+a*cueKinds+b], AttackCueWeight})
			}
		}
	}
	return dst
}

// AttackFeatures returns the features the prompt-attack model reads:
// Features(folded), then character 6-grams across word boundaries, then
// the cue features.
func AttackFeatures(folded string) []Feature {
	out := AppendFeatures(make([]Feature, 0, len(folded)*4+32), folded)
	out = appendCrossWord(out, folded)
	return AppendAttackCues(out, folded)
}

// CrossWordWeight is the norm of the cross-word n-gram part of the
// prompt-attack vector (the word n-grams have unit norm), chosen by
// cross-validation of the whole filter.
const CrossWordWeight = 3.0

// crossN is the length of the cross-word n-grams.
const crossN = 6

var crossBasis = fnv(fnvBasis, "x:")

// crossWordCount is the number of cross-word n-grams of folded text: one
// per byte that starts crossN bytes and is not a space.
func crossWordCount(folded string) int {
	k := 0
	for i := 0; i+crossN <= len(folded); i++ {
		if folded[i] != ' ' {
			k++
		}
	}
	return k
}

// appendCrossWord appends the byte 6-grams of folded text that do not
// start with a space, which span word boundaries ("ore all", "s davor"),
// each of value CrossWordWeight over the square root of their count.
func appendCrossWord(dst []Feature, folded string) []Feature {
	k := crossWordCount(folded)
	if k == 0 {
		return dst
	}
	v := float32(CrossWordWeight / math.Sqrt(float64(k)))
	crossWordHashes(folded, func(idx uint32) { dst = append(dst, Feature{idx, v}) })
	return dst
}

// crossBase is the base of the rolling hash of the cross-word n-grams, and
// crossTop its power crossN-1.
const crossBase = 16777619

var crossTop = func() uint32 {
	p := uint32(1)
	for range crossN - 1 {
		p *= crossBase
	}
	return p
}()

// crossWordHashes calls fn with the feature index of every cross-word
// n-gram of folded text, in order: a polynomial hash rolled over the text,
// two multiplications a byte.
func crossWordHashes(folded string, fn func(uint32)) {
	if len(folded) < crossN {
		return
	}
	var h uint32
	for i := 0; i < crossN; i++ {
		h = h*crossBase + uint32(folded[i])
	}
	for i := 0; ; i++ {
		if folded[i] != ' ' {
			fn(((h ^ crossBasis) * 0x9e3779b1) >> (32 - Bits))
		}
		if i+crossN >= len(folded) {
			return
		}
		h = (h-uint32(folded[i])*crossTop)*crossBase + uint32(folded[i+crossN])
	}
}

// AttackProb is the prompt-attack model's probability for folded text
// whose word n-gram features (Features(folded)) are ngrams: Prob of
// AttackFeatures without building the slice.
func AttackProb(m *Model, ngrams []Feature, folded string) float64 {
	z := float64(m.Bias)
	for _, f := range ngrams {
		z += float64(m.Weights[f.Index] * f.Value)
	}
	if k := crossWordCount(folded); k > 0 {
		// crossWordHashes inlined: this runs for every input.
		var sum float32
		w := m.Weights
		var h uint32
		for i := 0; i < crossN; i++ {
			h = h*crossBase + uint32(folded[i])
		}
		for i := 0; ; i++ {
			if folded[i] != ' ' {
				sum += w[((h^crossBasis)*0x9e3779b1)>>(32-Bits)]
			}
			if i+crossN >= len(folded) {
				break
			}
			h = (h-uint32(folded[i])*crossTop)*crossBase + uint32(folded[i+crossN])
		}
		z += float64(sum * float32(CrossWordWeight/math.Sqrt(float64(k))))
	}
	var buf [cueKinds * cueKinds]Feature
	for _, f := range AppendAttackCues(buf[:0], folded) {
		z += float64(m.Weights[f.Index] * f.Value)
	}
	return 1 / (1 + math.Exp(-z))
}
