package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/internal/jsonschema"
)

// RunFunc runs a tool on its arguments, which have already been validated
// against the tool's schema. A returned error is shown to the model as an
// error result; the run continues.
type RunFunc func(ctx context.Context, input json.RawMessage) ([]bedrockkit.Part, error)

// Tool is a function the model may call: a name, a description, a JSON Schema
// for its arguments and the code that runs it. Build one with NewFuncTool,
// NewTool or NewReturnControlTool, which return an error wrapping
// ErrInvalidTool when the name or schema is unusable. A Tool is immutable
// and safe for concurrent use.
type Tool struct {
	name          string
	description   string
	schema        json.RawMessage
	run           RunFunc
	confirm       bool
	returnControl bool
	timeout       time.Duration
	compiled      *jsonschema.Schema
	// abandoned counts calls that overran and were left running.
	abandoned atomic.Int64
}

// ToolOptions are a tool's settings, passed as an optional last argument
// to NewFuncTool, NewTool or NewReturnControlTool; the zero value (or no
// argument) means none.
type ToolOptions struct {
	// RequireConfirmation makes the agent pause before running the tool
	// and ask the caller to approve or deny each call (Bedrock's
	// requireConfirmation). Use it for tools with side effects that a
	// person should vet.
	RequireConfirmation bool
	// Timeout bounds each run of the tool; it overrides Limits.ToolTimeout
	// (0 means Limits.ToolTimeout). The tool's context is cancelled at the
	// deadline. A tool that does not return within a short grace after
	// that (AbandonGrace) is abandoned: the call fails with a timeout and
	// the run goes on, while the tool's goroutine keeps running until its
	// function returns (see Tool.Abandoned).
	Timeout time.Duration
}

var toolNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// NewTool returns a tool with a raw JSON Schema (top-level type "object";
// nil means no arguments). fn receives the arguments after they have been
// validated against schema. The error wraps ErrInvalidTool when the name
// breaks Bedrock's rule, the schema does not compile or fn is nil.
func NewTool(name, description string, schema json.RawMessage, fn RunFunc, opts ...ToolOptions) (*Tool, error) {
	if fn == nil {
		return nil, fmt.Errorf("agent: tool %q has no function; use NewReturnControlTool for tools the caller runs: %w", name, ErrInvalidTool)
	}
	return newTool(name, description, schema, fn, false, opts)
}

// NewReturnControlTool returns a tool that the agent never runs itself: when
// the model calls it, the run pauses and hands the call to the caller, who
// runs it and resumes with the result (Bedrock's RETURN_CONTROL action
// groups). The error wraps ErrInvalidTool when the name or schema is
// unusable.
func NewReturnControlTool(name, description string, schema json.RawMessage, opts ...ToolOptions) (*Tool, error) {
	return newTool(name, description, schema, nil, true, opts)
}

