package agent

import (
	"context"
	"strings"

	"github.com/bedrockkit/bedrockkit/guardrail"
)

// GuardText asks g about text at a stage of a run, as the agent does with
// its Guardrail, and reads the verdict: a BLOCK action blocks the content
// with the policy's blocked message; masking replaces the content with the
// masked text; an intervention that neither blocks nor gives masked text
// withholds the content rather than letting it through. Use it to guard
// content a program handles itself, such as a tool result of a tool called
// directly.
func GuardText(ctx context.Context, g guardrail.Guard, stage Stage, text string) (Intervention, error) {
	ctx = context.WithValue(ctx, guardStageKey{}, stage)
	if f, ok := g.(GuardFunc); ok {
		return f(ctx, stage, text)
	}
	source := guardrail.SourceInput
	if stage == StageOutput || stage == StageToolInput {
		source = guardrail.SourceOutput
	}
	res, err := g.Assess(ctx, source, guardrail.Content{Text: text})
	if err != nil {
		return Intervention{}, err
	}
	if res == nil || res.Action == guardrail.OutcomeNone {
		return Intervention{}, nil
	}
	detail := policiesOf(res)
	if detail == "" {
		detail = res.ActionReason
	}
	masked := ""
	if len(res.Outputs) > 0 {
		masked = res.Outputs[0].Text
	}
	switch {
	case res.Blocked:
		return Intervention{Blocked: true, Message: masked, Detail: detail}, nil
	case masked != "":
		return Intervention{Text: masked, Detail: detail}, nil
	default:
		return Intervention{Blocked: true, Message: "The content was withheld by a guardrail.", Detail: detail}, nil
	}
}

// policiesOf names the policies with findings, for traces.
func policiesOf(res *guardrail.Verdict) string {
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
