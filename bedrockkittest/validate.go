package bedrockkittest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// Check names a class of request validation FakeBedrock performs, so a test
// can relax it (FakeBedrock.Relax).
type Check string

// The validation classes. Messages quote Bedrock where its wording is
// public (see the comments in validate.go); elsewhere they are the fake's
// own, prefixed "fakebedrock:".
const (
	// CheckModelID: the model ID matches Bedrock's pattern, names a model
	// (ParseModelID), is not an embedding model on Converse, and is an
	// inference profile for models that need one.
	CheckModelID Check = "model-id"
	// CheckParameters: inferenceConfig ranges (maxTokens >= 1, temperature
	// and topP in [0, 1]), role, service tier and latency enums.
	CheckParameters Check = "parameters"
	// CheckConversation: at least one message, the first from the user,
	// roles alternating.
	CheckConversation Check = "conversation"
	// CheckContent: no empty content lists, no blank text, content blocks
	// with exactly one known member (a top-level json block is refused),
	// error tool results with content, at most four cache points.
	CheckContent Check = "content"
	// CheckTools: tool blocks need toolConfig; every toolResult answers a
	// toolUse of the previous turn and every toolUse is answered; tool names
	// match the pattern; no forced tool choice with extended thinking.
	CheckTools Check = "tools"
	// CheckOutput: outputConfig.textFormat is json_schema with a schema
	// string that is a JSON object.
	CheckOutput Check = "output"
	// CheckCountTokens: CountTokens only counts models Bedrock counts (by
	// base model ID, not Nova, not inference profiles).
	CheckCountTokens Check = "count-tokens"
)

var allChecks = []Check{CheckModelID, CheckParameters, CheckConversation, CheckContent, CheckTools, CheckOutput, CheckCountTokens}

// validationFault is Bedrock's ValidationException with message msg.
func validationFault(format string, args ...any) *Fault {
	return &Fault{Code: "ValidationException", Message: fmt.Sprintf(format, args...)}
}

// constraints collects Coral-style constraint violations, which Bedrock
// reports together: "1 validation error detected: Value '0' at
// 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have
// value greater than or equal to 1" (quoted in
// microsoft/semantic-kernel's Bedrock connector issue and in
// "Value '32424.0' at 'inferenceConfig.temperature' ... less than or equal
// to 1" reports); several are joined by "; " after "N validation errors
// detected: ".
type constraints []string

func (c *constraints) add(value, path, constraint string) {
	*c = append(*c, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must %s", value, path, constraint))
}

func (c constraints) fault() *Fault {
	switch len(c) {
	case 0:
		return nil
	case 1:
		return validationFault("1 validation error detected: %s", c[0])
	}
	return validationFault("%d validation errors detected: %s", len(c), strings.Join(c, "; "))
}

// javaFloat formats a number the way Java's Float.toString does for the
// values tests use ("1.5", "2.0").
func javaFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 32)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// modelIDPattern approximates Bedrock's modelId pattern: an ARN, or a run of
// letters, digits, '-', ':' and '.' (the pattern's catch-all alternative).
var modelIDPattern = regexp.MustCompile(`^(arn:aws(-[^:]+)?:(bedrock|sagemaker):[a-z0-9-]{1,20}:[0-9]{0,12}:[a-zA-Z-]+/[a-zA-Z0-9-:./]+|[a-zA-Z0-9-:.]+)$`)

var toolNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// wireRequest is the part of a Converse, ConverseStream or CountTokens
// request the fake validates. Numbers are decoded as json.Number so ranges
// are checked on what the client sent.
type wireRequest struct {
	Messages []struct {
		Role    string                       `json:"role"`
		Content []map[string]json.RawMessage `json:"content"`
	} `json:"messages"`
	System          []map[string]json.RawMessage `json:"system"`
	InferenceConfig *struct {
		MaxTokens     *json.Number `json:"maxTokens"`
		Temperature   *json.Number `json:"temperature"`
		TopP          *json.Number `json:"topP"`
		StopSequences []string     `json:"stopSequences"`
	} `json:"inferenceConfig"`
	ToolConfig *struct {
		Tools      []map[string]json.RawMessage `json:"tools"`
		ToolChoice map[string]json.RawMessage   `json:"toolChoice"`
	} `json:"toolConfig"`
	AdditionalModelRequestFields json.RawMessage `json:"additionalModelRequestFields"`
	OutputConfig                 *struct {
		TextFormat *struct {
			Type      string `json:"type"`
			Structure *struct {
				JSONSchema *struct {
					Schema      *string `json:"schema"`
					Name        string  `json:"name"`
					Description string  `json:"description"`
				} `json:"jsonSchema"`
			} `json:"structure"`
		} `json:"textFormat"`
	} `json:"outputConfig"`
	ServiceTier *struct {
		Type string `json:"type"`
	} `json:"serviceTier"`
	PerformanceConfig *struct {
		Latency string `json:"latency"`
	} `json:"performanceConfig"`
}

// contentMembers are the members of Bedrock's ContentBlock union
// (API_runtime_ContentBlock). "json" is not one: JSON content exists only
// inside a toolResult.
var contentMembers = []string{"text", "image", "document", "video", "audio", "toolUse", "toolResult", "guardContent", "cachePoint", "reasoningContent", "citationsContent", "searchResult", "toolAddition", "toolRemoval"}

// validator runs the enabled checks.
type validator struct {
	on map[Check]bool
}

func (v validator) enabled(c Check) bool { return v.on[c] }

// checkModel validates the model ID of op. It returns nil for a valid one.
func (v validator) checkModel(op Operation, id string) *Fault {
	if !v.enabled(CheckModelID) {
		return nil
	}
	if len(id) == 0 || len(id) > 2048 || !modelIDPattern.MatchString(id) {
		var c constraints
		if len(id) > 2048 {
			c.add(id, "modelId", "have length less than or equal to 2048")
		} else {
			c.add(id, "modelId", "satisfy regular expression pattern: "+modelIDPattern.String())
		}
		return c.fault()
	}
	parsed, err := bedrockkit.ParseModelID(id)
	if err != nil {
		// Quoted in many reports, e.g. "ValidationException: The provided
		// model identifier is invalid." (a typo, or a profile of another
		// geography).
		return validationFault("The provided model identifier is invalid.")
	}
	if op == OpConverse || op == OpConverseStream || op == OpCountTokens {
		base := parsed.BaseModel
		if strings.HasPrefix(base, "amazon.titan-embed") || strings.HasPrefix(base, "cohere.embed") || strings.HasPrefix(base, "cohere.rerank") || strings.HasPrefix(base, "amazon.rerank") {
			// Bedrock's answer for Converse with an embedding model.
			return validationFault("This action doesn't support the model that you provided. Try again with a supported text or chat model.")
		}
	}
	if op == OpConverse || op == OpConverseStream {
		caps := bedrockkit.CapabilitiesOf(parsed)
		if parsed.Kind == bedrockkit.KindFoundationModel && caps.Known && caps.NeedsInferenceProfile {
			// Quoted in lobehub/lobe-chat#6551 and langchainjs#8478.
			return validationFault("Invocation of model ID %s with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model.", parsed.BaseModel)
		}
	}
	return nil
}

// checkCountModel refuses models CountTokens does not count.
func (v validator) checkCountModel(id string) *Fault {
	if !v.enabled(CheckCountTokens) {
		return nil
	}
	parsed, err := bedrockkit.ParseModelID(id)
	if err != nil {
		return nil // checkModel reports it
	}
	// Bedrock counts Claude models by their base model ID; Nova models and
	// cross-Region inference-profile IDs are refused with this message
	// (pydantic/pydantic-ai#4001, Boise-State-Development/agentcore-public-stack#430).
	if parsed.Kind != bedrockkit.KindFoundationModel || !bedrockkit.CapabilitiesOf(parsed).CountTokens {
		return validationFault("The provided model doesn't support counting tokens.")
	}
	return nil
}

