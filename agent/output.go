package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// RunValue runs one turn of a, whose Output must be set, and decodes the
// final answer into a T: the tools run as in Run, and the answer is the
// JSON value the model gave for Agent.Output, validated (and repaired when
// invalid, see Agent.OutputOptions) before it is decoded. T should be the
// type Output was derived from (bedrockkit.OutputSchemaFor[T]).
//
// A paused run returns the zero T, the RunResult with Pending set and a nil
// error; ResumeValue continues it to the typed value. The error is Run's
// error, a *bedrockkit.OutputError (wrapping bedrockkit.ErrInvalidOutput)
// when the answer stayed invalid after the repairs or does not decode into
// T, or a *GuardrailError when the output guardrail blocked the answer (or
// masked it into a value that no longer matches the schema). The RunResult is
// returned whenever Run returned one.
func RunValue[T any](ctx context.Context, a *Agent, sessionID, input string, opts ...RunOptions) (T, *RunResult, error) {
	if err := needsOutput(a, "RunValue"); err != nil {
		var zero T
		return zero, nil, err
	}
	res, err := a.Run(ctx, sessionID, input, opts...)
	return valueOf[T](res, err)
}

// ResumeValue is Resume for an agent with Output: it continues a paused
// run and decodes the final answer into a T, as RunValue does.
func ResumeValue[T any](ctx context.Context, a *Agent, p *Pending, decisions ...Decision) (T, *RunResult, error) {
	if err := needsOutput(a, "ResumeValue"); err != nil {
		var zero T
		return zero, nil, err
	}
	res, err := a.Resume(ctx, p, decisions...)
	return valueOf[T](res, err)
}

// DecodeOutput decodes the final answer of a finished run of an agent with
// Output (RunResult.Output, the validated JSON value) into a T: use it with
// the RunResult of Run, Resume or a stream's Finished event. A value that
// does not decode into T is a *bedrockkit.OutputError; a paused or nil
// Result is an error wrapping bedrockkit.ErrInvalidInput.
func DecodeOutput[T any](res *RunResult) (T, error) {
	var zero T
	switch {
	case res == nil:
		return zero, fmt.Errorf("agent: DecodeOutput: the result is nil: %w", bedrockkit.ErrInvalidInput)
	case res.Paused():
		return zero, fmt.Errorf("agent: DecodeOutput: the run is paused and has no answer yet; resume it (ResumeValue): %w", bedrockkit.ErrInvalidInput)
	}
	return bedrockkit.DecodeOutput[T](&bedrockkit.Response{Message: bedrockkit.AssistantText(res.Output), Usage: res.Usage})
}

func needsOutput(a *Agent, fn string) error {
	if a == nil || a.Output == nil {
		return fmt.Errorf("agent: %s needs Agent.Output, the schema of the answer; set it to bedrockkit.OutputSchemaFor[T](\"\"): %w", fn, bedrockkit.ErrInvalidInput)
	}
	return nil
}

func valueOf[T any](res *RunResult, err error) (T, *RunResult, error) {
	var zero T
	if err != nil || res == nil || res.Paused() {
		return zero, res, err
	}
	v, err := DecodeOutput[T](res)
	return v, res, err
}

// setupModel chooses the model the loop calls: Agent.Model, or for an
// agent with Output that model wrapped in bedrockkit.StructuredOutput,
// over a layer that asks the Budget before each attempt (repairs
// included) and tells it what each used.
func (r *runner) setupModel() error {
	r.model = r.a.Model
	out := r.a.Output
	if out == nil {
		return nil
	}
	if out.Name() == "" {
		return fmt.Errorf("agent: Agent.Output is a zero OutputSchema; build it with bedrockkit.OutputSchemaFor or NewOutputSchema: %w", bedrockkit.ErrInvalidInput)
	}
	if _, clash := r.tools[out.Name()]; clash {
		return fmt.Errorf("agent: a tool is named %q like Agent.Output's schema, whose name the model may see as the answer tool; rename one: %w", out.Name(), ErrInvalidTool)
	}
	r.model = bedrockkit.StructuredOutput(r.a.OutputOptions)(r.a.Model)
	return nil
}

