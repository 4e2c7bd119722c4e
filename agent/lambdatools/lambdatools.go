package lambdatools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/openapitools"
)

// Defaults used when Options leaves a limit at zero.
const (
	DefaultTimeout = 60 * time.Second
	// DefaultMaxResponseBytes is Lambda's synchronous response limit.
	DefaultMaxResponseBytes = 6 << 20
)

// Invoker is the part of *lambda.Client the tools use.
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var _ Invoker = (*lambda.Client)(nil)

// Options configure an action group's tools.
type Options struct {
	// FunctionName is the Lambda function's name or ARN (required).
	FunctionName string
	// Qualifier is the version or alias to invoke; empty means $LATEST or
	// the one in the ARN.
	Qualifier string
	// ActionGroup is the action group's name sent in every event
	// (required).
	ActionGroup string
	// Agent identifies the agent in events; empty fields default to the
	// values Bedrock's test alias uses (alias "TSTALIASID", version
	// "DRAFT") and the name and ID "bedrockkit".
	Agent Agent
	// Timeout bounds each invocation; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxResponseBytes bounds the response payload; 0 means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int
	// NamePrefix goes before every tool name.
	NamePrefix string
	// ToolOptions are the settings of every tool.
	ToolOptions agent.ToolOptions
}

func (o *Options) check() error {
	if o.FunctionName == "" || o.ActionGroup == "" {
		return fmt.Errorf("lambdatools: Options.FunctionName and Options.ActionGroup are required: %w", bedrockkit.ErrInvalidInput)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.Agent.Name == "" {
		o.Agent.Name = "bedrockkit"
	}
	if o.Agent.ID == "" {
		o.Agent.ID = "bedrockkit"
	}
	if o.Agent.Alias == "" {
		o.Agent.Alias = "TSTALIASID"
	}
	if o.Agent.Version == "" {
		o.Agent.Version = "DRAFT"
	}
	return nil
}

// Function is one function of a function-details action group, as in
// Bedrock's FunctionSchema.
type Function struct {
	Name        string
	Description string
	Parameters  map[string]ParameterDetail
	// RequireConfirmation pauses the run for the caller's approval of
	// each call (Bedrock's requireConfirmation).
	RequireConfirmation bool
}

// ParameterDetail describes a function parameter (Bedrock's
// ParameterDetail).
type ParameterDetail struct {
	Description string
	// Type is "string", "number", "integer", "boolean" or "array".
	Type     string
	Required bool
}

// FunctionTools returns one tool per function of a function-details
// action group. Each call sends the function event (function, parameters
// with string values, session and prompt attributes) to the Lambda
// function and shows the model the TEXT body of its response.
func FunctionTools(client Invoker, opts Options, fns ...Function) ([]*agent.Tool, error) {
	if client == nil {
		return nil, fmt.Errorf("lambdatools: nil Lambda client: %w", bedrockkit.ErrInvalidInput)
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	var tools []*agent.Tool
	for _, fn := range fns {
		props := map[string]any{}
		var required []string
		types := map[string]string{}
		for name, p := range fn.Parameters {
			var s map[string]any
			switch p.Type {
			case "string", "number", "integer", "boolean":
				s = map[string]any{"type": p.Type}
			case "array":
				s = map[string]any{"type": "array"}
			default:
				return nil, fmt.Errorf("lambdatools: function %q parameter %q has type %q; Bedrock allows string, number, integer, boolean and array: %w", fn.Name, name, p.Type, bedrockkit.ErrInvalidInput)
			}
			if p.Description != "" {
				s["description"] = p.Description
			}
			props[name] = s
			types[name] = p.Type
			if p.Required {
				required = append(required, name)
			}
		}
		sort.Strings(required)
		schema := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			schema["required"] = required
		}
		raw, err := json.Marshal(schema)
		if err != nil {
			return nil, err
		}
		name, o := fn.Name, opts
		run := func(ctx context.Context, input json.RawMessage) ([]bedrockkit.Part, error) {
			args, err := decodeArgs(input)
			if err != nil {
				return nil, err
			}
			ev := newEvent(ctx, o)
			ev.Function = name
			for _, k := range sortedKeys(args) {
				ev.Parameters = append(ev.Parameters, Parameter{Name: k, Type: types[k], Value: stringValue(args[k])})
			}
			resp, err := invoke(ctx, client, o, ev)
			if err != nil {
				return nil, err
			}
			return functionResult(o, name, resp)
		}
		toolOpts := o.ToolOptions
		if fn.RequireConfirmation {
			toolOpts.RequireConfirmation = true
		}
		t, err := agent.NewTool(o.NamePrefix+fn.Name, fn.Description, raw, run, toolOpts)
		if err != nil {
			return nil, err
		}
		tools = append(tools, t)
	}
	return tools, nil
}

// APITools returns one tool per operation of an action group defined by
// an OpenAPI schema (the document Bedrock takes as apiSchema). Each call
// sends the API event (apiPath, httpMethod, parameters and the top-level
// properties of the JSON body, all values as strings) to the Lambda
// function and shows the model the body of its response. Operations the
// document cannot express as tools are in the report.
func APITools(client Invoker, openAPI []byte, opts Options) ([]*agent.Tool, *openapitools.Report, error) {
	if client == nil {
		return nil, nil, fmt.Errorf("lambdatools: nil Lambda client: %w", bedrockkit.ErrInvalidInput)
	}
	if err := opts.check(); err != nil {
		return nil, nil, err
	}
	doc, err := openapitools.Parse(openAPI)
	if err != nil {
		return nil, nil, err
	}
	o := opts
	return doc.Tools(openapitools.Options{
		NamePrefix:  o.NamePrefix,
		ToolOptions: o.ToolOptions,
		Invoke: func(ctx context.Context, req openapitools.Request) ([]bedrockkit.Part, error) {
			ev := newEvent(ctx, o)
			ev.APIPath, ev.HTTPMethod = req.Path, req.Method
			for _, p := range req.Parameters {
				ev.Parameters = append(ev.Parameters, Parameter{Name: p.Name, Type: p.Type, Value: stringValue(p.Value)})
			}
			if req.Body != nil {
				var props []Parameter
				if m, ok := req.Body.(map[string]any); ok {
					for _, k := range sortedKeys(m) {
						typ := req.BodyTypes[k]
						if typ == "" {
							typ = "string"
						}
						props = append(props, Parameter{Name: k, Type: typ, Value: stringValue(m[k])})
					}
				} else {
					props = []Parameter{{Name: "body", Type: "string", Value: stringValue(req.Body)}}
				}
				mt := req.MediaType
				if mt == "" {
					mt = "application/json"
				}
				ev.RequestBody = &RequestBody{Content: map[string]BodyContent{mt: {Properties: props}}}
			}
			resp, err := invoke(ctx, client, o, ev)
			if err != nil {
				return nil, err
			}
			return apiResult(o, req, resp)
		},
	})
}

// newEvent starts an event with the call's session.
func newEvent(ctx context.Context, o Options) *Event {
	ev := &Event{MessageVersion: "1.0", Agent: o.Agent, ActionGroup: o.ActionGroup,
		Parameters: []Parameter{}, SessionAttributes: map[string]string{}, PromptSessionAttributes: map[string]string{}}
	if ci, ok := agent.CallInfoFrom(ctx); ok {
		ev.SessionID = ci.SessionID
		maps.Copy(ev.SessionAttributes, ci.Attributes)
		maps.Copy(ev.PromptSessionAttributes, ci.PromptAttributes)
	}
	return ev
}

// invoke sends the event and decodes the response.
func invoke(ctx context.Context, client Invoker, o Options, ev *Event) (*Response, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("lambdatools: encode event: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	in := &lambda.InvokeInput{FunctionName: aws.String(o.FunctionName), Payload: payload, InvocationType: types.InvocationTypeRequestResponse}
	if o.Qualifier != "" {
		in.Qualifier = aws.String(o.Qualifier)
	}
	out, err := client.Invoke(ctx, in)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("the action group %s (Lambda %s) did not answer within %s: %w", o.ActionGroup, o.FunctionName, o.Timeout, context.DeadlineExceeded)
		}
		return nil, fmt.Errorf("the action group %s could not invoke its Lambda function: %v", o.ActionGroup, err)
	}
	if len(out.Payload) > o.MaxResponseBytes {
		return nil, fmt.Errorf("the action group %s answered with %d bytes, more than the %d allowed", o.ActionGroup, len(out.Payload), o.MaxResponseBytes)
	}
	if fe := aws.ToString(out.FunctionError); fe != "" {
		var le struct {
			ErrorMessage string `json:"errorMessage"`
			ErrorType    string `json:"errorType"`
		}
		_ = json.Unmarshal(out.Payload, &le)
		msg := le.ErrorMessage
		if len(msg) > 1000 {
			msg = msg[:1000] + "..."
		}
		return nil, fmt.Errorf("the action group %s failed (%s error %s): %s", o.ActionGroup, fe, le.ErrorType, msg)
	}
	dec := json.NewDecoder(bytes.NewReader(out.Payload))
	var resp Response
	if err := dec.Decode(&resp); err != nil {
		return nil, fmt.Errorf("the action group %s returned a response that is not Bedrock's Lambda response JSON: %v", o.ActionGroup, err)
	}
	if resp.MessageVersion != "1.0" {
		return nil, fmt.Errorf("the action group %s returned messageVersion %q; Bedrock expects \"1.0\"", o.ActionGroup, resp.MessageVersion)
	}
	return &resp, nil
}

