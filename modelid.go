package bedrockkit

import (
	"fmt"
	"strings"
)

// ModelIDKind says what a Bedrock model identifier names.
type ModelIDKind string

// Kinds of model identifier Bedrock accepts as modelId.
const (
	// KindFoundationModel is a base model ID such as
	// "anthropic.claude-3-5-sonnet-20240620-v1:0".
	KindFoundationModel ModelIDKind = "foundation-model"
	// KindInferenceProfile is a system-defined (cross-Region) inference
	// profile ID such as "us.anthropic.claude-3-7-sonnet-20250219-v1:0".
	KindInferenceProfile ModelIDKind = "inference-profile"
	// KindApplicationInferenceProfile is an application inference profile
	// ARN; it hides the base model (declare it with ConverseOptions.BaseModel).
	KindApplicationInferenceProfile ModelIDKind = "application-inference-profile"
	// KindProvisionedModel is a Provisioned Throughput ARN.
	KindProvisionedModel ModelIDKind = "provisioned-model"
	// KindCustomModel is a custom (fine-tuned or distilled) model ARN.
	KindCustomModel ModelIDKind = "custom-model"
	// KindImportedModel is a Custom Model Import ARN (InvokeModel only; not
	// supported by Converse).
	KindImportedModel ModelIDKind = "imported-model"
	// KindPrompt is a Prompt management ARN.
	KindPrompt ModelIDKind = "prompt"
	// KindMarketplaceEndpoint is a Bedrock Marketplace model deployed to a
	// SageMaker endpoint (an arn:aws:sagemaker:...:endpoint/... ARN).
	KindMarketplaceEndpoint ModelIDKind = "marketplace-endpoint"
)

// ModelID is a parsed Bedrock model identifier: a base model ID, a
// cross-Region inference profile ID or an ARN. Use ParseModelID.
type ModelID struct {
	// Raw is the identifier as given; it is what is sent to Bedrock.
	Raw string
	// Kind says what Raw names.
	Kind ModelIDKind
	// Provider is the model provider ("anthropic", "amazon", "meta", ...),
	// empty when the identifier does not reveal it.
	Provider string
	// BaseModel is the foundation model ID without any geography prefix,
	// such as "anthropic.claude-3-5-sonnet-20240620-v1:0"; empty when the
	// identifier hides it (application inference profiles, provisioned models).
	BaseModel string
	// Geo is the cross-Region inference geography ("us", "eu", "apac",
	// "global", "us-gov", "jp", "au", "ca", ...), empty for single-Region IDs.
	Geo string
	// Partition, Region and Account come from an ARN; Account is empty for
	// foundation-model ARNs.
	Partition, Region, Account string
	// Resource is the part of an ARN after "<type>/", such as the
	// application inference profile ID.
	Resource string
}

// String returns Raw.
func (m ModelID) String() string { return m.Raw }

// IsARN reports whether the identifier is an ARN.
func (m ModelID) IsARN() bool { return strings.HasPrefix(m.Raw, "arn:") }

// knownGeos are the cross-Region inference geographies. us-gov, jp and au
// are listed by the AWS CDK's CrossRegionInferenceProfileRegion; ca is seen
// in public code using ca-central-1.
var knownGeos = map[string]bool{
	"us": true, "eu": true, "apac": true, "global": true,
	"us-gov": true, "jp": true, "au": true, "ca": true,
}

// knownProviders are model providers whose IDs appear on Bedrock. A prefix
// before one of them is taken as an (unknown) geography.
var knownProviders = map[string]bool{
	"amazon": true, "anthropic": true, "meta": true, "mistral": true,
	"cohere": true, "ai21": true, "deepseek": true, "openai": true,
	"qwen": true, "writer": true, "stability": true, "luma": true,
	"twelvelabs": true, "moonshot": true, "moonshotai": true,
	"minimax": true, "google": true, "nvidia": true, "zai": true,
}

const maxModelIDLen = 2048