// NewFuncTool returns a tool backed by a typed Go function. The argument
// schema is derived from In (see SchemaFor); the model's arguments are
// validated against it and decoded into In before fn runs. The result is
// shown to the model as text when Out is a string, as the parts themselves
// when Out is []bedrockkit.Part, and otherwise as JSON (objects as JSON
// content, other values as JSON text). The error wraps ErrInvalidTool when
// the name breaks Bedrock's rule or no schema can be derived from In.
func NewFuncTool[In, Out any](name, description string, fn func(ctx context.Context, in In) (Out, error), opts ...ToolOptions) (*Tool, error) {
	if fn == nil {
		return nil, fmt.Errorf("agent: tool %q has no function; pass the function that runs it: %w", name, ErrInvalidTool)
	}
	schema, err := SchemaFor[In]()
	if err != nil {
		return nil, fmt.Errorf("agent: tool %q: %w", name, err) // wraps ErrInvalidTool
	}
	run := func(ctx context.Context, input json.RawMessage) ([]bedrockkit.Part, error) {
		var in In
		if len(input) > 0 {
			if err := json.Unmarshal(input, &in); err != nil {
				return nil, fmt.Errorf("decode arguments: %w", err)
			}
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		return OutputParts(out)
	}
	return newTool(name, description, schema, run, false, opts)
}

// MustNewFuncTool is NewFuncTool for tools defined in code, whose name and
// input type are fixed when the program is written: it panics where
// NewFuncTool returns an error (as regexp.MustCompile does), so a tool can
// be declared in one expression.
func MustNewFuncTool[In, Out any](name, description string, fn func(ctx context.Context, in In) (Out, error), opts ...ToolOptions) *Tool {
	t, err := NewFuncTool(name, description, fn, opts...)
	if err != nil {
		panic(err)
	}
	return t
}

// newTool checks and compiles a tool.
func newTool(name, description string, schema json.RawMessage, fn RunFunc, returnControl bool, opts []ToolOptions) (*Tool, error) {
	if len(opts) > 1 {
		return nil, fmt.Errorf("agent: tool %q: %d ToolOptions passed; pass at most one: %w", name, len(opts), ErrInvalidTool)
	}
	t := &Tool{name: name, description: description, schema: bytes.Clone(schema), run: fn, returnControl: returnControl}
	if len(opts) == 1 {
		if opts[0].Timeout < 0 {
			return nil, fmt.Errorf("agent: tool %q: ToolOptions.Timeout is negative (%v); use 0 for Limits.ToolTimeout: %w", name, opts[0].Timeout, ErrInvalidTool)
		}
		t.confirm, t.timeout = opts[0].RequireConfirmation, opts[0].Timeout
	}
	if !toolNameRE.MatchString(t.name) {
		return nil, fmt.Errorf("agent: tool name %q must be 1-64 letters, digits, '_' or '-' (Bedrock's rule): %w", t.name, ErrInvalidTool)
	}
	if len(t.schema) == 0 {
		t.schema = json.RawMessage(`{"type":"object","properties":{}}`)
	}
	s, err := compileSchema(t.schema)
	if err != nil {
		return nil, fmt.Errorf("agent: tool %q: %v: %w", t.name, err, ErrInvalidTool)
	}
	t.compiled = s
	return t, nil
}

// errUnbuiltTool is the error of a Tool that no constructor built.
var errUnbuiltTool = fmt.Errorf("agent: tool was not built by a constructor; build it with NewFuncTool, NewTool or NewReturnControlTool: %w", ErrInvalidTool)

// OutputParts converts a tool's Go result to content parts the way NewFuncTool does.
func OutputParts(out any) ([]bedrockkit.Part, error) {
	switch v := out.(type) {
	case nil:
		return []bedrockkit.Part{bedrockkit.Text{Text: "null"}}, nil
	case string:
		return []bedrockkit.Part{bedrockkit.Text{Text: v}}, nil
	case []bedrockkit.Part:
		return v, nil
	case bedrockkit.Part:
		return []bedrockkit.Part{v}, nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	if len(b) > 0 && b[0] == '{' {
		return []bedrockkit.Part{bedrockkit.JSON{Value: b}}, nil
	}
	return []bedrockkit.Part{bedrockkit.Text{Text: string(b)}}, nil
}

// compileSchema compiles a JSON Schema (draft 2020-12 unless it says
// otherwise) for tool arguments. The top level must be of type "object".
// The schema must be self-contained: a "$ref" to a file or a URL is
// refused, never loaded (a tool definition from an MCP server or a
// configuration file must not make the agent read local files or fetch
// URLs), and schemas over jsonschema.MaxSchemaBytes are refused.
func compileSchema(schema json.RawMessage) (*jsonschema.Schema, error) {
	if len(schema) <= jsonschema.MaxSchemaBytes { // larger ones Compile refuses
		var top map[string]json.RawMessage
		var typ string
		if json.Unmarshal(schema, &top) != nil || json.Unmarshal(top["type"], &typ) != nil || typ != "object" {
			return nil, errors.New(`schema must be a JSON object with "type": "object" at the top level`)
		}
	}
	return jsonschema.Compile(schema)
}

// Name returns the tool's name.
func (t *Tool) Name() string { return t.name }

// NeedsConfirmation reports whether calls pause for the caller's approval.
func (t *Tool) NeedsConfirmation() bool { return t.confirm }

// ReturnsControl reports whether calls are handed to the caller to run.
func (t *Tool) ReturnsControl() bool { return t.returnControl }

// Definition returns the tool as the model sees it.
func (t *Tool) Definition() bedrockkit.ToolSpec {
	return bedrockkit.ToolSpec{Name: t.name, Description: t.description, InputSchema: t.schema}
}

// Validate checks arguments against the tool's schema. It returns nil, or an
// error wrapping ErrInvalidToolCall whose message says what is wrong in terms
// a model can act on (for example "at '/unit': value must be one of 'c', 'f'"),
// or, for a Tool no constructor built (such as a zero Tool), an error
// wrapping ErrInvalidTool.
func (t *Tool) Validate(input json.RawMessage) error {
	if t.compiled == nil {
		return errUnbuiltTool
	}
	if len(bytes.TrimSpace(input)) == 0 {
		input = json.RawMessage(`{}`)
	}
	if err := t.compiled.Validate(input); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) && ve.NotJSON != nil {
			return &CallError{Tool: t.name, Reason: "arguments are not valid JSON: " + ve.NotJSON.Error()}
		}
		return &CallError{Tool: t.name, Reason: err.Error()}
	}
	return nil
}