// functionResult turns a function response into the tool's result.
func functionResult(o Options, name string, r *Response) ([]bedrockkit.Part, error) {
	fr := r.Response.FunctionResponse
	if fr == nil {
		return nil, fmt.Errorf("the action group %s returned no functionResponse for function %s", o.ActionGroup, name)
	}
	text, ok := fr.ResponseBody["TEXT"]
	if !ok {
		return nil, fmt.Errorf("the action group %s returned no TEXT body for function %s (function responses carry only TEXT)", o.ActionGroup, name)
	}
	switch fr.ResponseState {
	case "":
		return []bedrockkit.Part{bedrockkit.Text{Text: text.Body}}, nil
	case StateFailure:
		return nil, fmt.Errorf("the function %s failed: %s", name, text.Body)
	case StateReprompt:
		return nil, fmt.Errorf("the function %s asks you to try again: %s", name, text.Body)
	}
	return nil, fmt.Errorf("the action group %s returned the unknown responseState %q", o.ActionGroup, fr.ResponseState)
}

// apiResult turns an API response into the tool's result.
func apiResult(o Options, req openapitools.Request, r *Response) ([]bedrockkit.Part, error) {
	d := r.Response
	var body string
	var mediaType string
	keys := sortedKeys(d.ResponseBody)
	for _, k := range keys {
		if strings.Contains(k, "json") {
			mediaType = k
			break
		}
	}
	if mediaType == "" && len(keys) > 0 {
		mediaType = keys[0]
	}
	if mediaType != "" {
		body = d.ResponseBody[mediaType].Body
	}
	status := d.HTTPStatusCode
	if status == 0 {
		status = 200
	}
	if status < 200 || status > 299 {
		if len(body) > 2048 {
			body = body[:2048] + "..."
		}
		return nil, fmt.Errorf("%s %s failed with HTTP %d: %s", req.Method, req.Path, status, body)
	}
	trimmed := strings.TrimSpace(body)
	if strings.Contains(mediaType, "json") && strings.HasPrefix(trimmed, "{") && json.Valid([]byte(trimmed)) {
		return []bedrockkit.Part{bedrockkit.JSON{Value: json.RawMessage(trimmed)}}, nil
	}
	if trimmed == "" {
		trimmed = fmt.Sprintf("HTTP %d (no content)", status)
	}
	return []bedrockkit.Part{bedrockkit.Text{Text: trimmed}}, nil
}

func decodeArgs(input json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.UseNumber()
	var args map[string]any
	if err := dec.Decode(&args); err != nil {
		return nil, fmt.Errorf("arguments are not a JSON object: %v", err)
	}
	return args, nil
}

// stringValue renders an argument as Bedrock does in events: strings as
// they are, numbers and booleans as their JSON text, arrays and objects as
// JSON.
func stringValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
