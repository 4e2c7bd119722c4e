package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// Stage is where a Guard looks at content.
type Stage string

// Guard stages. Bedrock guards model input and output only; the agent also
// guards tool inputs and tool results, where prompt injection arrives.
const (
	StageInput      Stage = "input"       // the user's input, before the model sees it
	StageOutput     Stage = "output"      // the model's text (the final answer, and text beside tool calls), before anyone sees it
	StageToolInput  Stage = "tool_input"  // a tool call's arguments, before the tool runs
	StageToolResult Stage = "tool_result" // a tool's result, before the model sees it
)

// Verdict is a Guard's decision on one piece of content.
type Verdict struct {
	// Blocked stops the content: the input or answer is replaced by Message,
	// text the model wrote beside tool calls is dropped, a tool call is not
	// run, a tool result is replaced by Message.
	Blocked bool
	// Text, when not empty and not blocked, replaces the content (for
	// example with PII masked).
	Text string
	// Message is shown instead of blocked content.
	Message string
	// Detail says what matched, for traces (policy names, entity types).
	Detail string
}

// Intervened reports whether the verdict blocks or rewrites content.
func (v Verdict) Intervened() bool { return v.Blocked || v.Text != "" }

// Guard inspects content at a stage. FromGuardrail turns any guardrail.Guard
// (local, remote or both) into one; GuardFunc adapts a function. An error
// ends the run.
type Guard interface {
	Check(ctx context.Context, stage Stage, text string) (Verdict, error)
}

// GuardFunc adapts a function to Guard.
type GuardFunc func(ctx context.Context, stage Stage, text string) (Verdict, error)

// Check calls f.
func (f GuardFunc) Check(ctx context.Context, stage Stage, text string) (Verdict, error) {
	return f(ctx, stage, text)
}

// GuardrailError is returned when a Guard blocked the input or the answer. It
// wraps bedrockkit.ErrGuardrailBlocked; the Result returned with it holds
// the blocked message as its Output.
type GuardrailError struct {
	Stage   Stage
	Verdict Verdict
}

// Error names the stage and what matched.
func (e *GuardrailError) Error() string {
	msg := fmt.Sprintf("agent: guardrail blocked the %s", e.Stage)
	if e.Verdict.Detail != "" {
		msg += " (" + e.Verdict.Detail + ")"
	}
	return msg
}

// Unwrap returns bedrockkit.ErrGuardrailBlocked.
func (e *GuardrailError) Unwrap() error { return bedrockkit.ErrGuardrailBlocked }

// Budget is consulted around every model call of a run, summarisation
// included. Allow runs before the call and may refuse it with an error
// wrapping bedrockkit.ErrBudgetExceeded, which ends the run with the partial
// Result; Spend records what the call used. The pricing package's budgets
// satisfy it through a small adapter.
type Budget interface {
	Allow(ctx context.Context, req *bedrockkit.Request) error
	Spend(ctx context.Context, usage bedrockkit.Usage)
}

// Passage is one piece of retrieved text.
type Passage struct {
	Text string
	// Source identifies where the text came from (a URI or document ID).
	Source string
	Score  float64
}

// Retriever finds passages relevant to a query. A knowledge base satisfies it
// through a small adapter (see RetrieverFunc).
type Retriever interface {
	Retrieve(ctx context.Context, query string, n int) ([]Passage, error)
}

// RetrieverFunc adapts a function to Retriever.
type RetrieverFunc func(ctx context.Context, query string, n int) ([]Passage, error)

// Retrieve calls f.
func (f RetrieverFunc) Retrieve(ctx context.Context, query string, n int) ([]Passage, error) {
	return f(ctx, query, n)
}

// KnowledgeBase attaches a Retriever to an agent as a search tool the model
// can call (Bedrock's knowledge-base association).
type KnowledgeBase struct {
	// Name is the tool name (letters, digits, '_' and '-').
	Name string
	// Description tells the model what the knowledge base holds and when to search it.
	Description string
	Retriever   Retriever
	// NumberOfResults is how many passages a search returns; 0 means 5.
	NumberOfResults int
}

type kbQuery struct {
	Query string `json:"query" description:"What to search for, as a self-contained question or keywords."`
}

// Tool returns the knowledge base as a tool taking {"query": "..."} and
// answering with numbered passages and their sources.
func (k KnowledgeBase) Tool() *Tool {
	n := k.NumberOfResults
	if n <= 0 {
		n = 5
	}
	desc := k.Description
	if desc == "" {
		desc = "Search the knowledge base for passages relevant to a query."
	}
	return Func(k.Name, desc, func(ctx context.Context, q kbQuery) (string, error) {
		if k.Retriever == nil {
			return "", fmt.Errorf("knowledge base %q has no retriever", k.Name)
		}
		ps, err := k.Retriever.Retrieve(ctx, q.Query, n)
		if err != nil {
			return "", err
		}
		if len(ps) == 0 {
			return "No results.", nil
		}
		var b strings.Builder
		for i, p := range ps {
			fmt.Fprintf(&b, "[%d] ", i+1)
			if p.Source != "" {
				fmt.Fprintf(&b, "(source: %s) ", p.Source)
			}
			b.WriteString(p.Text)
			b.WriteString("\n")
		}
		return b.String(), nil
	})
}