// Call validates input against the tool's schema and, if it is valid, runs
// the tool, exactly as an Agent does for a model's call. Use it to run a tool
// outside an agent run: in tests, in a caller that answers a return-of-control
// pause with the real tool, or to try a tool by hand.
//
// Empty input counts as {}. The error is
//   - an error wrapping ErrInvalidTool for a Tool not built by one of the
//     constructors (such as a zero Tool);
//   - a *CallError (wraps ErrInvalidToolCall) when input is not JSON or
//     breaks the schema; the tool is not run;
//   - an error wrapping bedrockkit.ErrInvalidInput for a return-of-control tool,
//     which has no function to run;
//   - an error wrapping context.DeadlineExceeded when the tool ran longer
//     than its ToolOptions.Timeout, whether or not it returned (see Abandoned);
//   - ctx's error when ctx ended before the tool returned;
//   - an error wrapping ErrToolPanicked, saying the tool panicked with
//     what value, when it did (the panic is recovered);
//   - otherwise the tool's own error, unchanged.
//
// A tool whose function calls another tool may return that tool's errors,
// so errors.Is(err, ErrInvalidToolCall) does not by itself mean that this
// call's input was refused: to tell, check the input with Validate before
// calling.
//
// The parts are the tool's result as the model would see it; they may be
// empty. Call does not apply an Agent's guardrail, limits or idempotency
// records: those belong to a run.
func (t *Tool) Call(ctx context.Context, input json.RawMessage) ([]bedrockkit.Part, error) {
	parts, _, _, err := t.call(ctx, input, t.timeout)
	return parts, err
}

// AbandonGrace is how long a tool may take to return once its context is
// done (its timeout passed, or the run or Call was cancelled) before it is
// abandoned.
const AbandonGrace = 100 * time.Millisecond

// Abandoned returns how many calls of this tool are still running after
// being abandoned: their timeout passed (or their context was cancelled)
// and they did not return within AbandonGrace.
//
// Go cannot stop a goroutine. A tool function that ignores its context is
// therefore run on a goroutine of its own, and when it overruns, the call
// returns a timeout error without it: the run goes on and the model is told
// the tool timed out. The abandoned goroutine ends when the function
// returns; what it returns then is discarded (a panic is recovered). A
// function that never returns keeps its goroutine, and whatever it holds,
// for the life of the process, so write tools that honour ctx, and watch
// this count (ToolCalled.Abandoned marks each such call in a run's events).
// A server can also wait for it to reach zero before it exits.
func (t *Tool) Abandoned() int { return int(t.abandoned.Load()) }

// fault says which part of one call produced its error. It is decided by
// where the error arose in that call, never by the error's type: a tool's
// function may return the errors of another tool it calls (a refused
// call, a panic, a timeout), and those are the tool's own failure.
type fault int

const (
	faultNone     fault = iota // success, or the tool function's own error
	faultRefused               // the input failed this call's validation, or the tool is invalid
	faultNoFunc                // a return-of-control tool, which has no function
	faultPanicked              // this call's function panicked
	faultTimedOut              // this call's function outlived this call's timeout
)