// checkConverse validates a Converse-shaped body (Converse, ConverseStream,
// or the converse input of CountTokens).
func (v validator) checkConverse(body []byte) *Fault {
	var req wireRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return validationFault("fakebedrock: request body is not a valid Converse request: %v", err)
	}
	if f := v.parameters(&req); f != nil {
		return f
	}
	if f := v.conversation(&req); f != nil {
		return f
	}
	return v.output(&req)
}

func (v validator) parameters(req *wireRequest) *Fault {
	if !v.enabled(CheckParameters) {
		return nil
	}
	var c constraints
	if ic := req.InferenceConfig; ic != nil {
		if ic.MaxTokens != nil {
			if n, err := ic.MaxTokens.Int64(); err != nil || n < 1 {
				c.add(ic.MaxTokens.String(), "inferenceConfig.maxTokens", "have value greater than or equal to 1")
			}
		}
		for _, p := range []struct {
			name string
			num  *json.Number
		}{{"temperature", ic.Temperature}, {"topP", ic.TopP}} {
			if p.num == nil {
				continue
			}
			f, err := p.num.Float64()
			switch {
			case err != nil || math.IsNaN(f):
				c.add(p.num.String(), "inferenceConfig."+p.name, "have value greater than or equal to 0")
			case f < 0:
				c.add(javaFloat(f), "inferenceConfig."+p.name, "have value greater than or equal to 0")
			case f > 1:
				c.add(javaFloat(f), "inferenceConfig."+p.name, "have value less than or equal to 1")
			}
		}
	}
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			c.add(m.Role, fmt.Sprintf("messages.%d.member.role", i+1), "satisfy enum value set: [user, assistant]")
		}
	}
	if st := req.ServiceTier; st != nil && !slices.Contains([]string{"priority", "default", "flex", "reserved"}, st.Type) {
		c.add(st.Type, "serviceTier.type", "satisfy enum value set: [priority, default, flex, reserved]")
	}
	if pc := req.PerformanceConfig; pc != nil && pc.Latency != "standard" && pc.Latency != "optimized" {
		c.add(pc.Latency, "performanceConfig.latency", "satisfy enum value set: [standard, optimized]")
	}
	if tc := req.ToolConfig; tc != nil && v.enabled(CheckTools) {
		if len(tc.Tools) == 0 {
			c.add("[]", "toolConfig.tools", "have length greater than or equal to 1")
		}
		for i, t := range tc.Tools {
			var spec struct {
				Name string `json:"name"`
			}
			if raw, ok := t["toolSpec"]; ok && json.Unmarshal(raw, &spec) == nil && !toolNamePattern.MatchString(spec.Name) {
				c.add(spec.Name, fmt.Sprintf("toolConfig.tools.%d.member.toolSpec.name", i+1), "satisfy regular expression pattern: "+toolNamePattern.String())
			}
		}
	}
	return c.fault()
}

