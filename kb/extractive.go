package kb

import (
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/bedrockkit/bedrockkit"
)

// Extractive answers: without a Model, RetrieveAndGenerate answers with the
// retrieved passages' own sentences that best match the question, each
// cited. A question over a table ("which savings account pays the highest
// interest rate?") is answered from its rows; a row quoted for a question
// about some of its fields is trimmed to those fields.

// extractive answers question from passages, or returns NoAnswerText when
// no sentence shares a term with it.
func extractive(question string, passages []RetrievalResult) (string, []Citation) {
	if text, cits, ok := tableAnswer(question, passages); ok {
		return text, cits
	}
	q := questionTerms(question)
	sents := candidates(q, passages)
	best := scoreSentences(question, q, sents)
	if best == 0 {
		return NoAnswerText, nil
	}
	return compose(q, pickSentences(sents, best), passages)
}

// sentence is one candidate sentence of the passages.
type sentence struct {
	text    string
	passage int             // index of its passage, in rank order
	pos     int             // its place in the passage
	terms   map[string]bool // the question's terms it holds
	heading map[string]bool // the question's terms in its passage's headings
	bigrams []string        // the first terms of the question bigrams it holds in order
	score   float64
}

// lightWords are verbs and words that say little about a question's topic;
// they do not count towards a sentence's match ("Does my PIN change when I
// get a new card?" is about a PIN and a card, not about getting).
var lightWords = map[string]bool{
	"get": true, "got": true, "make": true, "take": true, "give": true, "need": true, "want": true,
	"know": true, "us": true, "there": true, "ani": true, "some": true, "much": true, "mani": true,
	"long": true, "go": true, "will": true, "is": true, "ar": true, "be": true,
}

// phoneWords ask for a phone number; they say what kind of answer is
// wanted ("What number do I call...?"), not what it is about.
var phoneWords = map[string]bool{"phone": true, "telephon": true, "number": true, "call": true}

// questionTerms returns the question's index terms in order, light words
// left out, and the words asking for a phone number when it asks for one.
func questionTerms(question string) []string {
	phone := phoneQuestionRE.MatchString(question)
	var out []string
	for _, t := range analyzeQuery(question) {
		if !lightWords[t] && !(phone && phoneWords[t]) {
			out = append(out, t)
		}
	}
	return out
}