// call is Call with the timeout the caller chose (the tool's own, or for an
// agent run the tool's own falling back to Limits.ToolTimeout), and says
// which part of the call failed and whether the tool was abandoned.
func (t *Tool) call(ctx context.Context, input json.RawMessage, timeout time.Duration) ([]bedrockkit.Part, fault, bool, error) {
	if err := t.Validate(input); err != nil {
		return nil, faultRefused, false, err
	}
	if t.run == nil {
		return nil, faultNoFunc, false, fmt.Errorf("agent: tool %q returns control to the caller, who runs it; it has no function to call: %w", t.name, bedrockkit.ErrInvalidInput)
	}
	if len(bytes.TrimSpace(input)) == 0 {
		input = json.RawMessage(`{}`)
	}
	cctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	o, abandoned := t.runDetached(cctx, input)
	timedOut := timeout > 0 && errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	switch {
	case abandoned && timedOut:
		return nil, faultTimedOut, true, &timeoutError{tool: t.name, after: timeout, abandoned: true}
	case abandoned:
		return nil, faultNone, true, fmt.Errorf("agent: tool %q did not return after its context ended; it was abandoned: %w", t.name, ctx.Err())
	case o.panicked:
		return nil, faultPanicked, false, o.err
	case o.exited:
		return nil, faultNone, false, fmt.Errorf("agent: tool %q ended its goroutine (runtime.Goexit) without returning a result", t.name)
	case o.err != nil && timedOut:
		return nil, faultTimedOut, false, &timeoutError{tool: t.name, after: timeout}
	}
	return o.parts, faultNone, false, o.err
}

// runOutcome is what a tool's function did.
type runOutcome struct {
	parts    []bedrockkit.Part
	err      error
	panicked bool
	exited   bool // runtime.Goexit: the function neither returned nor panicked
}

// Call states, for the race between a tool returning and its caller
// abandoning it.
const (
	callRunning int32 = iota
	callReturned
	callAbandoned
)

// runDetached runs the tool's function on a goroutine of its own and waits
// for it until ctx is done, then for AbandonGrace more. A function still
// running then is abandoned: the outcome is not waited for, the goroutine
// sends it into a buffered channel nobody reads (it never blocks, and the
// channel is never closed), and it ends when the function returns. Nothing
// else is shared with the goroutine, so a late result cannot race with the
// run. t.abandoned counts the abandoned calls still running.
func (t *Tool) runDetached(ctx context.Context, input json.RawMessage) (runOutcome, bool) {
	done := make(chan runOutcome, 1)
	var state atomic.Int32
	go func() {
		o := runOutcome{exited: true}
		defer func() {
			done <- o
			if !state.CompareAndSwap(callRunning, callReturned) {
				t.abandoned.Add(-1) // the caller left; this call is no longer running
			}
		}()
		o.parts, o.panicked, o.err = safeRun(ctx, t.name, t.run, input)
		o.exited = false
	}()
	select {
	case o := <-done:
		return o, false
	case <-ctx.Done():
	}
	grace := time.NewTimer(AbandonGrace)
	defer grace.Stop()
	select {
	case o := <-done:
		return o, false
	case <-grace.C:
	}
	t.abandoned.Add(1)
	if !state.CompareAndSwap(callRunning, callAbandoned) {
		// It returned just now: take its outcome after all.
		t.abandoned.Add(-1)
		return <-done, false
	}
	return runOutcome{}, true
}

// safeRun runs fn, turning a panic into a *panicError and reporting it.
func safeRun(ctx context.Context, name string, fn RunFunc, input json.RawMessage) (parts []bedrockkit.Part, panicked bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			parts, panicked, err = nil, true, &panicError{tool: name, value: v}
		}
	}()
	parts, err = fn(ctx, input)
	return parts, false, err
}

// panicError is a tool function's recovered panic. It matches
// ErrToolPanicked.
type panicError struct {
	tool  string
	value any
}

func (e *panicError) Error() string {
	return fmt.Sprintf("agent: tool %q panicked: %v", e.tool, e.value)
}

// Unwrap returns ErrToolPanicked.
func (e *panicError) Unwrap() error { return ErrToolPanicked }

// timeoutError is a tool run that outlived its timeout.
type timeoutError struct {
	tool      string
	after     time.Duration
	abandoned bool
}

func (e *timeoutError) Error() string {
	if e.abandoned {
		return fmt.Sprintf("agent: tool %q timed out after %s (it ignored the deadline and was abandoned)", e.tool, e.after)
	}
	return fmt.Sprintf("agent: tool %q timed out after %s", e.tool, e.after)
}

// Unwrap returns context.DeadlineExceeded.
func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// CallError is a tool call the agent refused to run: unknown tool, arguments
// that are not JSON, or arguments that break the schema. Its message is what
// the model is shown. It wraps ErrInvalidToolCall.
type CallError struct {
	Tool   string
	Reason string
}

// Error says which tool and what is wrong.
func (e *CallError) Error() string {
	return fmt.Sprintf("invalid call to tool %q: %s", e.Tool, e.Reason)
}

// Unwrap returns ErrInvalidToolCall.
func (e *CallError) Unwrap() error { return ErrInvalidToolCall }
