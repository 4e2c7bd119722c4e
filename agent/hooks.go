package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/guardrail"
)

// Stage is where in a run a guardrail looks at content.
type Stage string

// Guard stages. Bedrock guards model input and output only; the agent also
// guards tool inputs and tool results, where prompt injection arrives.
const (
	StageInput      Stage = "input"       // the user's input, before the model sees it
	StageOutput     Stage = "output"      // the model's text (the final answer, and text beside tool calls), before anyone sees it
	StageToolInput  Stage = "tool_input"  // a tool call's arguments, before the tool runs
	StageToolResult Stage = "tool_result" // a tool's result, before the model sees it
)

// Intervention is what the agent makes of a guardrail's verdict on one
// piece of content (or what a GuardFunc decides).
type Intervention struct {
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
func (v Intervention) Intervened() bool { return v.Blocked || v.Text != "" }

// GuardFunc adapts a function that checks one text at a stage of the run
// to guardrail.Guard, for custom checks in an Agent's Guardrail. Its
// Assess reads the stage from the context (GuardStageFrom; StageInput for
// guardrail.SourceInput and StageOutput for SourceOutput when called from
// elsewhere) and checks each content block's text in turn.
type GuardFunc func(ctx context.Context, stage Stage, text string) (Intervention, error)

// Assess checks each block of content with f and returns the first
// intervention as a guardrail verdict: blocked with the Message, or masked
// with the rewritten Text; Detail becomes the verdict's ActionReason.
func (f GuardFunc) Assess(ctx context.Context, source guardrail.Source, content ...guardrail.Content) (*guardrail.Verdict, error) {
	stage, ok := GuardStageFrom(ctx)
	if !ok {
		stage = StageInput
		if source == guardrail.SourceOutput {
			stage = StageOutput
		}
	}
	for _, c := range content {
		v, err := f(ctx, stage, c.Text)
		if err != nil {
			return nil, err
		}
		if v.Intervened() {
			return v.verdict(), nil
		}
	}
	return &guardrail.Verdict{Action: guardrail.OutcomeNone}, nil
}

// verdict is the guardrail verdict of an intervention.
func (v Intervention) verdict() *guardrail.Verdict {
	out := &guardrail.Verdict{Action: guardrail.OutcomeIntervened, ActionReason: v.Detail, Blocked: v.Blocked}
	if v.Blocked {
		out.Outputs = []guardrail.Output{{Text: v.Message}}
	} else {
		out.Outputs = []guardrail.Output{{Text: v.Text}}
	}
	return out
}

type guardStageKey struct{}

// GuardStageFrom returns the stage of the run whose content a guard is
// assessing, when the agent called it: a custom guardrail.Guard can tell a
// tool-call argument from a final answer, both guardrail.SourceOutput.
func GuardStageFrom(ctx context.Context) (Stage, bool) {
	s, ok := ctx.Value(guardStageKey{}).(Stage)
	return s, ok
}

// GuardrailError is returned when the guardrail blocked the input or the answer. It
// wraps bedrockkit.ErrGuardrailBlocked; the RunResult returned with it holds
// the blocked message as its Output.
type GuardrailError struct {
	Stage   Stage
	Verdict Intervention
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

// KnowledgeBaseTool attaches a Retriever to an agent as a search tool the model
// can call (Bedrock's knowledge-base association).
type KnowledgeBaseTool struct {
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
// answering with numbered passages and their sources. The error wraps
// ErrInvalidTool when Name breaks Bedrock's rule for tool names.
func (k KnowledgeBaseTool) Tool() (*Tool, error) {
	n := k.NumberOfResults
	if n <= 0 {
		n = 5
	}
	desc := k.Description
	if desc == "" {
		desc = "Search the knowledge base for passages relevant to a query."
	}
	return NewFuncTool(k.Name, desc, func(ctx context.Context, q kbQuery) (string, error) {
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