// ParseModelID parses a Bedrock model identifier: a base model ID
// ("anthropic.claude-3-5-sonnet-20240620-v1:0"), a cross-Region inference
// profile ID ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", also eu.,
// apac., global., us-gov., jp., au., ca.), or the ARN of a foundation model,
// inference profile, application inference profile, provisioned model,
// custom model, imported model, prompt or Marketplace endpoint. The error
// wraps ErrInvalidInput and says what is wrong.
func ParseModelID(s string) (ModelID, error) {
	bad := func(why string) (ModelID, error) {
		return ModelID{}, fmt.Errorf("bedrockkit: model ID %q: %s: %w", s, why, ErrInvalidInput)
	}
	if s == "" {
		return bad("empty; use a base model ID such as anthropic.claude-3-5-haiku-20241022-v1:0, an inference profile such as us.anthropic.claude-sonnet-4-20250514-v1:0, or an ARN")
	}
	if len(s) > maxModelIDLen {
		return bad(fmt.Sprintf("longer than %d characters", maxModelIDLen))
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r > 0x7e {
			return bad("contains whitespace, a control or a non-ASCII character")
		}
	}
	if strings.HasPrefix(s, "arn:") {
		return parseModelARN(s)
	}
	id, err := parsePlainModelID(s)
	if err != nil {
		return bad(err.Error())
	}
	return id, nil
}

// parsePlainModelID parses "[geo.]provider.model[:version...]".
func parsePlainModelID(s string) (ModelID, error) {
	if strings.ContainsAny(s, "/") {
		return ModelID{}, fmt.Errorf("contains '/'; an ARN must start with arn:")
	}
	first, rest, ok := strings.Cut(s, ".")
	if !ok || first == "" || rest == "" {
		return ModelID{}, fmt.Errorf("expected provider.model (for example amazon.nova-lite-v1:0)")
	}
	id := ModelID{Raw: s, Kind: KindFoundationModel}
	if second, _, ok2 := strings.Cut(rest, "."); ok2 && (knownGeos[first] || (knownProviders[second] && !knownProviders[first])) {
		id.Kind = KindInferenceProfile
		id.Geo = first
		first, rest, _ = strings.Cut(rest, ".")
		if first == "" || rest == "" {
			return ModelID{}, fmt.Errorf("expected geo.provider.model after the %q prefix", id.Geo)
		}
	}
	if !isProviderName(first) {
		return ModelID{}, fmt.Errorf("provider %q must be lower-case letters, digits and '-'", first)
	}
	if strings.HasPrefix(rest, ":") || strings.HasSuffix(rest, ".") {
		return ModelID{}, fmt.Errorf("model name after %q is malformed", first+".")
	}
	id.Provider = first
	id.BaseModel = first + "." + rest
	return id, nil
}

func isProviderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// parseModelARN parses arn:partition:service:region:account:type/resource.
func parseModelARN(s string) (ModelID, error) {
	bad := func(why string) (ModelID, error) {
		return ModelID{}, fmt.Errorf("bedrockkit: model ARN %q: %s: %w", s, why, ErrInvalidInput)
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 {
		return bad("expected arn:<partition>:bedrock:<region>:<account>:<type>/<id>")
	}
	partition, service, region, account, res := parts[1], parts[2], parts[3], parts[4], parts[5]
	if partition == "" || region == "" {
		return bad("partition and region must not be empty")
	}
	typ, rid, ok := strings.Cut(res, "/")
	if !ok || rid == "" {
		return bad("expected <type>/<id> after the account field")
	}
	id := ModelID{Raw: s, Partition: partition, Region: region, Account: account, Resource: rid}
	if service == "sagemaker" {
		if typ != "endpoint" {
			return bad("only SageMaker endpoint ARNs (Bedrock Marketplace models) are model IDs")
		}
		id.Kind = KindMarketplaceEndpoint
		return id, nil
	}
	if service != "bedrock" {
		return bad(fmt.Sprintf("service is %q, want bedrock", service))
	}
	switch typ {
	case "foundation-model":
		in, err := parsePlainModelID(rid)
		if err != nil {
			return bad(err.Error())
		}
		if in.Geo != "" {
			return bad("a foundation-model ARN names a base model, not an inference profile")
		}
		id.Kind, id.Provider, id.BaseModel = KindFoundationModel, in.Provider, in.BaseModel
	case "inference-profile":
		in, err := parsePlainModelID(rid)
		if err != nil {
			return bad(err.Error())
		}
		id.Kind, id.Provider, id.BaseModel, id.Geo = KindInferenceProfile, in.Provider, in.BaseModel, in.Geo
	case "application-inference-profile":
		id.Kind = KindApplicationInferenceProfile
	case "provisioned-model":
		id.Kind = KindProvisionedModel
	case "custom-model":
		id.Kind = KindCustomModel
		// Custom model ARNs often embed the base model: custom-model/<base>/<id>.
		if base, _, ok := strings.Cut(rid, "/"); ok {
			if in, err := parsePlainModelID(base); err == nil && in.Geo == "" {
				id.Provider, id.BaseModel = in.Provider, in.BaseModel
			}
		}
	case "imported-model":
		id.Kind = KindImportedModel
	case "prompt":
		id.Kind = KindPrompt
	default:
		return bad(fmt.Sprintf("resource type %q is not a model (want foundation-model, inference-profile, application-inference-profile, provisioned-model, custom-model, imported-model or prompt)", typ))
	}
	if id.Kind != KindFoundationModel && account == "" {
		return bad("account must not be empty")
	}
	return id, nil
}

// Capabilities describes what a model supports through Converse. It comes
// from a built-in table (see CapabilitiesOf) and may lag behind new models.
type Capabilities struct {
	// Known is false when the model is not in the table; the other fields
	// then hold a conservative default.
	Known bool
	// Family names the table entry, such as "claude-3.7-sonnet".
	Family string
	// Tools: the model accepts toolConfig.
	Tools bool
	// ToolChoiceAny: the model accepts toolChoice "any".
	ToolChoiceAny bool
	// ToolChoiceTool: the model accepts toolChoice naming one tool.
	ToolChoiceTool bool
	// Images: the model accepts image content.
	Images bool
	// Documents: the model accepts document content.
	Documents bool
	// Reasoning: the model can return reasoning (extended thinking).
	Reasoning bool
	// PromptCacheMinTokens is the smallest prefix a cache point caches; 0
	// means prompt caching is not supported. Below it, a cache point is
	// silently ignored.
	PromptCacheMinTokens int
	// CacheTTL1h: cache points accept the 1 h TTL.
	CacheTTL1h bool
	// ToolCache: cache points are allowed after the tool definitions.
	ToolCache bool
	// NeedsInferenceProfile: on-demand use requires an inference profile
	// (a geo-prefixed ID or a profile ARN), not the bare base model ID.
	NeedsInferenceProfile bool
	// StructuredOutput: the model takes a JSON schema natively
	// (outputConfig.textFormat) and strict tool schemas. Other models get
	// structured output through a forced answer tool (see ConverseModel).
	StructuredOutput bool
	// Citations: the model cites documents given with Document.Citations.
	Citations bool
	// CountTokens: Bedrock's CountTokens operation counts the model's
	// input (through its base model ID).
	CountTokens bool
}

type capRule struct {
	provider string
	prefix   string // matched against the model name after "provider."
	caps     Capabilities
}

// capRules is ordered: the first matching prefix wins, so specific entries
// come before general ones. Sources: Bedrock user guide "Supported models and
// model features" (Converse), prompt-caching, and the SDK's ToolChoice
// documentation ("tool" only for Anthropic Claude 3+ and Amazon Nova).
//
// StructuredOutput follows the Bedrock model cards as summarised in
// anomalyco/models.dev#1765 (Claude 4.1, 4.5 and 4.6; not Opus 4.7, which
// answers "output_config.format: Extra inputs are not permitted", see
// vercel/ai#15288) and the Nova 2 documentation ("structured output
// support"). Bedrock has withdrawn it from models before (vercel/ai#19988,
// Haiku 4.5), so ConverseModel falls back to the forced tool when Bedrock
// refuses the schema. Citations: Claude 3.5 Sonnet v2 and later (Anthropic
// citations). CountTokens: the Claude models of the user guide's
// count-tokens page, called by base model ID; Nova and inference-profile
// IDs are refused ("The provided model doesn't support counting tokens").
var capRules = []capRule{
	// Anthropic Claude.
	{"anthropic", "claude-opus-4-5", structured(claude("claude-opus-4.5", 4096, true, true))},
	{"anthropic", "claude-haiku-4-5", structured(claude("claude-haiku-4.5", 4096, true, true))},
	{"anthropic", "claude-sonnet-4-5", structured(claude("claude-sonnet-4.5", 1024, true, true))},
	{"anthropic", "claude-sonnet-4-6", structured(claude("claude-sonnet-4.6", 1024, true, true))},
	{"anthropic", "claude-opus-4-6", structured(claude("claude-opus-4.6", 4096, true, true))},
	{"anthropic", "claude-opus-4-1", structured(claude("claude-opus-4.1", 1024, true, false))},
	{"anthropic", "claude-opus-4", claude("claude-opus-4", 1024, true, false)},
	{"anthropic", "claude-sonnet-4", claude("claude-sonnet-4", 1024, true, false)},
	{"anthropic", "claude-3-7-sonnet", claude("claude-3.7-sonnet", 1024, true, false)},
	{"anthropic", "claude-3-5-haiku", withProfile(claude("claude-3.5-haiku", 2048, false, false), false)},
	{"anthropic", "claude-3-5-sonnet-20241022", withProfile(claude("claude-3.5-sonnet-v2", 1024, false, false), false)},
	{"anthropic", "claude-3-5-sonnet", legacyClaude(withProfile(claude("claude-3.5-sonnet", 0, false, false), false))},
	{"anthropic", "claude-3-opus", legacyClaude(withProfile(claude("claude-3-opus", 0, false, false), false))},
	{"anthropic", "claude-3-sonnet", legacyClaude(withProfile(claude("claude-3-sonnet", 0, false, false), false))},
	{"anthropic", "claude-3-haiku", legacyClaude(withProfile(claude("claude-3-haiku", 0, false, false), false))},
	// Amazon Nova. Micro is text-only; Nova does not cache tool definitions.
	{"amazon", "nova-micro", Capabilities{Known: true, Family: "nova-micro", Tools: true, ToolChoiceAny: true, ToolChoiceTool: true, PromptCacheMinTokens: 1000}},
	{"amazon", "nova-2-lite", Capabilities{Known: true, Family: "nova-2-lite", Tools: true, ToolChoiceAny: true, ToolChoiceTool: true, Images: true, Documents: true, Reasoning: true, PromptCacheMinTokens: 1000, NeedsInferenceProfile: true, StructuredOutput: true}},
	{"amazon", "nova-premier", Capabilities{Known: true, Family: "nova-premier", Tools: true, ToolChoiceAny: true, ToolChoiceTool: true, Images: true, Documents: true, NeedsInferenceProfile: true}},
	{"amazon", "nova-", Capabilities{Known: true, Family: "nova", Tools: true, ToolChoiceAny: true, ToolChoiceTool: true, Images: true, Documents: true, PromptCacheMinTokens: 1000}},
	// Meta Llama: tool use from 3.1; vision in 3.2 11B/90B and Llama 4; tool choice auto only.
	{"meta", "llama4", Capabilities{Known: true, Family: "llama-4", Tools: true, Images: true, Documents: true, NeedsInferenceProfile: true}},
	{"meta", "llama3-2-11b", Capabilities{Known: true, Family: "llama-3.2-vision", Tools: true, Images: true, Documents: true, NeedsInferenceProfile: true}},
	{"meta", "llama3-2-90b", Capabilities{Known: true, Family: "llama-3.2-vision", Tools: true, Images: true, Documents: true, NeedsInferenceProfile: true}},
	{"meta", "llama3-2", Capabilities{Known: true, Family: "llama-3.2", Tools: true, Documents: true, NeedsInferenceProfile: true}},
	{"meta", "llama3-3", Capabilities{Known: true, Family: "llama-3.3", Tools: true, Documents: true, NeedsInferenceProfile: true}},
	{"meta", "llama3-1", Capabilities{Known: true, Family: "llama-3.1", Tools: true, Documents: true}},
	{"meta", "llama3", Capabilities{Known: true, Family: "llama-3", Documents: true}},
	// Mistral: Large and Small support tools; Pixtral adds images.
	{"mistral", "pixtral-large", Capabilities{Known: true, Family: "pixtral-large", Tools: true, ToolChoiceAny: true, Images: true, Documents: true, NeedsInferenceProfile: true}},
	{"mistral", "mistral-large", Capabilities{Known: true, Family: "mistral-large", Tools: true, ToolChoiceAny: true, Documents: true}},
	{"mistral", "mistral-small", Capabilities{Known: true, Family: "mistral-small", Tools: true, ToolChoiceAny: true, Documents: true}},
	{"mistral", "mistral-7b", Capabilities{Known: true, Family: "mistral-7b", Documents: true}},
	{"mistral", "mixtral", Capabilities{Known: true, Family: "mixtral", Documents: true}},
	// Cohere Command R / R+.
	{"cohere", "command-r", Capabilities{Known: true, Family: "command-r", Tools: true, Documents: true}},
}

func claude(family string, cacheMin int, reasoning, ttl1h bool) Capabilities {
	return Capabilities{
		Known: true, Family: family, Tools: true, ToolChoiceAny: true, ToolChoiceTool: true,
		Images: true, Documents: true, Reasoning: reasoning,
		PromptCacheMinTokens: cacheMin, CacheTTL1h: ttl1h, ToolCache: cacheMin > 0,
		NeedsInferenceProfile: true, Citations: true, CountTokens: true,
	}
}

// structured marks a model with native structured output.
func structured(c Capabilities) Capabilities {
	c.StructuredOutput = true
	return c
}

// legacyClaude marks a Claude 3 / 3.5 (v1) model: no citations and no
// token counting.
func legacyClaude(c Capabilities) Capabilities {
	c.Citations, c.CountTokens = false, false
	return c
}

func withProfile(c Capabilities, need bool) Capabilities {
	c.NeedsInferenceProfile = need
	return c
}

// conservative is returned for models not in the table: text only, tools
// with automatic choice, no caching.
var conservative = Capabilities{Known: false, Family: "unknown", Tools: true}

// CapabilitiesOf looks the model up in the built-in capability table, which
// covers Claude 3 / 3.5 / 3.7 / 4.x, Nova, Llama 3.x / 4, Mistral and Cohere
// Command R. It never fails: a model it does not know, or an identifier that
// hides the base model (application inference profile and provisioned model
// ARNs), gets a conservative default with Known false. Pass the base model
// explicitly with CapabilitiesOfBase in that case.
func CapabilitiesOf(id ModelID) Capabilities {
	return lookupCaps(id.Provider, id.BaseModel)
}

// CapabilitiesOfBase is CapabilitiesOf for a base model ID given as a string
// (with or without a geography prefix); an unparsable ID gets the
// conservative default.
func CapabilitiesOfBase(base string) Capabilities {
	id, err := ParseModelID(base)
	if err != nil {
		return conservative
	}
	return CapabilitiesOf(id)
}

func lookupCaps(provider, base string) Capabilities {
	if provider == "" || base == "" {
		return conservative
	}
	name := strings.TrimPrefix(base, provider+".")
	for _, r := range capRules {
		if r.provider == provider && strings.HasPrefix(name, r.prefix) {
			return r.caps
		}
	}
	return conservative
}
