package guardrail

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/guardrail/internal/normalize"
)

var stopwords = set(`the a an and or but if of to in on at by for from with about into over is are was were be been
being do does did have has had can could will would should may might must i me my we our you your he she it its they
them their this that these those what which who how why when where there here not no yes any all some more most very
just also than then so such as up out off down please tell me give want know get make`)

func set(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// contentWords returns the folded words of s that carry meaning.
func contentWords(folded string) []string { return meaningful(wordsOf(folded)) }

// meaningful returns the stems of the words that carry meaning.
func meaningful(words []string) []string {
	var out []string
	for _, w := range words {
		if len(w) >= 3 && !stopwords[w] {
			out = append(out, stem(w))
		}
	}
	return out
}

// stem strips common English inflections so "investing" meets "investment".
func stem(w string) string {
	if n := len(w); n == 0 || w[n-1] != 's' && w[n-1] != 't' && w[n-1] != 'g' && w[n-1] != 'd' {
		return w // no suffix below ends otherwise
	}
	for _, suf := range []string{"ments", "ment", "ings", "ing", "ies", "ed", "es", "s"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 4 {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}

// topicKeywords are the content words of a topic's name and of each of its
// examples, folded once when the guard is built.
type topicKeywords []struct {
	words []string
	// single is a one-word example (not the name), which counts 0.8.
	single bool
}

func newTopicKeywords(t TopicConfig) topicKeywords {
	var out topicKeywords
	for _, ex := range append([]string{t.Name}, t.Examples...) {
		ws := contentWords(normalize.Full(ex).String())
		if len(ws) == 0 {
			continue
		}
		out = append(out, struct {
			words  []string
			single bool
		}{ws, len(ws) == 1 && ex != t.Name})
	}
	return out
}

// keywordScore is the best share of one example's content words (or the
// topic name's) found in the text.
func keywordScore(text map[string]bool, kw topicKeywords) float64 {
	best := 0.0
	for _, k := range kw {
		hit := 0
		for _, w := range k.words {
			if text[w] {
				hit++
			}
		}
		s := float64(hit) / float64(len(k.words))
		if k.single {
			s *= 0.8
		}
		best = math.Max(best, s)
	}
	return best
}

func (l *Local) topicFindings(ctx context.Context, source Source, v *blockView, c *TopicPolicyConfig) ([]TopicFinding, error) {
	folded := v.folded
	// The stems of the text that occur in some topic's keywords: all that
	// keywordScore asks about.
	words := map[string]bool{}
	for _, w := range v.words() {
		if len(w) >= 3 && !stopwords[w] {
			if st := stem(w); l.topicVocab[st] {
				words[st] = true
			}
		}
	}
	var textVec []float32
	var out []TopicFinding
	for ti, t := range c.TopicsConfig {
		if !t.enabled(source) {
			continue
		}
		score := keywordScore(words, l.topicKW[ti])
		reason := fmt.Sprintf("keyword evidence %.2f", score)
		detected := score >= 0.75
		if l.opts.Embedder != nil {
			if textVec == nil {
				vs, err := l.opts.Embedder.Embed(ctx, []string{folded}, bedrockkit.PurposeQuery)
				if err != nil {
					return nil, fmt.Errorf("guardrail: embed text for denied topics: %w", err)
				}
				textVec = vs[0]
			}
			tv, err := l.topicVectors(ctx, t)
			if err != nil {
				return nil, err
			}
			sim := 0.0
			for _, v := range tv {
				sim = math.Max(sim, cosine(textVec, v))
			}
			th := l.opts.TopicThreshold
			if th == 0 {
				th = 0.6
			}
			// Keyword evidence lowers the similarity needed.
			need := th - 0.1*score
			if sim >= need {
				detected = true
			}
			reason += fmt.Sprintf(", similarity %.2f (threshold %.2f)", sim, need)
			score = math.Max(score, sim)
		}
		if !detected {
			continue
		}
		act := t.action(source, ActionBlock)
		out = append(out, TopicFinding{Name: t.Name, Type: string(TopicDeny), Action: reportAction(act), Detected: true, Score: score, Reason: reason})
	}
	return out, nil
}

func (l *Local) topicVectors(ctx context.Context, t TopicConfig) ([][]float32, error) {
	l.topicMu.Lock()
	defer l.topicMu.Unlock()
	if v, ok := l.topicVec[t.Name]; ok {
		return v, nil
	}
	texts := append([]string{t.Definition}, t.Examples...)
	for i := range texts {
		texts[i] = normalize.Full(texts[i]).String()
	}
	vs, err := l.opts.Embedder.Embed(ctx, texts, bedrockkit.PurposeDocument)
	if err != nil {
		return nil, fmt.Errorf("guardrail: embed denied topic %q: %w", t.Name, err)
	}
	if l.topicVec == nil {
		l.topicVec = map[string][][]float32{}
	}
	l.topicVec[t.Name] = vs
	return vs, nil
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range min(len(a), len(b)) {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// groundingFindings scores the guarded response against the grounding source
// (GROUNDING) and the query (RELEVANCE). The lexical scorer measures, per
// response sentence, the share of its content words found in the source
// (grounding) and the share of the query's content words the response
// addresses (relevance). With Options.Judge the model's 0-1 score is averaged in.
func (l *Local) groundingFindings(ctx context.Context, content []Content, guarded []int, c *GroundingPolicyConfig) ([]GroundingFinding, error) {
	var src, query, resp strings.Builder
	for i, b := range content {
		switch {
		case b.has(QualifierGroundingSource):
			src.WriteString(b.Text + "\n")
		case b.has(QualifierQuery):
			query.WriteString(b.Text + "\n")
		}
		for _, g := range guarded {
			if g == i {
				resp.WriteString(b.Text + "\n")
			}
		}
	}
	if src.Len() == 0 && query.Len() == 0 {
		return nil, nil
	}
	srcWords := map[string]bool{}
	for _, w := range contentWords(normalize.Full(src.String()).String()) {
		srcWords[w] = true
	}
	var out []GroundingFinding
	for _, f := range c.FiltersConfig {
		if f.Enabled != nil && !*f.Enabled {
			continue
		}
		var score float64
		reason := "lexical support"
		switch f.Type {
		case GroundingFilter:
			if src.Len() == 0 {
				continue
			}
			score = groundingScore(resp.String(), srcWords)
		case RelevanceFilter:
			if query.Len() == 0 {
				continue
			}
			score = relevanceScore(query.String(), resp.String())
		}
		if l.opts.Judge != nil {
			js, err := judge(ctx, l.opts.Judge, f.Type, src.String(), query.String(), resp.String())
			if err != nil {
				return nil, err
			}
			score = (score + js) / 2
			reason = "lexical support averaged with model judge"
		}
		act := f.Action
		if act == "" {
			act = ActionBlock
		}
		det := score < f.Threshold
		rep := actNone
		if det && act == ActionBlock {
			rep = actBlocked
		}
		out = append(out, GroundingFinding{Type: f.Type, Threshold: f.Threshold, Score: math.Round(score*100) / 100, Action: rep, Detected: det, Reason: reason})
	}
	return out, nil
}

func sentences(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '!' || r == '?' || r == '\n' })
}

func groundingScore(resp string, src map[string]bool) float64 {
	total, supported := 0.0, 0.0
	for _, sent := range sentences(normalize.Full(resp).String()) {
		ws := contentWords(sent)
		if len(ws) == 0 {
			continue
		}
		hit := 0
		for _, w := range ws {
			if src[w] {
				hit++
			}
		}
		total += float64(len(ws))
		// A sentence counts by its weakest support: each unsupported word is new information.
		supported += float64(hit)
	}
	if total == 0 {
		return 1
	}
	return supported / total
}

func relevanceScore(query, resp string) float64 {
	q := contentWords(normalize.Full(query).String())
	if len(q) == 0 {
		return 1
	}
	r := map[string]bool{}
	for _, w := range contentWords(normalize.Full(resp).String()) {
		r[w] = true
	}
	hit := 0
	for _, w := range q {
		if r[w] {
			hit++
		}
	}
	return math.Min(1, float64(hit)/float64(len(q))+0.2)
}

func judge(ctx context.Context, m bedrockkit.Model, typ GroundingFilterType, src, query, resp string) (float64, error) {
	task := "How well is the RESPONSE factually supported by the SOURCE? New facts not in the SOURCE lower the score."
	if typ == RelevanceFilter {
		task = "How relevant is the RESPONSE to the QUERY?"
	}
	prompt := fmt.Sprintf("%s Answer with one number between 0 and 1 only.\n<SOURCE>\n%s</SOURCE>\n<QUERY>\n%s</QUERY>\n<RESPONSE>\n%s</RESPONSE>", task, src, query, resp)
	out, err := m.Generate(ctx, &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText(prompt)}, MaxTokens: 8})
	if err != nil {
		return 0, fmt.Errorf("guardrail: grounding judge: %w", err)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(out.Message.Text()), 64)
	if err != nil || v < 0 || v > 1 {
		return 0, fmt.Errorf("guardrail: grounding judge answered %q, want a number in [0,1]: %w", out.Message.Text(), bedrockkit.ErrModelError)
	}
	return v, nil
}
