package bedrockkit

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

// ConverseAPI is the part of *bedrockruntime.Client that ConverseModel uses.
type ConverseAPI interface {
	Converse(ctx context.Context, in *bedrockruntime.ConverseInput, optFns ...func(*bedrockruntime.Options)) (*bedrockruntime.ConverseOutput, error)
	ConverseStream(ctx context.Context, in *bedrockruntime.ConverseStreamInput, optFns ...func(*bedrockruntime.Options)) (*bedrockruntime.ConverseStreamOutput, error)
}

// DefaultIdleTimeout is how long a stream may send nothing before
// ConverseModel gives up on it.
const DefaultIdleTimeout = 60 * time.Second

// ConverseOptions configures a ConverseModel. The zero value is usable.
type ConverseOptions struct {
	// Retry is applied to Converse calls and to opening a stream. The SDK's
	// own retryer is disabled for these calls so attempts are not multiplied.
	Retry RetryPolicy
	// IdleTimeout ends a stream that sends no event for this long, with an
	// error wrapping ErrStreamIdle. 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// AdditionalResponseFieldPaths are JSON Pointers (such as "/stop_sequence")
	// into the model's native response; the values come back in
	// Response.AdditionalFields and Stop.AdditionalFields.
	AdditionalResponseFieldPaths []string
	// BaseModel declares the foundation model behind an identifier that hides
	// it (an application inference profile or provisioned model ARN), such
	// as "anthropic.claude-3-7-sonnet-20250219-v1:0". It is used for
	// capabilities only; requests still go to the configured model ID.
	BaseModel string
	// NoCapabilityCheck turns off the local checks against the capability
	// table (tool choice, images, documents, tool caching), leaving Bedrock
	// to decide. Use it for models newer than the table.
	NoCapabilityCheck bool
	// Strict makes a response block or stream event that bedrockkit cannot
	// represent (video, audio, search results, members newer than the SDK)
	// an error wrapping ErrUnsupported. By default such content is skipped.
	Strict bool
	// OutputTechnique chooses how requests with Request.Output are sent:
	// OutputAuto (the default) sends the schema natively
	// (outputConfig.textFormat) to models whose capabilities say they
	// support it, and uses a forced answer tool otherwise or once Bedrock
	// has refused the native schema for this model; OutputNative and
	// OutputForcedTool force one technique.
	OutputTechnique OutputTechnique
}

// ConverseModel is a Model backed by Amazon Bedrock's Converse and
// ConverseStream APIs. It is safe for concurrent use.
//
// Requests are checked locally first for what Bedrock would reject (no
// messages, roles that do not alternate, a tool schema that is not an
// object, a tool choice naming an unknown tool, an image or document without
// exactly one source, more than four cache points, ...); those errors wrap
// ErrInvalidInput, or ErrUnsupported when the capability table says the
// model cannot do what is asked. Service errors are *APIError values
// wrapping a class sentinel such as ErrThrottled or ErrValidation.
//
// Requests with Request.Output get the JSON value as the response's text:
// see ConverseOptions.OutputTechnique. The value is not validated here;
// wrap the model with StructuredOutput (or call GenerateValue) for
// validation and repairs.
type ConverseModel struct {
	client  ConverseAPI
	id      ModelID
	caps    Capabilities
	opts    ConverseOptions
	checked bool
	// nativeRefused is set once Bedrock refused a native output schema for
	// this model; later requests use the forced answer tool.
	nativeRefused atomic.Bool
}

var (
	_ Model         = (*ConverseModel)(nil)
	_ OutputCapable = (*ConverseModel)(nil)
	_ TokenCounter  = (*ConverseModel)(nil)
)

// SupportsOutput reports true: ConverseModel honours Request.Output.
func (m *ConverseModel) SupportsOutput() bool { return true }