// answerOnly drops the tool calls of a streamed message that ended with
// the validated answer (a bedrockkit.OutputValue): StructuredOutput streams
// the events of other tools called beside the answer tool, but the answer
// ends the turn and they are not run, as in Generate, where the
// middleware drops them itself.
func answerOnly(m bedrockkit.Message) bedrockkit.Message {
	out := bedrockkit.Message{Role: m.Role}
	for _, p := range m.Parts {
		if _, ok := p.(bedrockkit.ToolCall); !ok {
			out.Parts = append(out.Parts, p)
		}
	}
	return out
}

// withheldAnswer replaces a structured answer that masking made invalid.
const withheldAnswer = "The answer was withheld by a guardrail."

// guardText runs the output guardrail over the text of one model answer
// before anyone sees it: the final answer (final) or the text written
// beside tool calls. It returns the message to keep, and for a final
// answer the guardrail blocked, the *GuardrailError that ends the run.
//
// A final answer is replaced by the masked text or the blocked message.
// For an agent with Output, a masked answer must still match the schema:
// one that does not is withheld (blocked, with withheldAnswer), never
// passed on as invalid JSON. Text beside tool calls is masked, or dropped
// when blocked; the calls stay (their inputs are guarded as tool inputs).
func (r *runner) guardText(ctx context.Context, msg bedrockkit.Message, final bool) (bedrockkit.Message, *GuardrailError, error) {
	if r.a.Guardrail == nil {
		return msg, nil, nil
	}
	text := msg.Text()
	if !final && strings.TrimSpace(text) == "" {
		return msg, nil, nil
	}
	v, err := GuardText(ctx, r.a.Guardrail, StageOutput, text)
	if err != nil {
		return msg, nil, fmt.Errorf("agent: guardrail on output: %w", err)
	}
	if !v.Intervened() {
		return msg, nil, nil
	}
	if final && !v.Blocked && r.a.Output != nil {
		if verr := r.a.Output.Validate(json.RawMessage(v.Text)); verr != nil {
			detail := "the masked answer no longer matches the output schema"
			if v.Detail != "" {
				detail = v.Detail + "; " + detail
			}
			v = Intervention{Blocked: true, Message: withheldAnswer, Detail: detail}
		}
	}
	r.emit(GuardrailIntervened{Stage: StageOutput, Verdict: v})
	if final {
		if v.Blocked {
			return bedrockkit.AssistantText(v.Message), &GuardrailError{Stage: StageOutput, Verdict: v}, nil
		}
		return bedrockkit.AssistantText(v.Text), nil, nil
	}
	out := bedrockkit.Message{Role: msg.Role}
	replaced := v.Blocked
	for _, p := range msg.Parts {
		switch p.(type) {
		case bedrockkit.Text, bedrockkit.CitedText:
			if !replaced {
				out.Parts = append(out.Parts, bedrockkit.Text{Text: v.Text})
				replaced = true
			}
		default:
			out.Parts = append(out.Parts, p)
		}
	}
	return out, nil, nil
}

// withheld replaces what a guardrail did not pass in an output error.
const withheld = "(withheld by a guardrail)"

// redactOutputError keeps the answer of a *bedrockkit.OutputError away
// from callers and traces when a guardrail is set: its text and its
// violation messages (which may quote the answer) are checked as output,
// and withheld unless the guardrail passes them untouched.
func (r *runner) redactOutputError(ctx context.Context, err error) error {
	var oe *bedrockkit.OutputError
	if r.a.Guardrail == nil || !errors.As(err, &oe) {
		return err
	}
	v, gerr := GuardText(ctx, r.a.Guardrail, StageOutput, oe.Text+"\n"+oe.Details())
	if gerr == nil && !v.Intervened() {
		return err
	}
	red := *oe
	red.Text = ""
	if red.Reason != "" {
		red.Reason = withheld
	}
	red.Violations = make([]bedrockkit.OutputViolation, len(oe.Violations))
	for i := range red.Violations {
		red.Violations[i].Message = withheld
	}
	return &red
}
