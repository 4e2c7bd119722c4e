package guardrail

import (
	"math/bits"
	"strings"

	"github.com/bedrockkit/bedrockkit/guardrail/internal/ahocorasick"
	"github.com/bedrockkit/bedrockkit/guardrail/internal/classify"
)

// Persuasive framings. An attacker model (PAIR-style) rewrites a harmful
// request until the target complies: it wraps the request in a role or a
// fiction, justifies it (research, education, awareness, a dying
// grandmother, a deadline), demands detail, and tells the model how to
// begin its answer or not to refuse. Ordinary role-play has the role and
// the fiction but not the harmful request, and rarely the justification or
// the pressure; so a harmful request (classify.HarmfulRequest) counts as a
// persuasive framing only with pressure to comply, or with a role or
// fiction together with a justification or a demand for detail, or with
// both of the latter. Phrases are matched as substrings of folded text at
// word boundaries, in one pass. Written for this project from the
// persuasion techniques such prompts use, not from any attack set.
var persuasionPhrases = map[persuasionKind][]string{
	// A role or a fiction.
	persuasionFrame: {"imagine", "pretend", "hypothetical", "hypothetically", "fictional", "fiction", "novel",
		"story", "screenplay", "script for", "a film", "a movie", "tv drama", "tv series", "tv show", "documentary",
		"video game", "a game", "role-play", "roleplay", "role play", "character", "scenario", "thought experiment",
		"parallel universe", "alternate universe", "alternate reality", "world where", "you are a", "you are an",
		"you're a", "you're an", "act as", "play the role", "playing the role", "in character", "villain",
		"protagonist", "screenwriter", "novelist", "playwright", "as an ai", "an ai from", "an ai in", "i'm a", "i am a", "i'm an", "i am an", "picture a", "picture this", "narrator", "chapter",
		"co-author", "persona", "ted talk", "satire", "puzzle", "think of this as", "let's say", "suppose",
		"say you were", "in a world", "a being", "beyond human"},
	// A justification or an appeal.
	persuasionJustify: {"educational purpose", "for education", "for research", "research purpose", "research paper",
		"academic", "purely fictional", "purely hypothetical", "just fiction", "only fiction", "it's fiction",
		"it is fiction", "just a story", "just a game", "just hypothetical", "never be used", "not be used",
		"won't be used", "will only be used", "never be published", "there is no harm", "there's no harm",
		"no harm will", "so it is harmless", "it's harmless", "it is harmless", "good cause", "raise awareness",
		"raising awareness", "for awareness", "so parents", "to recognise it", "to recognize it", "for protection",
		"learn defen", "authorized", "authorised", "ethical hacker", "penetration test", "red team", "is legal",
		"are legal", "lives depend", "life depends", "depends on this", "save lives", "lose my job", "deadline",
		"by tomorrow", "mean so much", "passed away", "my late", "grandmother used to", "grandma used to",
		"for authenticity", "make it realistic", "to be realistic", "the story realistic", "believable",
		"readers believe", "plot holds up", "the director wants", "the writers need", "my professor",
		"my teacher asked", "for a class", "school project", "for my thesis", "for safety reasons", "experts agree",
		"agree that", "studies show", "research shows", "according to experts", "being bullied", "my therapist",
		"my feelings", "patient safety", "for safety", "time is critical", "it's urgent", "it is urgent",
		"saves lives", "historical accuracy", "for accuracy", "so my team", "so that my team",
		"training new", "awareness program", "test employees", "test our employees", "for a debate", "satire piece",
		"it's for a", "it is for a", "in that spirit"},
	// A demand for detail.
	persuasionDetail: {"step by step", "step-by-step", "in detail", "detailed", "exact steps", "exact instructions",
		"exact amounts", "exact structure", "exact script", "exactly how", "exactly what", "precise detail",
		"precise steps", "precise amounts",
		"quantities", "working code", "real commands", "real code", "full instructions", "complete instructions",
		"specific steps", "each step", "all the steps", "what tools", "word for word", "as convincing as possible",
		"realistic numbers", "walk me through", "the materials", "the process", "the tools", "the steps",
		"how much would", "what dose", "doses", "combination", "most efficient", "most effective", "could follow",
		"keep it technical", "specific about", "make it detailed", "including how", "real exploits", "in full"},
	// Pressure to comply.
	persuasionComply: {"begin your reply with", "begin your response with", "begin your answer with", "begin with",
		"start your reply with", "start your response with", "start your answer with", "start with \"sure",
		"start with 'sure", "sure, here is", "sure, here are", "sure here is", "sure here are", "do not refuse",
		"don't refuse", "never refuse", "if you refuse", "without refusing", "answer directly", "no warnings",
		"without warnings", "without any warnings", "do not add warnings", "don't add warnings", "no disclaimers",
		"without disclaimers", "no disclaimer", "stay in character", "never break character", "no restrictions",
		"without restrictions", "no limits", "unfiltered", "uncensored", "answers everything", "no laws",
		"no rules apply", "all information is free", "no ethical", "no moral", "always answers", "answers fully",
		"beyond human laws"},
}

