package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// HistoryLimits bound the history sent to the model. When the tokens of a
// session's history, estimated as pricing.EstimateRequest does (about four
// bytes a token), exceed MaxTokens, the older turns are summarised by the
// agent's model into Session.Summary (which is sent in the system prompt)
// and dropped, keeping the latest KeepTurns turns verbatim.
type HistoryLimits struct {
	// MaxTokens is the history budget; 0 disables summarisation.
	MaxTokens int
	// KeepTurns is how many recent turns stay verbatim; 0 means 2.
	KeepTurns int
	// Prompt is the summarisation instruction; empty means a default.
	Prompt string
}

const defaultSummaryPrompt = "Summarize the conversation below for your own later use. Keep facts, names, numbers, decisions, tool results that matter and open questions. Write plain prose, at most a few paragraphs."

// historyTokens estimates the tokens of messages exactly as
// pricing.EstimateRequest does for a request holding only them (one token
// per started four bytes of each text, tool input and result, four per
// message, a flat 1,600 per image), without importing pricing and its price
// catalog, which running an agent does not need. A test holds the two equal.
func historyTokens(ms []bedrockkit.Message) int {
	n := 0
	for _, m := range ms {
		n += 4 + partsTokens(m.Parts)
	}
	return n
}

func estimateText(s string) int { return (len(s) + 3) / 4 }

func partsTokens(ps []bedrockkit.Part) int {
	n := 0
	for _, p := range ps {
		switch p := p.(type) {
		case bedrockkit.Text:
			n += estimateText(p.Text)
		case bedrockkit.ToolCall:
			n += estimateText(p.Name) + estimateText(string(p.Input))
		case bedrockkit.ToolResult:
			n += partsTokens(p.Parts)
		case bedrockkit.JSON:
			n += estimateText(string(p.Value))
		case bedrockkit.Reasoning:
			n += estimateText(p.Text)
		case bedrockkit.Document:
			n += estimateText(p.Name) + estimateText(p.Text) + (len(p.Bytes)+3)/4
		case bedrockkit.Image:
			n += 1600
		}
	}
	return n
}

// turnStarts returns the indexes of messages that start a turn: user
// messages with text and no tool results.
func turnStarts(ms []bedrockkit.Message) []int {
	var out []int
	for i, m := range ms {
		if m.Role != bedrockkit.RoleUser {
			continue
		}
		hasResult := false
		for _, p := range m.Parts {
			if _, ok := p.(bedrockkit.ToolResult); ok {
				hasResult = true
				break
			}
		}
		if !hasResult {
			out = append(out, i)
		}
	}
	return out
}

// summarize folds old history into the summary when it is over budget.
func (r *runner) summarize(ctx context.Context) error {
	h := r.a.History
	if h.MaxTokens <= 0 || historyTokens(r.sess.Messages) <= h.MaxTokens {
		return nil
	}
	keep := h.KeepTurns
	if keep <= 0 {
		keep = 2
	}
	starts := turnStarts(r.sess.Messages)
	if len(starts) <= keep {
		return nil
	}
	cut := starts[len(starts)-keep]
	old := r.sess.Messages[:cut]
	var b strings.Builder
	if r.sess.Summary != "" {
		fmt.Fprintf(&b, "Earlier summary:\n%s\n\n", r.sess.Summary)
	}
	b.WriteString("Conversation:\n")
	for _, m := range old {
		for _, p := range m.Parts {
			switch p := p.(type) {
			case bedrockkit.Text:
				fmt.Fprintf(&b, "%s: %s\n", m.Role, p.Text)
			case bedrockkit.ToolCall:
				fmt.Fprintf(&b, "%s called %s(%s)\n", m.Role, p.Name, p.Input)
			case bedrockkit.ToolResult:
				fmt.Fprintf(&b, "tool result: %s\n", bedrockkit.Message{Parts: p.Parts}.Text())
			}
		}
	}
	prompt := h.Prompt
	if prompt == "" {
		prompt = defaultSummaryPrompt
	}
	req := &bedrockkit.Request{
		System:    []bedrockkit.Part{bedrockkit.Text{Text: prompt}},
		Messages:  []bedrockkit.Message{bedrockkit.UserText(b.String())},
		MaxTokens: r.a.Inference.MaxTokens,
	}
	resp, err := r.a.Model.Generate(ctx, req)
	if err != nil {
		return fmt.Errorf("agent: summarise history of session %q: %w", r.sess.ID, err)
	}
	r.usage = r.usage.Add(resp.Usage)
	summary := strings.TrimSpace(resp.Message.Text())
	if summary == "" {
		return fmt.Errorf("agent: summarise history of session %q: the model returned no text: %w", r.sess.ID, bedrockkit.ErrModelError)
	}
	r.sess.Summary = summary
	r.sess.Messages = append([]bedrockkit.Message(nil), r.sess.Messages[cut:]...)
	r.emit(Summarized{Messages: cut, Usage: resp.Usage})
	return nil
}
