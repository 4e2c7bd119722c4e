package guardrail

// Qualifier tags a content block for contextual grounding, as in ApplyGuardrail.
type Qualifier string

// Content qualifiers.
const (
	QualifierGroundingSource Qualifier = "grounding_source"
	QualifierQuery           Qualifier = "query"
	QualifierGuardContent    Qualifier = "guard_content"
)

// Content is one text block to assess, with optional qualifiers.
type Content struct {
	Text       string      `json:"text"`
	Qualifiers []Qualifier `json:"qualifiers,omitempty"`
}

// TextContent returns unqualified content blocks for the texts.
func TextContent(texts ...string) []Content {
	c := make([]Content, len(texts))
	for i, t := range texts {
		c[i] = Content{Text: t}
	}
	return c
}

func (c Content) has(q Qualifier) bool {
	for _, x := range c.Qualifiers {
		if x == q {
			return true
		}
	}
	return false
}

// Outcome is the overall result of an assessment.
type Outcome string

// Assessment outcomes, as in ApplyGuardrail's action field.
const (
	OutcomeNone       Outcome = "NONE"
	OutcomeIntervened Outcome = "GUARDRAIL_INTERVENED"
)

// Verdict has the shape of Bedrock's ApplyGuardrail response: an action,
// outputs (the blocked message, or the masked text of each content block when
// something was anonymized) and one assessment.
type Verdict struct {
	Action      Outcome      `json:"action"`
	Outputs     []Output     `json:"outputs"`
	Assessments []Assessment `json:"assessments"`
	// ActionReason is Bedrock's explanation of the action, when it gives one.
	ActionReason string `json:"actionReason,omitempty"`
	// Usage is the text units Bedrock billed per policy (Remote only; nil
	// for Local, which bills nothing).
	Usage *GuardrailUsage `json:"usage,omitempty"`
	// Blocked is true when a BLOCK action fired (as opposed to masking only).
	Blocked bool `json:"-"`
}

// GuardrailUsage counts the text units (up to 1,000 characters each) that
// Bedrock billed per policy for one ApplyGuardrail call, as in its usage
// field (the SDK's types.GuardrailUsage).
type GuardrailUsage struct {
	TopicPolicyUnits                    int `json:"topicPolicyUnits"`
	ContentPolicyUnits                  int `json:"contentPolicyUnits"`
	WordPolicyUnits                     int `json:"wordPolicyUnits"`
	SensitiveInformationPolicyUnits     int `json:"sensitiveInformationPolicyUnits"`
	SensitiveInformationPolicyFreeUnits int `json:"sensitiveInformationPolicyFreeUnits"`
	ContextualGroundingPolicyUnits      int `json:"contextualGroundingPolicyUnits"`
	ContentPolicyImageUnits             int `json:"contentPolicyImageUnits,omitempty"`
	AutomatedReasoningPolicyUnits       int `json:"automatedReasoningPolicyUnits,omitempty"`
	AutomatedReasoningPolicies          int `json:"automatedReasoningPolicies,omitempty"`
}

// add returns the sum of u and v; either may be nil.
func (u *GuardrailUsage) add(v *GuardrailUsage) *GuardrailUsage {
	if u == nil {
		return v
	}
	if v == nil {
		return u
	}
	return &GuardrailUsage{
		TopicPolicyUnits:                    u.TopicPolicyUnits + v.TopicPolicyUnits,
		ContentPolicyUnits:                  u.ContentPolicyUnits + v.ContentPolicyUnits,
		WordPolicyUnits:                     u.WordPolicyUnits + v.WordPolicyUnits,
		SensitiveInformationPolicyUnits:     u.SensitiveInformationPolicyUnits + v.SensitiveInformationPolicyUnits,
		SensitiveInformationPolicyFreeUnits: u.SensitiveInformationPolicyFreeUnits + v.SensitiveInformationPolicyFreeUnits,
		ContextualGroundingPolicyUnits:      u.ContextualGroundingPolicyUnits + v.ContextualGroundingPolicyUnits,
		ContentPolicyImageUnits:             u.ContentPolicyImageUnits + v.ContentPolicyImageUnits,
		AutomatedReasoningPolicyUnits:       u.AutomatedReasoningPolicyUnits + v.AutomatedReasoningPolicyUnits,
		AutomatedReasoningPolicies:          u.AutomatedReasoningPolicies + v.AutomatedReasoningPolicies,
	}
}