func (v validator) conversation(req *wireRequest) *Fault {
	msgs := req.Messages
	// Bedrock's wording for an empty conversation, or one starting with the
	// assistant (langgenius/dify#12340, strands-agents/harness-sdk#2085).
	const mustStart = "A conversation must start with a user message. Try again with a conversation that starts with a user message."
	if v.enabled(CheckConversation) && (len(msgs) == 0 || msgs[0].Role != "user") {
		return validationFault(mustStart)
	}
	for i, b := range req.System {
		if !v.enabled(CheckContent) {
			break
		}
		if raw, ok := b["text"]; ok && blank(raw) {
			return validationFault("fakebedrock: The text field in the SystemContentBlock object at system.%d is blank. Add text to the text field, and try again.", i)
		}
	}
	hasToolBlocks := false
	cachePoints := 0
	for i, m := range msgs {
		if v.enabled(CheckContent) && len(m.Content) == 0 {
			// Quoted in aws-samples and openclaw reports: "The content field
			// in the Message object at messages.N is empty. Add a
			// ContentBlock object to the content field and try again."
			return validationFault("The content field in the Message object at messages.%d is empty. Add a ContentBlock object to the content field and try again.", i)
		}
		if v.enabled(CheckConversation) && i > 0 && m.Role == msgs[i-1].Role {
			// microsoft/semantic-kernel#10277, langchain-ai/langchain-aws#130.
			return validationFault("A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.")
		}
		for j, b := range m.Content {
			if v.enabled(CheckContent) {
				if f := checkBlock(b, i, j); f != nil {
					return f
				}
			}
			if _, ok := b["toolUse"]; ok {
				hasToolBlocks = true
			}
			if _, ok := b["toolResult"]; ok {
				hasToolBlocks = true
			}
			if _, ok := b["cachePoint"]; ok {
				cachePoints++
			}
		}
	}
	for _, b := range req.System {
		if _, ok := b["cachePoint"]; ok {
			cachePoints++
		}
	}
	if tc := req.ToolConfig; tc != nil {
		for _, t := range tc.Tools {
			if _, ok := t["cachePoint"]; ok {
				cachePoints++
			}
		}
	}
	if v.enabled(CheckContent) && cachePoints > 4 {
		// Anthropic's limit, relayed by Bedrock as a model error.
		return validationFault("The model returned the following errors: A maximum of 4 blocks with cache_control may be provided. Found %d.", cachePoints)
	}
	if !v.enabled(CheckTools) {
		return nil
	}
	if hasToolBlocks && (req.ToolConfig == nil || len(req.ToolConfig.Tools) == 0) {
		// Quoted in many agent frameworks' fixes, e.g. roo-code's converter
		// tests: "The toolConfig field must be defined when using toolUse
		// and toolResult content blocks."
		return validationFault("The toolConfig field must be defined when using toolUse and toolResult content blocks.")
	}
	for i, m := range msgs {
		results := toolIDs(m.Content, "toolResult")
		var uses []string
		if i > 0 {
			uses = toolIDs(msgs[i-1].Content, "toolUse")
		}
		if m.Role != "user" {
			continue
		}
		if len(results) > len(uses) {
			// Just-Curieous/Curie#16, pydantic/pydantic-ai#2327.
			return validationFault("The number of toolResult blocks at messages.%d.content exceeds the number of toolUse blocks of previous turn.", i)
		}
		var missing []string
		for _, id := range uses {
			if !slices.Contains(results, id) {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			// agno-agi/agno#6694 and several production reports:
			// "Expected toolResult blocks at messages.2.content for the
			// following Ids: tooluse_S6hhcw36PqoKJAUBuu9hmw".
			return validationFault("Expected toolResult blocks at messages.%d.content for the following Ids: %s", i, strings.Join(missing, ", "))
		}
	}
	if tc := req.ToolConfig; tc != nil && forcesTool(tc.ToolChoice) && thinkingOn(req.AdditionalModelRequestFields) {
		// strands-agents/harness-sdk#1495, langchain-ai/langchain-aws#926.
		return validationFault("The model returned the following errors: Thinking may not be enabled when tool_choice forces tool use.")
	}
	return nil
}

// checkBlock validates content block j of message i.
func checkBlock(b map[string]json.RawMessage, i, j int) *Fault {
	if len(b) != 1 {
		return validationFault("fakebedrock: the ContentBlock at messages.%d.content.%d must have exactly one member (it has %d)", i, j, len(b))
	}
	for k, raw := range b {
		if !slices.Contains(contentMembers, k) {
			return validationFault("fakebedrock: the ContentBlock at messages.%d.content.%d has member %q, which is not a ContentBlock member (json content is only allowed inside a toolResult)", i, j, k)
		}
		switch k {
		case "text":
			if blank(raw) {
				// Quoted in strands-agents and production reports.
				return validationFault("The text field in the ContentBlock object at messages.%d.content.%d is blank. Add text to the text field, and try again.", i, j)
			}
		case "toolResult":
			var tr struct {
				Status  string            `json:"status"`
				Content []json.RawMessage `json:"content"`
			}
			if json.Unmarshal(raw, &tr) == nil && tr.Status == "error" && len(tr.Content) == 0 {
				// aws-samples/sample-multi-agent-orchestration-chat-on-agentcore#15.
				return validationFault("The content field at messages.%d.content.%d.toolResult cannot be empty when status value is error.", i, j)
			}
		}
	}
	return nil
}

func blank(raw json.RawMessage) bool {
	var s string
	return json.Unmarshal(raw, &s) == nil && strings.TrimSpace(s) == ""
}

func toolIDs(content []map[string]json.RawMessage, kind string) []string {
	var ids []string
	for _, b := range content {
		raw, ok := b[kind]
		if !ok {
			continue
		}
		var x struct {
			ToolUseID string `json:"toolUseId"`
		}
		if json.Unmarshal(raw, &x) == nil {
			ids = append(ids, x.ToolUseID)
		}
	}
	return ids
}

func forcesTool(choice map[string]json.RawMessage) bool {
	_, any := choice["any"]
	_, tool := choice["tool"]
	return any || tool
}

func thinkingOn(extra json.RawMessage) bool {
	var f struct {
		Thinking *struct {
			Type string `json:"type"`
		} `json:"thinking"`
	}
	return json.Unmarshal(extra, &f) == nil && f.Thinking != nil && f.Thinking.Type != "disabled"
}

func (v validator) output(req *wireRequest) *Fault {
	oc := req.OutputConfig
	if oc == nil || oc.TextFormat == nil || !v.enabled(CheckOutput) {
		return nil
	}
	tf := oc.TextFormat
	if tf.Type != "json_schema" {
		var c constraints
		c.add(tf.Type, "outputConfig.textFormat.type", "satisfy enum value set: [json_schema]")
		return c.fault()
	}
	if tf.Structure == nil || tf.Structure.JSONSchema == nil || tf.Structure.JSONSchema.Schema == nil {
		return validationFault("fakebedrock: outputConfig.textFormat.structure.jsonSchema.schema is required")
	}
	var schema map[string]any
	if err := json.Unmarshal([]byte(*tf.Structure.JSONSchema.Schema), &schema); err != nil {
		return validationFault("fakebedrock: outputConfig.textFormat.structure.jsonSchema.schema is not a JSON object: %v", err)
	}
	return nil
}

// outputSchemaOf returns the native output schema of a request body, if any.
func outputSchemaOf(body []byte) (name string, schema json.RawMessage) {
	var req wireRequest
	if json.Unmarshal(body, &req) != nil || req.OutputConfig == nil || req.OutputConfig.TextFormat == nil ||
		req.OutputConfig.TextFormat.Structure == nil || req.OutputConfig.TextFormat.Structure.JSONSchema == nil ||
		req.OutputConfig.TextFormat.Structure.JSONSchema.Schema == nil {
		return "", nil
	}
	js := req.OutputConfig.TextFormat.Structure.JSONSchema
	return js.Name, json.RawMessage(*js.Schema)
}

// requestedTier returns the service tier and latency a request asked for.
func requestedTier(body []byte) (tier, latency string) {
	var req wireRequest
	if json.Unmarshal(body, &req) != nil {
		return "", ""
	}
	if req.ServiceTier != nil {
		tier = req.ServiceTier.Type
	}
	if req.PerformanceConfig != nil {
		latency = req.PerformanceConfig.Latency
	}
	return tier, latency
}