// candidates splits the passages into sentences and notes the question
// terms each holds, in the sentence and in its passage's headings.
func candidates(q []string, passages []RetrievalResult) []*sentence {
	inQ := map[string]bool{}
	for _, t := range q {
		inQ[t] = true
	}
	bigrams := map[[2]string]bool{}
	for i := 0; i+1 < len(q); i++ {
		bigrams[[2]string{q[i], q[i+1]}] = true
	}
	var out []*sentence
	for pi, p := range passages {
		heading := map[string]bool{}
		for _, h := range headings(p) {
			for _, t := range analyze(h) {
				if inQ[t] {
					heading[t] = true
				}
			}
		}
		for j, text := range sentences(p.Text) {
			if len(text) < 12 {
				continue
			}
			s := &sentence{text: text, passage: pi, pos: j, terms: map[string]bool{}, heading: heading}
			terms := analyze(text)
			for k, t := range terms {
				if inQ[t] {
					s.terms[t] = true
				}
				if k+1 < len(terms) && bigrams[[2]string{t, terms[k+1]}] {
					s.bigrams = append(s.bigrams, t, terms[k+1])
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// headings returns the heading path of a passage's chunk, outermost first.
func headings(r RetrievalResult) []string {
	l, _ := r.Metadata[KeyHeadings].([]any)
	out := make([]string, 0, len(l))
	for _, h := range l {
		if s, ok := h.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// scoreSentences scores every sentence and returns the best score. A term
// weighs more the fewer candidate sentences hold it; a term found only in
// the sentence's headings counts half; each question bigram the sentence
// holds in order (a phrase such as "overdraft fee") adds half the weight of
// its rarer term; a question asking for a quantity prefers sentences
// holding one; higher-ranked passages are preferred.
func scoreSentences(question string, q []string, sents []*sentence) float64 {
	df := map[string]int{}
	for _, s := range sents {
		for t := range s.terms {
			df[t]++
		}
	}
	weight := func(t string) float64 { return 1 / (1 + float64(df[t])) }
	distinct := map[string]bool{}
	for _, t := range q {
		distinct[t] = true
	}
	numeric := quantityRE.MatchString(question) || phoneQuestionRE.MatchString(question)
	best := 0.0
	for _, s := range sents {
		// Sum in a fixed order: float addition in map order made equal
		// scores differ in the last bit, so answers changed between runs.
		for _, t := range slices.Sorted(maps.Keys(s.terms)) {
			s.score += weight(t)
		}
		if s.score == 0 {
			continue // a heading alone does not make a sentence an answer
		}
		for _, t := range slices.Sorted(maps.Keys(s.heading)) {
			if !s.terms[t] {
				s.score += weight(t) / 2
			}
		}
		for i := 0; i+1 < len(s.bigrams); i += 2 {
			s.score += max(weight(s.bigrams[i]), weight(s.bigrams[i+1])) / 2
		}
		boost := 1.0
		if numeric {
			boost = quantityBoost(question, s.text)
		}
		s.score *= boost
		// A sentence holding more of the question's terms answers more of
		// it: scale by the share of them it holds (in it or its headings),
		// unless it holds the very kind of quantity asked for ("Disputes
		// close within 60 days" answers "How long does it take to dispute
		// a charge?" without saying "charge").
		if boost < 2 {
			covered := len(s.terms)
			for t := range s.heading {
				if !s.terms[t] {
					covered++
				}
			}
			s.score *= float64(covered) / float64(max(len(distinct), 1))
		}
		s.score /= 1 + 0.1*float64(s.passage)
		best = max(best, s.score)
	}
	return best
}

// pickSentences returns up to three distinct sentences scoring at least
// half the best: the best first, the others in passage and reading order.
func pickSentences(sents []*sentence, best float64) []*sentence {
	sort.SliceStable(sents, func(i, j int) bool { return sents[i].score > sents[j].score })
	var picked []*sentence
	for _, s := range sents {
		if len(picked) == 3 || s.score < best/2 {
			break
		}
		dup := false
		for _, p := range picked {
			dup = dup || p.text == s.text
		}
		if !dup {
			picked = append(picked, s)
		}
	}
	rest := picked[min(1, len(picked)):]
	sort.SliceStable(rest, func(i, j int) bool {
		if rest[i].passage != rest[j].passage {
			return rest[i].passage < rest[j].passage
		}
		return rest[i].pos < rest[j].pos
	})
	return picked
}

// compose joins the picked sentences into the answer, each cited. A table
// row is trimmed to the fields the question asks about.
func compose(q []string, picked []*sentence, passages []RetrievalResult) (string, []Citation) {
	var b strings.Builder
	var cits []Citation
	for i, s := range picked {
		if i > 0 {
			b.WriteByte(' ')
		}
		text := s.text
		if rec, ok := parseRecord(text); ok {
			text = rec.trimmed(q) + "."
		}
		start := b.Len()
		b.WriteString(text)
		cits = append(cits, Citation{
			Text:    s.text,
			Span:    bedrockkit.Span{Start: start, End: b.Len()},
			Sources: []bedrockkit.CitationSource{reference(passages[s.passage])},
		})
	}
	return b.String(), cits
}

// sentences splits passage text into sentences: a sentence ends at '.',
// '!' or '?' followed by white space (not inside "3.5" or "e.g.x"), and at a
// blank line. Single line breaks inside a paragraph (hard-wrapped text)
// become spaces, except in a paragraph of "key: value" lines (a CSV row or a
// JSON record), which stays one piece with its lines joined by "; ".
// Headings are left out, whether alone in their paragraph or glued to the
// text under them by a single line break ("Failed payments\nIf a payment
// fails..."): a Markdown heading line, or a short line without final
// punctuation that follows a finished sentence and precedes a line that
// starts one.
func sentences(text string) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		lines := paragraphLines(para)
		if len(lines) == 0 {
			continue
		}
		if len(lines) > 1 && isRecord(lines) {
			out = append(out, strings.Join(lines, "; "))
			continue
		}
		if len(lines) == 1 && isHeadingLine(lines[0]) {
			continue // a heading or a label
		}
		p := strings.Join(lines, " ")
		start := 0
		for i := 0; i < len(p); i++ {
			if c := p[i]; (c == '.' || c == '!' || c == '?') && (i+1 == len(p) || p[i+1] == ' ') {
				out = append(out, strings.TrimSpace(p[start:i+1]))
				start = i + 1
			}
		}
		if rest := strings.TrimSpace(p[start:]); rest != "" {
			out = append(out, rest)
		}
	}
	return out
}

// paragraphLines returns a paragraph's lines, trimmed of list and quote
// markers, with headings left out.
func paragraphLines(para string) []string {
	raw := strings.Split(strings.TrimSpace(para), "\n")
	lines := make([]string, 0, len(raw))
	for i, l := range raw {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "#") {
			continue // a Markdown heading
		}
		l = strings.TrimSpace(strings.TrimLeft(l, ">*-|"))
		if l == "" {
			continue
		}
		// A heading over the next line's text. It follows a finished
		// sentence (or starts the paragraph): a short line inside
		// hard-wrapped text is not taken for one.
		afterSentence := len(lines) == 0 || strings.ContainsAny(lastByte(lines[len(lines)-1]), ".!?:")
		if afterSentence && i+1 < len(raw) && isHeadingLine(l) && startsSentence(strings.TrimSpace(raw[i+1])) {
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// isHeadingLine reports whether a line reads as a heading or a label: short
// (under ten words), not a "key: value" pair, and without final
// punctuation.
func isHeadingLine(l string) bool {
	if len(strings.Fields(l)) >= 10 || strings.ContainsAny(lastByte(l), ".!?:;,") {
		return false
	}
	if i := strings.Index(l, ": "); i > 0 && i < 40 {
		return false
	}
	return true
}

// startsSentence reports whether a line begins like a sentence: with an
// upper-case letter or a digit.
func startsSentence(l string) bool {
	for _, r := range l {
		return unicode.IsUpper(r) || unicode.IsDigit(r)
	}
	return false
}

func lastByte(s string) string {
	if s == "" {
		return ""
	}
	return s[len(s)-1:]
}

// isRecord reports whether most lines look like "key: value".
func isRecord(lines []string) bool {
	n := 0
	for _, l := range lines {
		if i := strings.Index(l, ": "); i > 0 && i < 40 {
			n++
		}
	}
	return n*2 > len(lines)
}

// quantityRE matches questions that ask for an amount, a duration or a date.
var quantityRE = regexp.MustCompile(`(?i)\b(how\s+(long|much|many|soon|often|fast|quickly)|when|what\s+time|deadline|cost|price|fee|rate)\b`)

// Questions asking for a time, a sum or a phone number are answered by
// sentences holding that kind of quantity, not just any number ("how long"
// is not answered by "a fee of 3%").
var (
	timeQuestionRE  = regexp.MustCompile(`(?i)\b(how\s+(long|soon|often|fast|quickly)|when|what\s+time|deadline)\b`)
	timeAnswerRE    = regexp.MustCompile(`(?i)\b(\d+|one|two|three|four|five|six|seven|ten|thirty|sixty|ninety)[\s-]+(business\s+|calendar\s+|working\s+)?(second|minute|hour|day|week|month|year)s?\b`)
	moneyQuestionRE = regexp.MustCompile(`(?i)\b(how\s+much|cost|price|fee|charge|rate|pay)\b`)
	moneyAnswerRE   = regexp.MustCompile(`[$€£¥]\s?\d|\d\s?%|\b\d+(\.\d+)?\s?(dollars|euros|pounds|cents|percent|APY|APR)\b|\bfree\b`)
	phoneQuestionRE = regexp.MustCompile(`(?i)\b(phone|telephone|call|number to call|contact)\b`)
	phoneAnswerRE   = regexp.MustCompile(`\+?\d{1,3}[\s-]\d{3}[\s-]\d{3}[\s-]\d{4}\b`)
)

// numberWordRE matches numbers written as words ("six free withdrawals").
var numberWordRE = regexp.MustCompile(`(?i)\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty|ninety|hundred|thousand|once|twice)\b`)

// hasNumber reports whether a sentence holds a number, in digits or words.
func hasNumber(sentence string) bool {
	return strings.ContainsAny(sentence, "0123456789") || numberWordRE.MatchString(sentence)
}

// quantityBoost is the factor for a sentence answering a quantity question:
// 2 when it holds the kind of quantity asked for (a duration, a sum, a
// phone number; any number for "how many"), 1.2 for another number, 1
// otherwise.
func quantityBoost(question, sentence string) float64 {
	wantTime, wantMoney, wantPhone := timeQuestionRE.MatchString(question), moneyQuestionRE.MatchString(question), phoneQuestionRE.MatchString(question)
	switch {
	case wantTime && timeAnswerRE.MatchString(sentence), wantMoney && moneyAnswerRE.MatchString(sentence),
		wantPhone && phoneAnswerRE.MatchString(sentence):
		return 2
	case !wantTime && !wantMoney && !wantPhone && hasNumber(sentence):
		return 2 // "how many": any number
	case hasNumber(sentence):
		return 1.2
	}
	return 1
}
