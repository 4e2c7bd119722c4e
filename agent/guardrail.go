package agent

import (
	"context"
	"strings"

	"github.com/bedrockkit/bedrockkit/guardrail"
)

// FromGuardrail adapts a guardrail.Guard (guardrail.NewLocal, NewRemote or
// Both) to the agent's Guard hook, so one policy guards the user's input,
// the final answer, tool-call arguments and tool results — the last two are
// what Bedrock's own guardrails leave unchecked.
//
// User input and tool results are assessed as guardrail.SourceInput (the
// model reads them); the model's text (the final answer, and text beside
// tool calls) and tool-call arguments as guardrail.SourceOutput (the model
// wrote them). A BLOCK action blocks the
// content with the policy's blocked message; masking replaces the content
// with the masked text. An intervention that neither blocks nor gives masked
// text withholds the content rather than letting it through.
func FromGuardrail(g guardrail.Guard) Guard {
	return guardrailGuard{g: g}
}

type guardrailGuard struct{ g guardrail.Guard }

func (gg guardrailGuard) Check(ctx context.Context, stage Stage, text string) (Verdict, error) {
	source := guardrail.SourceInput
	if stage == StageOutput || stage == StageToolInput {
		source = guardrail.SourceOutput
	}
	res, err := gg.g.Assess(ctx, source, guardrail.Content{Text: text})
	if err != nil {
		return Verdict{}, err
	}
	if res.Action == guardrail.OutcomeNone {
		return Verdict{}, nil
	}
	detail := policiesOf(res)
	masked := ""
	if len(res.Outputs) > 0 {
		masked = res.Outputs[0].Text
	}
	switch {
	case res.Blocked:
		return Verdict{Blocked: true, Message: masked, Detail: detail}, nil
	case masked != "":
		return Verdict{Text: masked, Detail: detail}, nil
	default:
		return Verdict{Blocked: true, Message: "The content was withheld by a guardrail.", Detail: detail}, nil
	}
}

// policiesOf names the policies with findings, for traces.
func policiesOf(res *guardrail.Result) string {
	var names []string
	for _, a := range res.Assessments {
		if a.TopicPolicy != nil {
			names = append(names, "topics")
		}
		if a.ContentPolicy != nil {
			names = append(names, "content")
		}
		if a.WordPolicy != nil {
			names = append(names, "words")
		}
		if a.SensitiveInformationPolicy != nil {
			names = append(names, "sensitive information")
		}
		if a.ContextualGroundingPolicy != nil {
			names = append(names, "grounding")
		}
	}
	return strings.Join(names, ", ")
}