// Output is one output text.
type Output struct {
	Text string `json:"text"`
}

// Assessment holds the findings of each policy. A policy with no findings is nil.
type Assessment struct {
	TopicPolicy                *TopicAssessment     `json:"topicPolicy,omitempty"`
	ContentPolicy              *ContentAssessment   `json:"contentPolicy,omitempty"`
	WordPolicy                 *WordAssessment      `json:"wordPolicy,omitempty"`
	SensitiveInformationPolicy *SensitiveAssessment `json:"sensitiveInformationPolicy,omitempty"`
	ContextualGroundingPolicy  *GroundingAssessment `json:"contextualGroundingPolicy,omitempty"`
}

// Span locates a finding: content block Content, bytes [Start, End) of its
// text. It is a bedrockkit extension to Bedrock's shape; remote findings carry
// no span.
type Span struct {
	Content int `json:"content"`
	Start   int `json:"start"`
	End     int `json:"end"`
}

// TopicAssessment lists denied topics found.
type TopicAssessment struct {
	Topics []TopicFinding `json:"topics"`
}

// TopicFinding is one denied topic found.
type TopicFinding struct {
	Name     string  `json:"name"`
	Type     string  `json:"type"`
	Action   string  `json:"action"`
	Detected bool    `json:"detected"`
	Score    float64 `json:"score,omitempty"`
	Reason   string  `json:"reason,omitempty"`
	Span     *Span   `json:"span,omitempty"`
}

// ContentAssessment lists content-filter findings.
type ContentAssessment struct {
	Filters []ContentFinding `json:"filters"`
}

// ContentFinding is one content-filter finding.
type ContentFinding struct {
	Type           ContentFilterType `json:"type"`
	Confidence     Strength          `json:"confidence"`
	FilterStrength Strength          `json:"filterStrength"`
	Action         string            `json:"action"`
	Detected       bool              `json:"detected"`
	Score          float64           `json:"score,omitempty"`
	Reason         string            `json:"reason,omitempty"`
	Span           *Span             `json:"span,omitempty"`
}

// WordAssessment lists word-filter findings.
type WordAssessment struct {
	CustomWords      []WordFinding `json:"customWords,omitempty"`
	ManagedWordLists []WordFinding `json:"managedWordLists,omitempty"`
}

// WordFinding is one blocked word found. Match is the configured word; Text
// is what the original text said (after evasion it may differ).
type WordFinding struct {
	Match    string `json:"match"`
	Type     string `json:"type,omitempty"`
	Action   string `json:"action"`
	Detected bool   `json:"detected"`
	Text     string `json:"text,omitempty"`
	Span     *Span  `json:"span,omitempty"`
}

// SensitiveAssessment lists PII and custom-regex findings.
type SensitiveAssessment struct {
	PiiEntities []PIIFinding   `json:"piiEntities,omitempty"`
	Regexes     []RegexFinding `json:"regexes,omitempty"`
}

// PIIFinding is one PII entity found. Action is BLOCKED, ANONYMIZED or NONE.
type PIIFinding struct {
	Type     PIIType `json:"type"`
	Match    string  `json:"match"`
	Action   string  `json:"action"`
	Detected bool    `json:"detected"`
	Score    float64 `json:"score,omitempty"`
	Reason   string  `json:"reason,omitempty"`
	Span     *Span   `json:"span,omitempty"`
}

// RegexFinding is one custom-regex match.
type RegexFinding struct {
	Name     string `json:"name"`
	Regex    string `json:"regex"`
	Match    string `json:"match"`
	Action   string `json:"action"`
	Detected bool   `json:"detected"`
	Span     *Span  `json:"span,omitempty"`
}

// GroundingAssessment lists contextual grounding scores.
type GroundingAssessment struct {
	Filters []GroundingFinding `json:"filters"`
}

// GroundingFinding is one grounding or relevance score against its threshold.
type GroundingFinding struct {
	Type      GroundingFilterType `json:"type"`
	Threshold float64             `json:"threshold"`
	Score     float64             `json:"score"`
	Action    string              `json:"action"`
	Detected  bool                `json:"detected"`
	Reason    string              `json:"reason,omitempty"`
}

// assessment action words, as Bedrock reports them.
const (
	actBlocked    = "BLOCKED"
	actAnonymized = "ANONYMIZED"
	actNone       = "NONE"
)