// NewConverseModel returns a Model that calls modelID through client
// (usually a *bedrockruntime.Client, see NewRuntimeClient). A nil client
// means the default AWS configuration, as NewRuntimeClient with zero
// options: the Region from AWS_REGION or the shared config file, and the
// standard credential chain (environment, shared files, SSO, web identity,
// container and instance roles) or a Bedrock API key from
// AWS_BEARER_TOKEN_BEDROCK; credentials are resolved at the first call.
// modelID may be a base model ID, a cross-Region inference profile ID or an
// ARN (see ParseModelID).
//
// It fails, wrapping ErrInvalidInput, for a nil client when no Region is
// configured, a nil *bedrockruntime.Client, a malformed model ID, bad
// options or a bare base-model ID of a model that the capability table says
// needs an inference profile (Claude 3.7 and 4.x, Llama 3.2+, ...), and,
// wrapping ErrUnsupported, for identifiers Converse cannot serve (imported
// models, prompt ARNs, embedding models).
func NewConverseModel(client ConverseAPI, modelID string, opts ConverseOptions) (*ConverseModel, error) {
	if c, ok := client.(*bedrockruntime.Client); ok && c == nil {
		return nil, fmt.Errorf("bedrockkit: NewConverseModel was given a nil *bedrockruntime.Client; pass a client from NewRuntimeClient, or an untyped nil for the default AWS configuration: %w", ErrInvalidInput)
	}
	id, err := ParseModelID(modelID)
	if err != nil {
		return nil, err
	}
	switch id.Kind {
	case KindImportedModel:
		return nil, fmt.Errorf("bedrockkit: model %s is an imported model, which Converse does not serve; call it with InvokeModel: %w", modelID, ErrUnsupported)
	case KindPrompt:
		return nil, fmt.Errorf("bedrockkit: model %s is a Prompt management ARN; ConverseModel sends system prompts, tools and inference settings, which Bedrock forbids with prompt ARNs: %w", modelID, ErrUnsupported)
	}
	if isEmbeddingModel(id.BaseModel) {
		return nil, fmt.Errorf("bedrockkit: %s is an embedding model; use NewTitanEmbedder or NewCohereEmbedder: %w", modelID, ErrUnsupported)
	}
	if opts.IdleTimeout < 0 {
		return nil, fmt.Errorf("bedrockkit: ConverseOptions.IdleTimeout is %s; use 0 for the default (%s) or a positive duration: %w", opts.IdleTimeout, DefaultIdleTimeout, ErrInvalidInput)
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	opts.AdditionalResponseFieldPaths = append([]string(nil), opts.AdditionalResponseFieldPaths...)
	for _, p := range opts.AdditionalResponseFieldPaths {
		if len(p) == 0 || p[0] != '/' {
			return nil, fmt.Errorf("bedrockkit: additional response field path %q must be a JSON Pointer starting with '/': %w", p, ErrInvalidInput)
		}
	}
	caps := CapabilitiesOf(id)
	if opts.BaseModel != "" {
		base, err := ParseModelID(opts.BaseModel)
		if err != nil {
			return nil, fmt.Errorf("bedrockkit: ConverseOptions.BaseModel: %w", err)
		}
		if base.BaseModel == "" {
			return nil, fmt.Errorf("bedrockkit: ConverseOptions.BaseModel %q must name a foundation model, such as anthropic.claude-3-7-sonnet-20250219-v1:0: %w", opts.BaseModel, ErrInvalidInput)
		}
		caps = CapabilitiesOf(base)
	}
	if !opts.NoCapabilityCheck && id.Kind == KindFoundationModel && caps.Known && caps.NeedsInferenceProfile {
		return nil, fmt.Errorf("bedrockkit: %s (%s) is served on demand only through an inference profile; use a geography-prefixed ID such as us.%s (or eu., apac., global.), or set ConverseOptions.NoCapabilityCheck if your account has it on demand: %w", modelID, caps.Family, id.BaseModel, ErrInvalidInput)
	}
	if client == nil {
		c, err := defaultRuntimeClient("NewConverseModel")
		if err != nil {
			return nil, err
		}
		client = c
	}
	return &ConverseModel{client: client, id: id, caps: caps, opts: opts, checked: !opts.NoCapabilityCheck}, nil
}

func isEmbeddingModel(base string) bool {
	for _, p := range []string{"amazon.titan-embed", "cohere.embed", "amazon.nova-2-multimodal-embeddings", "twelvelabs.marengo"} {
		if strings.HasPrefix(base, p) {
			return true
		}
	}
	return false
}

// ModelID returns the parsed model identifier.
func (m *ConverseModel) ModelID() ModelID { return m.id }

// Capabilities returns what the capability table says about the model
// (of ConverseOptions.BaseModel, when set).
func (m *ConverseModel) Capabilities() Capabilities { return m.caps }

func (m *ConverseModel) capsForCheck() *Capabilities {
	if !m.checked {
		return nil
	}
	return &m.caps
}

// Generate calls Converse. Retryable failures are retried per
// ConverseOptions.Retry within ctx's deadline. Response.Latency is the
// latency Bedrock reports (metrics.latencyMs), or the measured time of the
// successful call when Bedrock reports none.
func (m *ConverseModel) Generate(ctx context.Context, req *Request) (*Response, error) {
	for {
		plan, err := m.plan(req)
		if err != nil {
			return nil, err
		}
		c, err := m.call(plan)
		if err != nil {
			return nil, err
		}
		in := c.converseInput()
		start := time.Now()
		var out *bedrockruntime.ConverseOutput
		err = m.opts.Retry.do(ctx, "Converse", func(ctx context.Context) error {
			var err error
			out, err = m.client.Converse(ctx, in, disableSDKRetry, safeRequestBody)
			return err
		})
		if err != nil {
			if m.refusedNative(plan, err) {
				continue
			}
			return nil, err
		}
		resp, err := m.fromConverseOutput(out, time.Since(start))
		if err != nil {
			return nil, err
		}
		return plan.answer(resp), nil
	}
}

// outputPlan is how one request is sent: the request as given, or with its
// Output turned into a forced answer tool.
type outputPlan struct {
	orig *Request
	// req is what toConverse maps: orig, or the forced-tool request.
	req *Request
	// native is set when Output goes as outputConfig; tool when it goes as
	// the answer tool.
	native, tool bool
	// auto is set when the technique was chosen by capability, so a refusal
	// of the native schema may fall back to the tool.
	auto bool
}

// plan decides how req's Output (if any) is sent.
func (m *ConverseModel) plan(req *Request) (*outputPlan, error) {
	p := &outputPlan{orig: req, req: req}
	if req == nil || req.Output == nil {
		return p, nil
	}
	if req.Output.schema == nil {
		return nil, invalid("Request.Output is a zero OutputSchema; build one with NewOutputSchema or OutputSchemaFor")
	}
	switch m.opts.OutputTechnique {
	case OutputNative:
		p.native = true
	case OutputForcedTool:
		p.tool = true
	default:
		p.auto = true
		p.native = m.caps.StructuredOutput && !m.nativeRefused.Load()
		p.tool = !p.native
	}
	if p.tool {
		level := chooseAuto
		switch {
		case m.caps.ToolChoiceTool:
			level = chooseTool
		case m.caps.ToolChoiceAny:
			level = chooseAny
		}
		strict := m.caps.StructuredOutput && !m.nativeRefused.Load()
		tr, err := outputToolRequest(req, level, strict)
		if err != nil {
			return nil, err
		}
		p.req = tr
	}
	return p, nil
}

// refusedNative reports whether err is Bedrock refusing a native output
// schema chosen by capability; it then switches this model to the forced
// tool for good. Bedrock answers such requests with a ValidationException
// such as "The model returned the following errors: output_config.format:
// Extra inputs are not permitted" (vercel/ai#15288, #19988).
func (m *ConverseModel) refusedNative(p *outputPlan, err error) bool {
	if !p.native || !p.auto {
		return false
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, ErrValidation) {
		return false
	}
	msg := strings.ToLower(apiErr.Message)
	for _, s := range []string{"output_config", "outputconfig", "textformat", "output format", "structured output", "json_schema", "jsonschema"} {
		if strings.Contains(msg, s) {
			m.nativeRefused.Store(true)
			return true
		}
	}
	return false
}

// outputConfig returns the native structured-output configuration.
func (p *outputPlan) outputConfig() *types.OutputConfig {
	if !p.native {
		return nil
	}
	s := p.orig.Output
	def := types.JsonSchemaDefinition{Schema: aws.String(string(s.wire)), Name: aws.String(s.name)}
	if s.description != "" {
		def.Description = aws.String(s.description)
	}
	return &types.OutputConfig{TextFormat: &types.OutputFormat{
		Type:      types.OutputFormatTypeJsonSchema,
		Structure: &types.OutputFormatStructureMemberJsonSchema{Value: def},
	}}
}

// answer turns the model's response into the response to the original
// request: the answer tool's call or the native (possibly wrapped) JSON
// becomes the text.
func (p *outputPlan) answer(resp *Response) *Response {
	switch {
	case p.tool:
		out, _ := answerFromToolCall(resp, p.orig.Output)
		return out
	case p.native && p.orig.Output.wrapped && len(resp.Message.ToolCalls()) == 0:
		out := *resp
		var parts []Part
		for _, q := range resp.Message.Parts {
			switch q.(type) {
			case Text, CitedText:
			default:
				parts = append(parts, q)
			}
		}
		out.Message = Message{Role: resp.Message.Role, Parts: append(parts, Text{Text: string(p.orig.Output.fromWire(answerText(resp.Message)))})}
		return &out
	}
	return resp
}

// events returns the converter of the model's stream events into the
// events of the answer to the original request.
func (p *outputPlan) events() *answerStream {
	if p.tool {
		return newAnswerStream(p.orig.Output, true)
	}
	if p.native && p.orig.Output.wrapped {
		return newWrappedTextStream(p.orig.Output)
	}
	return newAnswerStream(nil, false)
}

// converseCall is one request in Bedrock's terms, built once (validated
// and converted by toConverse) and sent as the input of Converse,
// ConverseStream or CountTokens.
type converseCall struct {
	*converseParts
	modelID      string
	outputConfig *types.OutputConfig
	fieldPaths   []string
}

// call builds the request of plan p.
func (m *ConverseModel) call(p *outputPlan) (*converseCall, error) {
	parts, err := toConverse(p.req, m.capsForCheck())
	if err != nil {
		return nil, err
	}
	return &converseCall{converseParts: parts, modelID: m.id.Raw, outputConfig: p.outputConfig(), fieldPaths: m.opts.AdditionalResponseFieldPaths}, nil
}

// converseInput is c as the input of Converse.
func (c *converseCall) converseInput() *bedrockruntime.ConverseInput {
	in := &bedrockruntime.ConverseInput{
		ModelId:                           aws.String(c.modelID),
		Messages:                          c.messages,
		System:                            c.system,
		InferenceConfig:                   c.inference,
		ToolConfig:                        c.toolConfig,
		AdditionalModelRequestFields:      c.extra,
		AdditionalModelResponseFieldPaths: c.fieldPaths,
		ServiceTier:                       c.serviceTier,
		PerformanceConfig:                 c.performance,
		OutputConfig:                      c.outputConfig,
	}
	if g := c.guardrail; g != nil {
		in.GuardrailConfig = &types.GuardrailConfiguration{GuardrailIdentifier: g.id, GuardrailVersion: g.version, Trace: g.trace}
	}
	return in
}

// streamInput is c as the input of ConverseStream: the same fields, and the
// guardrail's stream processing mode.
func (c *converseCall) streamInput() *bedrockruntime.ConverseStreamInput {
	in := c.converseInput()
	out := &bedrockruntime.ConverseStreamInput{
		ModelId:                           in.ModelId,
		Messages:                          in.Messages,
		System:                            in.System,
		InferenceConfig:                   in.InferenceConfig,
		ToolConfig:                        in.ToolConfig,
		AdditionalModelRequestFields:      in.AdditionalModelRequestFields,
		AdditionalModelResponseFieldPaths: in.AdditionalModelResponseFieldPaths,
		ServiceTier:                       in.ServiceTier,
		PerformanceConfig:                 in.PerformanceConfig,
		OutputConfig:                      in.OutputConfig,
	}
	if g := c.guardrail; g != nil {
		out.GuardrailConfig = &types.GuardrailStreamConfiguration{
			GuardrailIdentifier: g.id, GuardrailVersion: g.version, Trace: g.trace, StreamProcessingMode: g.mode,
		}
	}
	return out
}

func (m *ConverseModel) fromConverseOutput(out *bedrockruntime.ConverseOutput, elapsed time.Duration) (*Response, error) {
	resp := &Response{Message: Message{Role: RoleAssistant}, StopReason: StopReason(out.StopReason), Usage: fromUsage(out.Usage), Latency: elapsed,
		ServiceTier: fromServiceTier(out.ServiceTier), LatencyMode: fromPerformance(out.PerformanceConfig)}
	if out.Metrics != nil && out.Metrics.LatencyMs != nil {
		resp.Latency = time.Duration(*out.Metrics.LatencyMs) * time.Millisecond
	}
	switch o := out.Output.(type) {
	case *types.ConverseOutputMemberMessage:
		if o.Value.Role != "" {
			resp.Message.Role = Role(o.Value.Role)
		}
		parts, err := fromContentBlocks(o.Value.Content, m.opts.Strict)
		if err != nil {
			return nil, fmt.Errorf("bedrockkit: Converse response: %w", err)
		}
		resp.Message.Parts = parts
	case nil:
		// No output (for example a guardrail intervention without a message).
	default:
		if m.opts.Strict {
			return nil, fmt.Errorf("bedrockkit: Converse response: %w", unsupportedBlock(fmt.Sprintf("output %T", o)))
		}
	}
	extra, err := readDocument(out.AdditionalModelResponseFields)
	if err != nil {
		return nil, fmt.Errorf("bedrockkit: additionalModelResponseFields: %v: %w", err, ErrMalformedStream)
	}
	resp.AdditionalFields = extra
	return resp, nil
}

type guardrailParams struct {
	id, version *string
	trace       types.GuardrailTrace
	mode        types.GuardrailStreamProcessingMode
}

func toGuardrail(g *GuardrailConfig) (guardrailParams, error) {
	if g.ID == "" || g.Version == "" {
		return guardrailParams{}, invalid("GuardrailConfig needs ID and Version (a number or DRAFT)")
	}
	p := guardrailParams{id: aws.String(g.ID), version: aws.String(g.Version)}
	switch g.Trace {
	case "", "disabled", "enabled", "enabled_full":
		p.trace = types.GuardrailTrace(g.Trace)
	default:
		return p, invalid(`GuardrailConfig.Trace %q; use "enabled", "enabled_full" or "disabled"`, g.Trace)
	}
	switch g.StreamMode {
	case "", "sync", "async":
		p.mode = types.GuardrailStreamProcessingMode(g.StreamMode)
	default:
		return p, invalid(`GuardrailConfig.StreamMode %q; use "sync" or "async"`, g.StreamMode)
	}
	return p, nil
}

// Stream calls ConverseStream and yields its events. See the Model
// interface for the contract; in addition:
//
//   - Opening the stream is retried per ConverseOptions.Retry, and so is a
//     stream that fails with a retryable error before yielding anything
//     (nothing was seen, so nothing repeats). A stream that fails after
//     yielding an event is never retried: its error is a *StreamError,
//     with Partial set when text, reasoning or a tool call was yielded and
//     Text holding the text so far, wrapping the classified cause
//     (errors.Is(err, ErrThrottled) works, and errors.As finds the *APIError).
//     A failure to open the stream is returned as the *APIError itself.
//   - Tool-call input is buffered per content block and yielded complete in
//     ToolCallDone; invalid JSON ends the stream with an error wrapping
//     ErrMalformedStream, as does a stream that ends without messageStop.
//   - The stream stops promptly when ctx is done and when no event arrives
//     for ConverseOptions.IdleTimeout (ErrStreamIdle). It is closed on every
//     path, including a consumer breaking out of the loop.
func (m *ConverseModel) Stream(ctx context.Context, req *Request) iter.Seq2[StreamEvent, error] {
	return func(yield func(StreamEvent, error) bool) {
		for {
			plan, err := m.plan(req)
			if err != nil {
				yield(nil, err)
				return
			}
			c, err := m.call(plan)
			if err != nil {
				yield(nil, err)
				return
			}
			in := c.streamInput()
			conv := plan.events()
			yielded, retry := false, false
			m.runStream(ctx, in, func(ev StreamEvent, err error) bool {
				if err != nil {
					if !yielded && m.refusedNative(plan, err) {
						retry = true
						return false
					}
					for _, out := range conv.flush() {
						if !yield(out, nil) {
							return false
						}
					}
					return yield(nil, err)
				}
				for _, out := range conv.convert(ev) {
					yielded = true
					if !yield(out, nil) {
						return false
					}
				}
				return true
			})
			if !retry {
				return
			}
		}
	}
}

func fromServiceTier(t *types.ServiceTier) ServiceTier {
	if t == nil {
		return ""
	}
	return ServiceTier(t.Type)
}

func fromPerformance(p *types.PerformanceConfiguration) LatencyMode {
	if p == nil {
		return ""
	}
	return LatencyMode(p.Latency)
}
