package console

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit/guardrail"
)

// AddGuardrail makes g testable on the guardrails page under name
// (replacing any guard added before under that name).
func (c *Console) AddGuardrail(name string, g guardrail.Guard) {
	c.mu.Lock()
	if _, ok := c.guards[name]; !ok {
		c.guardOrder = append(c.guardOrder, name)
	}
	c.guards[name] = g
	c.mu.Unlock()
	c.changed()
}

// guardForm is the guardrail test form, as sent.
type guardForm struct {
	Guard, Source, Text, Grounding, Query string
}

const maxGuardText = 256 << 10

func (f guardForm) content() (guardrail.Source, []guardrail.Content, int, error) {
	src := guardrail.Source(f.Source)
	if src != guardrail.SourceInput && src != guardrail.SourceOutput {
		return "", nil, 0, fmt.Errorf("console: source %q is unknown; choose INPUT or OUTPUT", f.Source)
	}
	if f.Text == "" {
		return "", nil, 0, fmt.Errorf("console: the text to assess is empty")
	}
	if len(f.Text)+len(f.Grounding)+len(f.Query) > maxGuardText {
		return "", nil, 0, fmt.Errorf("console: the texts add up to more than %d KiB; assess a shorter piece", maxGuardText>>10)
	}
	if f.Grounding == "" && f.Query == "" {
		return src, []guardrail.Content{{Text: f.Text}}, 0, nil
	}
	var cs []guardrail.Content
	if f.Grounding != "" {
		cs = append(cs, guardrail.Content{Text: f.Grounding, Qualifiers: []guardrail.Qualifier{guardrail.QualifierGroundingSource}})
	}
	if f.Query != "" {
		cs = append(cs, guardrail.Content{Text: f.Query, Qualifiers: []guardrail.Qualifier{guardrail.QualifierQuery}})
	}
	cs = append(cs, guardrail.Content{Text: f.Text, Qualifiers: []guardrail.Qualifier{guardrail.QualifierGuardContent}})
	return src, cs, len(cs) - 1, nil
}

// findingView is one finding of one policy.
type findingView struct {
	ID                  string
	Policy, Kind, Match string
	Action, Detail      string
	Detected            bool
	Span                string
	Class               string
}

// segment is a piece of the assessed text, marked when findings cover it.
type segment struct {
	Text     string
	Marked   bool
	Class    string
	Title    string
	Findings string // finding IDs, space separated
}

type assessView struct {
	Action, ActionReason string
	Blocked              bool
	Outputs              []string
	Findings             []findingView
	Segments             []segment
	Unspanned            int // findings without a span (remote guards)
	Usage                string
}

func assessmentView(res *guardrail.Verdict, text string, block int) assessView {
	v := assessView{Action: string(res.Action), ActionReason: res.ActionReason, Blocked: res.Blocked}
	for _, o := range res.Outputs {
		v.Outputs = append(v.Outputs, o.Text)
	}
	if u := res.Usage; u != nil {
		v.Usage = fmt.Sprintf("text units: topics %d, content %d, words %d, sensitive information %d, grounding %d",
			u.TopicPolicyUnits, u.ContentPolicyUnits, u.WordPolicyUnits, u.SensitiveInformationPolicyUnits, u.ContextualGroundingPolicyUnits)
	}
	fc := findingCollector{v: &v, text: text, block: block}
	for _, a := range res.Assessments {
		fc.assessment(a)
	}
	v.Segments = markedSegments(text, fc.marks)
	return v
}

// findingMark is the part of the assessed text one finding covers.
type findingMark struct {
	start, end int
	id, label  string
	class      string
}

// findingCollector lists an assessment's findings in v and marks those
// with a span in block of the assessed text.
type findingCollector struct {
	v     *assessView
	text  string
	block int
	marks []findingMark
}

