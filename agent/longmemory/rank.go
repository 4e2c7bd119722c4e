package longmemory

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit"
)

// validateEvent checks an event of actor before a backend stores it.
func validateEvent(actor string, ev *ConversationEvent) error {
	if err := ValidateActor(actor); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("longmemory: event: "+format+": %w", append(args, bedrockkit.ErrInvalidInput)...)
	}
	switch {
	case !validSession(ev.SessionID):
		return bad("session ID %q is not valid (1-100 letters, digits, '-', '_', starting with a letter or digit)", clip(ev.SessionID, 80))
	case ev.At.IsZero():
		return bad("has no time")
	case len(ev.Messages) == 0 || len(ev.Messages) > 100:
		return bad("has %d messages; an event holds 1 to 100", len(ev.Messages))
	}
	for i, m := range ev.Messages {
		switch m.Role {
		case RoleUser, RoleAssistant, RoleTool, RoleOther:
		default:
			return bad("message %d has role %q; use USER, ASSISTANT, TOOL or OTHER", i, clip(m.Role, 20))
		}
		if m.Text == "" || utf8.RuneCountInString(m.Text) > 100000 || !utf8.ValidString(m.Text) || strings.IndexByte(m.Text, 0) >= 0 {
			return bad("message %d must be 1 to 100,000 characters of valid text", i)
		}
	}
	return nil
}

// terms splits text into lower-case words of letters and digits, drops
// stop words and strips common English inflections, so that a question
// ("where do I live") matches a statement ("the user lives in Porto").
func terms(text string) []string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
	out := words[:0]
	for _, w := range words {
		w = strings.TrimSuffix(strings.Trim(w, "'"), "'s")
		if w == "" || stopWords[w] {
			continue
		}
		out = append(out, stem(w))
	}
	return out
}

var stopWords = map[string]bool{"a": true, "an": true, "the": true, "and": true, "or": true, "of": true, "to": true, "in": true,
	"on": true, "at": true, "for": true, "by": true, "is": true, "are": true, "was": true, "be": true, "do": true, "does": true,
	"did": true, "i": true, "me": true, "my": true, "you": true, "your": true, "it": true, "this": true, "that": true, "what": true,
	"which": true, "who": true, "how": true, "where": true, "when": true, "user": true, "with": true, "from": true, "now": true}

// stem strips common English inflections (ASCII only; other scripts are
// left as they are): lives, lived, living and live all become "liv".
func stem(w string) string {
	if len(w) < 4 {
		return w
	}
	for _, suf := range []string{"ing", "ed", "s"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
			w = w[:len(w)-len(suf)]
			break
		}
	}
	if len(w) >= 4 && strings.HasSuffix(w, "e") {
		w = w[:len(w)-1]
	}
	return w
}

// rankBM25 returns up to n of recs that share a term with query, best
// first by Okapi BM25 (k1 1.2, b 0.75) over recs as the collection.
func rankBM25(query string, recs []MemoryRecord, n int) []MemoryRecord {
	if len(recs) == 0 {
		return nil
	}
	q := map[string]bool{}
	for _, t := range terms(query) {
		q[t] = true
	}
	docs := make([]map[string]int, len(recs))
	lens := make([]int, len(recs))
	df := map[string]int{}
	total := 0
	for i, r := range recs {
		tf := map[string]int{}
		for _, t := range terms(r.Topic + " " + r.Text) {
			tf[t]++
			lens[i]++
		}
		for t := range tf {
			if q[t] {
				df[t]++
			}
		}
		docs[i] = tf
		total += lens[i]
	}
	avg := float64(total) / float64(len(recs))
	if avg == 0 {
		avg = 1
	}
	type scored struct {
		i int
		s float64
	}
	var out []scored
	N := float64(len(recs))
	for i, tf := range docs {
		s := 0.0
		for t := range q {
			f := float64(tf[t])
			if f == 0 {
				continue
			}
			idf := math.Log(1 + (N-float64(df[t])+0.5)/(float64(df[t])+0.5))
			s += idf * f * 2.2 / (f + 1.2*(0.25+0.75*float64(lens[i])/avg))
		}
		if s > 0 {
			out = append(out, scored{i, s})
		}
	}
	slices.SortStableFunc(out, func(a, b scored) int {
		switch {
		case a.s > b.s:
			return -1
		case a.s < b.s:
			return 1
		}
		return 0
	})
	res := make([]MemoryRecord, 0, min(n, len(out)))
	for _, o := range out[:min(n, len(out))] {
		r := recs[o.i]
		r.Score = o.s
		res = append(res, r)
	}
	return res
}

// rrfK is the reciprocal-rank-fusion constant.
const rrfK = 60

// fuse merges two rankings by reciprocal rank and returns the best k, with
// Score set to the fused score.
func fuse(semantic, keyword []MemoryRecord, k int) []MemoryRecord {
	score := map[string]float64{}
	byID := map[string]MemoryRecord{}
	var order []string
	add := func(list []MemoryRecord) {
		for rank, r := range list {
			if _, ok := byID[r.ID]; !ok {
				byID[r.ID] = r
				order = append(order, r.ID)
			}
			score[r.ID] += 1 / float64(rrfK+rank+1)
		}
	}
	add(semantic)
	add(keyword)
	slices.SortStableFunc(order, func(a, b string) int {
		switch {
		case score[a] > score[b]:
			return -1
		case score[a] < score[b]:
			return 1
		}
		return 0
	})
	out := make([]MemoryRecord, 0, min(k, len(order)))
	for _, id := range order[:min(k, len(order))] {
		r := byID[id]
		r.Score = score[id]
		out = append(out, r)
	}
	return out
}