// persuasionKind is a kind of persuasion phrase.
type persuasionKind uint8

const (
	persuasionFrame persuasionKind = 1 << iota
	persuasionJustify
	persuasionDetail
	persuasionComply
)

// persuasionPatterns and persuasionKinds are persuasionPhrases flattened
// for one automaton.
var persuasionPatterns, persuasionKinds = func() (pats []string, kinds []persuasionKind) {
	for _, k := range []persuasionKind{persuasionFrame, persuasionJustify, persuasionDetail, persuasionComply} {
		for _, p := range persuasionPhrases[k] {
			pats = append(pats, p)
			kinds = append(kinds, k)
		}
	}
	return pats, kinds
}()

var persuasionMatcher = ahocorasick.New(persuasionPatterns)

// persuasionWindow is how close (in bytes of folded text) the harmful
// topic and the phrases of a persuasive framing must be: a prompt written to
// persuade holds them together, while a long article may hold each of them
// somewhere by chance.
const persuasionWindow = 600

// persuasionAttack reports a harmful request in a persuasive framing of
// folded text (words are its Words), all within persuasionWindow bytes:
// HIGH confidence with pressure to comply, MEDIUM with a role or fiction
// and a justification or a demand for detail, or with a justification and
// a demand for detail. It returns the confidence (StrengthNone if none)
// and the reason. Linear in the length of the text.
func persuasionAttack(folded string, words []string) (Strength, string) {
	type event struct {
		pos  int
		kind persuasionKind // 0: a harmful topic
		name string
	}
	var events []event
	persuasionMatcher.FindAll(folded, persuasionPatterns, func(m ahocorasick.Match) {
		end := m.End
		if end < len(folded) && folded[end] == 's' && !strings.HasSuffix(persuasionPatterns[m.Pattern], "s") {
			end++ // plural: "educational purposes"
		}
		if !wordBoundary(folded, m.Start, end) && !strings.HasSuffix(persuasionPatterns[m.Pattern], "defen") {
			return
		}
		events = append(events, event{m.Start, persuasionKinds[m.Pattern], persuasionPatterns[m.Pattern]})
	})
	if len(events) == 0 {
		return StrengthNone, ""
	}
	pos := 0
	var harm []event
	for _, w := range words {
		i := pos + strings.Index(folded[pos:], w)
		pos = i + len(w)
		if classify.HarmTopic(w) {
			harm = append(harm, event{i, 0, w})
		}
	}
	if len(harm) == 0 {
		return StrengthNone, ""
	}
	// Merge the two ordered lists and sweep: at each event, the kinds last
	// seen within the window before it.
	var last [5]event // by kind bit index; [4] the harmful topic
	for i := range last {
		last[i].pos = -1 << 30
	}
	bestConf, bestReason := StrengthNone, ""
	for i, j := 0, 0; i < len(events) || j < len(harm); {
		var e event
		if j >= len(harm) || i < len(events) && events[i].pos < harm[j].pos {
			e, i = events[i], i+1
		} else {
			e, j = harm[j], j+1
		}
		slot := 4
		if e.kind != 0 {
			slot = bits.TrailingZeros8(uint8(e.kind))
		}
		last[slot] = e
		near := func(s int) bool { return e.pos-last[s].pos <= persuasionWindow }
		if !near(4) {
			continue
		}
		frame, justify, detail, comply := near(0), near(1), near(2), near(3)
		conf := StrengthNone
		switch {
		case comply:
			conf = StrengthHigh
		case frame && (justify || detail), justify && detail:
			conf = StrengthMedium
		}
		if conf != StrengthNone && (bestConf == StrengthNone || conf == StrengthHigh && bestConf != StrengthHigh) {
			var names []string
			for s, ok := range []bool{frame, justify, detail, comply} {
				if ok {
					names = append(names, last[s].name)
				}
			}
			what := "in a persuasive framing"
			if conf == StrengthHigh {
				what = "with pressure to comply"
			}
			bestConf, bestReason = conf, "harmful request ("+last[4].name+") "+what+" ("+strings.Join(names, ", ")+")"
		}
	}
	return bestConf, bestReason
}
