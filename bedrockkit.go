package bedrockkit

import (
	"context"
	"encoding/json"
	"iter"
	"strings"
	"time"
)

// Role says who wrote a Message.
type Role string

// The two conversation roles Bedrock accepts.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Message is one turn of a conversation: a role and its content parts.
type Message struct {
	Role  Role
	Parts []Part
}

// UserText returns a user message holding one Text part.
func UserText(text string) Message {
	return Message{Role: RoleUser, Parts: []Part{Text{Text: text}}}
}

// AssistantText returns an assistant message holding one Text part.
func AssistantText(text string) Message {
	return Message{Role: RoleAssistant, Parts: []Part{Text{Text: text}}}
}

// Text concatenates the message's Text and CitedText parts in order. Other
// parts are ignored.
func (m Message) Text() string {
	var b strings.Builder
	for _, p := range m.Parts {
		switch p := p.(type) {
		case Text:
			b.WriteString(p.Text)
		case CitedText:
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// ToolCalls returns the message's ToolCall parts in order.
func (m Message) ToolCalls() []ToolCall {
	var calls []ToolCall
	for _, p := range m.Parts {
		if c, ok := p.(ToolCall); ok {
			calls = append(calls, c)
		}
	}
	return calls
}

// Part is one piece of message content. It is sealed: the concrete types are
// Text, CitedText, Image, Document, JSON, ToolCall, ToolResult, Reasoning and
// CachePoint. Use a type switch to handle them.
type Part interface {
	isPart()
}

// Text is plain text content.
type Text struct {
	Text string
}

// ImageFormat is an image encoding Bedrock accepts: png, jpeg, gif or webp.
type ImageFormat string

// Image formats accepted by Bedrock.
const (
	ImagePNG  ImageFormat = "png"
	ImageJPEG ImageFormat = "jpeg"
	ImageGIF  ImageFormat = "gif"
	ImageWebP ImageFormat = "webp"
)

// Image is an image given inline (Bytes) or by S3 location (S3URI, "s3://bucket/key").
// Exactly one of the two must be set.
type Image struct {
	Format ImageFormat
	Bytes  []byte
	S3URI  string
}

// DocumentFormat is a document encoding Bedrock accepts.
type DocumentFormat string

// Document formats accepted by Bedrock.
const (
	DocPDF  DocumentFormat = "pdf"
	DocCSV  DocumentFormat = "csv"
	DocDOC  DocumentFormat = "doc"
	DocDOCX DocumentFormat = "docx"
	DocXLS  DocumentFormat = "xls"
	DocXLSX DocumentFormat = "xlsx"
	DocHTML DocumentFormat = "html"
	DocTXT  DocumentFormat = "txt"
	DocMD   DocumentFormat = "md"
)

// Document is a file given to the model. Name is required by Bedrock and is
// visible to the model: keep it neutral (it is a prompt-injection vector).
// Exactly one of Bytes, Text or S3URI must be set.
type Document struct {
	Name   string
	Format DocumentFormat
	Bytes  []byte
	Text   string
	S3URI  string
	// Citations asks the model to cite this document: the answer comes back
	// with CitedText parts naming the passages that support it (see
	// Message.Citations). Models that cannot cite (Capabilities.Citations)
	// refuse it with ErrUnsupported.
	Citations bool
}

// JSON is structured content, used inside a ToolResult.
type JSON struct {
	Value json.RawMessage
}

// ToolCall is the model asking to run a tool. Input is the tool's arguments as
// raw JSON, exactly as the model produced them.
type ToolCall struct {
	ID    string
	Name  string
	Input json.RawMessage
}

// ToolResult answers a ToolCall. Parts may hold Text, JSON, Image and Document.
// IsError marks a failed tool run; the model sees the parts as the error.
type ToolResult struct {
	CallID  string
	Parts   []Part
	IsError bool
}

// Reasoning is a model's visible reasoning (extended thinking). Signature (or
// Redacted, for redacted reasoning) must be echoed back unchanged in later
// turns of a tool-use conversation.
type Reasoning struct {
	Text      string
	Signature string
	Redacted  []byte
}

// CacheTTL is how long a prompt-cache entry lives.
type CacheTTL string

// Prompt-cache lifetimes. The empty value means the model's default (5 minutes).
const (
	CacheTTLDefault CacheTTL = ""
	CacheTTL5m      CacheTTL = "5m"
	CacheTTL1h      CacheTTL = "1h"
)

// CachePoint marks the end of a prompt prefix that the model may cache.
type CachePoint struct {
	TTL CacheTTL
}

func (Text) isPart()       {}
func (CitedText) isPart()  {}
func (Image) isPart()      {}
func (Document) isPart()   {}
func (JSON) isPart()       {}
func (ToolCall) isPart()   {}
func (ToolResult) isPart() {}
func (Reasoning) isPart()  {}
func (CachePoint) isPart() {}

// ToolSpec describes a tool the model may call. InputSchema is a JSON Schema whose
// top level must be of type "object".
type ToolSpec struct {
	Name        string
	Description string
	InputSchema json.RawMessage
	// Strict asks the model to follow InputSchema exactly (Bedrock's strict
	// tool use, offered by the models that offer native structured output,
	// see Capabilities.StructuredOutput).
	Strict bool
}

// ToolChoiceKind says how the model must use the tools.
type ToolChoiceKind string

// Tool-choice kinds. The zero value, ToolChoiceAuto, lets the model decide.
const (
	ToolChoiceAuto ToolChoiceKind = ""
	ToolChoiceAny  ToolChoiceKind = "any"
	ToolChoiceTool ToolChoiceKind = "tool"
)

// ToolChoice constrains tool use: Auto (the zero value), Any (the model must
// call at least one tool) or Tool (the model must call the tool named Name).
type ToolChoice struct {
	Kind ToolChoiceKind
	Name string
}

// GuardrailConfig attaches a Bedrock guardrail to a Converse call.
type GuardrailConfig struct {
	ID      string
	Version string
	// Trace is "enabled", "enabled_full" or "disabled" (the default).
	Trace string
	// StreamMode is "sync" (default) or "async"; used by streaming calls only.
	StreamMode string
}

// ServiceTier is a Bedrock processing tier. Priority serves first at a
// premium price, flex serves when capacity allows at a discount, default is
// the standard on-demand tier and reserved is reserved capacity.
type ServiceTier string

// Bedrock's service tiers. The empty value sends no tier (Bedrock's default).
const (
	ServiceTierDefault  ServiceTier = "default"
	ServiceTierPriority ServiceTier = "priority"
	ServiceTierFlex     ServiceTier = "flex"
	ServiceTierReserved ServiceTier = "reserved"
)

// LatencyMode selects standard or latency-optimized inference
// (Bedrock's performanceConfig). Only some models in some Regions offer the
// optimized mode; Bedrock refuses it elsewhere.
type LatencyMode string

// Latency modes. The empty value sends nothing (standard).
const (
	LatencyStandard  LatencyMode = "standard"
	LatencyOptimized LatencyMode = "optimized"
)

// Request is one model invocation.
type Request struct {
	// System holds system-prompt parts: Text and CachePoint.
	System   []Part
	Messages []Message
	Tools    []ToolSpec
	// ToolCache, when set, places a cache point after the tool definitions.
	ToolCache  *CachePoint
	ToolChoice ToolChoice
	// MaxTokens caps the output; 0 means the model's default.
	MaxTokens     int
	Temperature   *float32
	TopP          *float32
	StopSequences []string
	Guardrail     *GuardrailConfig
	// Extra is passed to the model as additionalModelRequestFields
	// (for example Claude's "thinking" or "top_k").
	Extra map[string]any
	// Output asks for a JSON value matching a schema instead of prose: the
	// response's text is that value (see OutputSchema). Wrap the model with
	// StructuredOutput, or call GenerateValue, to have the answer validated
	// and repaired and to reach models that do not honour Output
	// themselves (see OutputCapable).
	Output *OutputSchema
	// ServiceTier asks Bedrock for a processing tier; empty sends none.
	ServiceTier ServiceTier
	// LatencyMode asks for latency-optimized inference; empty sends none.
	LatencyMode LatencyMode
}

// Response is a model's complete answer.
type Response struct {
	Message    Message
	StopReason StopReason
	Usage      Usage
	Latency    time.Duration
	// AdditionalFields holds additionalModelResponseFields as raw JSON, if any.
	AdditionalFields json.RawMessage
	// ServiceTier is the tier that served the request, as the service
	// reports it; empty when it reports none.
	ServiceTier ServiceTier
	// LatencyMode is the latency mode that served the request, as the
	// service reports it; empty when it reports none.
	LatencyMode LatencyMode
}

// Usage counts the tokens of one or more calls.
type Usage struct {
	InputTokens      int
	OutputTokens     int
	CacheReadTokens  int
	CacheWriteTokens int
	// Estimated is true when the counts were estimated locally rather than
	// reported by the model (for example a stream that failed before usage arrived).
	Estimated bool
}

// Total returns all tokens counted: input, output, cache read and cache write.
func (u Usage) Total() int {
	return u.InputTokens + u.OutputTokens + u.CacheReadTokens + u.CacheWriteTokens
}

// Add returns the sum of u and v. The sum is Estimated if either is.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		InputTokens:      u.InputTokens + v.InputTokens,
		OutputTokens:     u.OutputTokens + v.OutputTokens,
		CacheReadTokens:  u.CacheReadTokens + v.CacheReadTokens,
		CacheWriteTokens: u.CacheWriteTokens + v.CacheWriteTokens,
		Estimated:        u.Estimated || v.Estimated,
	}
}

// StopReason says why the model stopped generating.
type StopReason string

// Every stop reason Bedrock returns.
const (
	StopEndTurn                    StopReason = "end_turn"
	StopToolUse                    StopReason = "tool_use"
	StopMaxTokens                  StopReason = "max_tokens"
	StopSequence                   StopReason = "stop_sequence"
	StopGuardrailIntervened        StopReason = "guardrail_intervened"
	StopContentFiltered            StopReason = "content_filtered"
	StopMalformedModelOutput       StopReason = "malformed_model_output"
	StopMalformedToolUse           StopReason = "malformed_tool_use"
	StopModelContextWindowExceeded StopReason = "model_context_window_exceeded"
)

// StreamEvent is one item of a model stream. It is sealed: the concrete types are
// TextDelta, ReasoningDelta, CitationDelta, ToolCallDelta, ToolCallDone,
// Stop, Metadata, and, in structured streams (see StructuredOutput),
// OutputRetry and OutputValue.
type StreamEvent interface {
	isEvent()
}

// TextDelta is a piece of text for content block Index.
type TextDelta struct {
	Index int
	Text  string
}

// ReasoningDelta is a piece of reasoning for content block Index. Text,
// Signature or Redacted is set.
type ReasoningDelta struct {
	Index     int
	Text      string
	Signature string
	Redacted  []byte
}

// ToolCallDelta reports progress on a tool call in content block Index. The
// first delta of a call carries ID and Name; later ones carry fragments of the
// input JSON, which is not valid until the matching ToolCallDone.
type ToolCallDelta struct {
	Index         int
	ID            string
	Name          string
	InputFragment string
}

// ToolCallDone carries a complete tool call whose Input is the buffered JSON.
type ToolCallDone struct {
	Index int
	Call  ToolCall
}

// Stop reports why the model stopped. Metadata (usage) may still follow.
type Stop struct {
	Reason StopReason
	// AdditionalFields holds additionalModelResponseFields as raw JSON, if any.
	AdditionalFields json.RawMessage
}

// CitationDelta adds a source to the text of content block Index: that text
// is cited (see CitedText).
type CitationDelta struct {
	Index  int
	Source CitationSource
}

// StreamMetadata reports the usage and latency of the stream; it arrives last.
type StreamMetadata struct {
	Usage   Usage
	Latency time.Duration
	// ServiceTier and LatencyMode are what served the stream, as the
	// service reports them; empty when it reports none.
	ServiceTier ServiceTier
	LatencyMode LatencyMode
}

func (TextDelta) isEvent()      {}
func (ReasoningDelta) isEvent() {}
func (CitationDelta) isEvent()  {}
func (ToolCallDelta) isEvent()  {}
func (ToolCallDone) isEvent()   {}
func (Stop) isEvent()           {}
func (StreamMetadata) isEvent() {}

// Model generates responses. Implementations must be safe for concurrent use.
//
// Stream yields events until the response is complete. A stream that fails
// midway yields a non-nil error as its last item; it never ends silently with
// partial output. Breaking out of the loop early releases the stream.
type Model interface {
	Generate(ctx context.Context, req *Request) (*Response, error)
	Stream(ctx context.Context, req *Request) iter.Seq2[StreamEvent, error]
}

// Purpose says what an embedding is for; asymmetric models (Cohere's
// input_type) embed documents and queries differently.
type Purpose int

// Embedding purposes.
const (
	PurposeDocument Purpose = iota
	PurposeQuery
)

// String returns "document" or "query".
func (p Purpose) String() string {
	if p == PurposeQuery {
		return "query"
	}
	return "document"
}

// Embedder turns texts into vectors of Dimensions() floats, one per text, in
// order. Implementations must be safe for concurrent use.
type Embedder interface {
	Embed(ctx context.Context, texts []string, purpose Purpose) ([][]float32, error)
	Dimensions() int
}

// Middleware wraps a Model to add behaviour: retries, guardrails, metering,
// caching, tracing.
type Middleware func(Model) Model

// Chain wraps m in the middlewares. The first middleware is the outermost: it
// sees the request first and the response last.
func Chain(m Model, mws ...Middleware) Model {
	for i := len(mws) - 1; i >= 0; i-- {
		m = mws[i](m)
	}
	return m
}