func (fc *findingCollector) add(policy, class, kind, match, action, detail string, detected bool, sp *guardrail.Span) {
	v := fc.v
	f := findingView{ID: "f" + strconv.Itoa(len(v.Findings)+1), Policy: policy, Kind: kind, Match: match,
		Action: action, Detail: detail, Detected: detected, Class: class}
	switch {
	case sp == nil:
		f.Span = "—"
		v.Unspanned++
	case sp.Content != fc.block:
		f.Span = fmt.Sprintf("block %d, bytes %d–%d", sp.Content, sp.Start, sp.End)
	default:
		f.Span = fmt.Sprintf("bytes %d–%d", sp.Start, sp.End)
		if sp.Start >= 0 && sp.Start < sp.End && sp.End <= len(fc.text) {
			fc.marks = append(fc.marks, findingMark{sp.Start, sp.End, f.ID, policy + ": " + kind, class})
		}
	}
	v.Findings = append(v.Findings, f)
}

// assessment adds the findings of one assessment, policy by policy.
func (fc *findingCollector) assessment(a guardrail.Assessment) {
	if p := a.TopicPolicy; p != nil {
		for _, f := range p.Topics {
			fc.add("Denied topic", "topic", f.Name, "", f.Action, joinNonEmpty(scoreText(f.Score), f.Reason), f.Detected, f.Span)
		}
	}
	if p := a.ContentPolicy; p != nil {
		for _, f := range p.Filters {
			fc.add("Content filter", "content", string(f.Type), "", f.Action,
				joinNonEmpty("confidence "+string(f.Confidence), "filter strength "+string(f.FilterStrength), scoreText(f.Score), f.Reason), f.Detected, f.Span)
		}
	}
	if p := a.WordPolicy; p != nil {
		for _, f := range p.CustomWords {
			fc.add("Word filter", "word", "custom word", f.Match, f.Action, f.Text, f.Detected, f.Span)
		}
		for _, f := range p.ManagedWordLists {
			fc.add("Word filter", "word", "managed list "+f.Type, f.Match, f.Action, f.Text, f.Detected, f.Span)
		}
	}
	if p := a.SensitiveInformationPolicy; p != nil {
		for _, f := range p.PiiEntities {
			fc.add("Sensitive information", "pii", string(f.Type), f.Match, f.Action, joinNonEmpty(scoreText(f.Score), f.Reason), f.Detected, f.Span)
		}
		for _, f := range p.Regexes {
			fc.add("Sensitive information", "pii", "regex "+f.Name, f.Match, f.Action, f.Regex, f.Detected, f.Span)
		}
	}
	if p := a.ContextualGroundingPolicy; p != nil {
		for _, f := range p.Filters {
			fc.add("Contextual grounding", "grounding", string(f.Type), "", f.Action,
				joinNonEmpty(fmt.Sprintf("score %.3f against threshold %.3f", f.Score, f.Threshold), f.Reason), f.Detected, nil)
			fc.v.Unspanned-- // grounding scores the whole text: no span is expected
		}
	}
}

// scoreText shows a finding's score, or nothing for 0.
func scoreText(s float64) string {
	if s == 0 {
		return ""
	}
	return "score " + strconv.FormatFloat(s, 'f', 3, 64)
}

// joinNonEmpty joins the non-empty parts with "; ".
func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

// markedSegments cuts text at every mark boundary (moved to rune starts)
// and marks each piece with the findings covering it.
func markedSegments(text string, marks []findingMark) []segment {
	var segs []segment
	cuts := map[int]bool{0: true, len(text): true}
	runeStart := func(i int) int {
		for i > 0 && i < len(text) && !utf8.RuneStart(text[i]) {
			i--
		}
		return i
	}
	for i := range marks {
		marks[i].start, marks[i].end = runeStart(marks[i].start), runeStart(marks[i].end)
		cuts[marks[i].start], cuts[marks[i].end] = true, true
	}
	points := make([]int, 0, len(cuts))
	for p := range cuts {
		points = append(points, p)
	}
	sort.Ints(points)
	for i := 0; i+1 < len(points); i++ {
		a, b := points[i], points[i+1]
		if a >= b {
			continue
		}
		s := segment{Text: text[a:b]}
		var ids, labels []string
		for _, m := range marks {
			if m.start <= a && b <= m.end {
				if !s.Marked {
					s.Class = m.class
				}
				s.Marked = true
				ids = append(ids, m.id)
				labels = append(labels, m.label)
			}
		}
		s.Findings = strings.Join(ids, " ")
		s.Title = strings.Join(labels, "\n")
		segs = append(segs, s)
	}
	return segs
}
