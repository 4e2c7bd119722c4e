package guardrail

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// Strength is how aggressively a content filter blocks: NONE, LOW, MEDIUM or
// HIGH. A higher strength blocks lower-confidence findings: HIGH blocks LOW,
// MEDIUM and HIGH confidence; MEDIUM blocks MEDIUM and HIGH; LOW blocks HIGH.
type Strength string

// Filter strengths (and confidences, which use the same words).
const (
	StrengthNone   Strength = "NONE"
	StrengthLow    Strength = "LOW"
	StrengthMedium Strength = "MEDIUM"
	StrengthHigh   Strength = "HIGH"
)

func (s Strength) rank() int {
	switch s {
	case StrengthLow:
		return 1
	case StrengthMedium:
		return 2
	case StrengthHigh:
		return 3
	}
	return 0
}

// Blocks reports whether a filter of strength s blocks a finding of confidence c.
func (s Strength) Blocks(c Strength) bool {
	return s.rank() > 0 && c.rank() > 0 && c.rank() >= 4-s.rank()
}

// ContentFilterType is a content-filter category.
type ContentFilterType string

// Content-filter categories, as in Bedrock.
const (
	FilterHate         ContentFilterType = "HATE"
	FilterInsults      ContentFilterType = "INSULTS"
	FilterSexual       ContentFilterType = "SEXUAL"
	FilterViolence     ContentFilterType = "VIOLENCE"
	FilterMisconduct   ContentFilterType = "MISCONDUCT"
	FilterPromptAttack ContentFilterType = "PROMPT_ATTACK"
)

// Action is what a policy does when it finds something: BLOCK, ANONYMIZE
// (sensitive information only) or NONE (detect and report only).
type Action string

// Policy actions.
const (
	ActionBlock     Action = "BLOCK"
	ActionAnonymize Action = "ANONYMIZE"
	ActionNone      Action = "NONE"
)

// Source says whether content is a model's input or its output.
type Source string

// Content sources, as in ApplyGuardrail.
const (
	SourceInput  Source = "INPUT"
	SourceOutput Source = "OUTPUT"
)

// Direction holds the per-direction settings every Bedrock policy entry
// carries. Nil Enabled means enabled; an empty action means the entry's
// default (BLOCK for most policies, Action for sensitive information).
type Direction struct {
	InputAction   Action `json:"inputAction,omitempty"`
	OutputAction  Action `json:"outputAction,omitempty"`
	InputEnabled  *bool  `json:"inputEnabled,omitempty"`
	OutputEnabled *bool  `json:"outputEnabled,omitempty"`
}

// enabled reports whether the entry applies to src.
func (d Direction) enabled(src Source) bool {
	p := d.InputEnabled
	if src == SourceOutput {
		p = d.OutputEnabled
	}
	return p == nil || *p
}

// action returns the action for src, falling back to def.
func (d Direction) action(src Source, def Action) Action {
	a := d.InputAction
	if src == SourceOutput {
		a = d.OutputAction
	}
	if a == "" {
		return def
	}
	return a
}

// Policy is a guardrail definition with the fields and JSON of Bedrock's
// CreateGuardrail request. Load one with ParsePolicy or LoadPolicy; build one
// in code and call Validate.
type Policy struct {
	Name                             string                 `json:"name,omitempty"`
	Description                      string                 `json:"description,omitempty"`
	TopicPolicyConfig                *TopicPolicyConfig     `json:"topicPolicyConfig,omitempty"`
	ContentPolicyConfig              *ContentPolicyConfig   `json:"contentPolicyConfig,omitempty"`
	WordPolicyConfig                 *WordPolicyConfig      `json:"wordPolicyConfig,omitempty"`
	SensitiveInformationPolicyConfig *SensitiveInfoConfig   `json:"sensitiveInformationPolicyConfig,omitempty"`
	ContextualGroundingPolicyConfig  *GroundingPolicyConfig `json:"contextualGroundingPolicyConfig,omitempty"`
	BlockedInputMessaging            string                 `json:"blockedInputMessaging"`
	BlockedOutputsMessaging          string                 `json:"blockedOutputsMessaging"`
	KmsKeyID                         string                 `json:"kmsKeyId,omitempty"`
	Tags                             []map[string]string    `json:"tags,omitempty"`
	CrossRegionConfig                map[string]any         `json:"crossRegionConfig,omitempty"`
	AutomatedReasoningPolicyConfig   map[string]any         `json:"automatedReasoningPolicyConfig,omitempty"`
}

// TopicPolicyConfig lists denied topics.
type TopicPolicyConfig struct {
	TopicsConfig []TopicConfig `json:"topicsConfig"`
	TierConfig   *TierConfig   `json:"tierConfig,omitempty"`
}

// TierConfig selects Bedrock's safeguard tier. The local engine accepts
// both tiers; TierStandard allows 1,000-character topic definitions.
type TierConfig struct {
	TierName TierName `json:"tierName"`
}

// TierName is a Bedrock safeguard tier.
type TierName string

// Safeguard tiers, as in Bedrock.
const (
	TierClassic  TierName = "CLASSIC"
	TierStandard TierName = "STANDARD"
)

// TopicType is the type of a topic; Bedrock has only TopicDeny.
type TopicType string

// Topic types, as in Bedrock.
const (
	// TopicDeny makes the topic a denied topic.
	TopicDeny TopicType = "DENY"
)

// TopicConfig is one denied topic: a name, a definition, up to five
// examples, and Type TopicDeny.
type TopicConfig struct {
	Name       string    `json:"name"`
	Definition string    `json:"definition"`
	Examples   []string  `json:"examples,omitempty"`
	Type       TopicType `json:"type"`
	Direction
}

// ContentPolicyConfig lists content filters.
type ContentPolicyConfig struct {
	FiltersConfig []ContentFilterConfig `json:"filtersConfig"`
	TierConfig    *TierConfig           `json:"tierConfig,omitempty"`
}

// ContentFilterConfig is one content filter with a strength per direction.
// The modalities say which content it applies to; the local engine
// assesses text only.
type ContentFilterConfig struct {
	Type             ContentFilterType `json:"type"`
	InputStrength    Strength          `json:"inputStrength"`
	OutputStrength   Strength          `json:"outputStrength"`
	InputModalities  []Modality        `json:"inputModalities,omitempty"`
	OutputModalities []Modality        `json:"outputModalities,omitempty"`
	Direction
}

// Modality is a kind of content a content filter applies to.
type Modality string

// Content-filter modalities, as in Bedrock.
const (
	ModalityText  Modality = "TEXT"
	ModalityImage Modality = "IMAGE"
)

// WordPolicyConfig lists custom words and managed word lists.
type WordPolicyConfig struct {
	WordsConfig            []WordConfig            `json:"wordsConfig,omitempty"`
	ManagedWordListsConfig []ManagedWordListConfig `json:"managedWordListsConfig,omitempty"`
}

// WordConfig is one blocked word or phrase.
type WordConfig struct {
	Text string `json:"text"`
	Direction
}

// ManagedWordListConfig enables a managed word list.
type ManagedWordListConfig struct {
	Type ManagedWordListType `json:"type"`
	Direction
}

// ManagedWordListType names a managed word list; Bedrock has only
// ManagedProfanity.
type ManagedWordListType string

// Managed word lists, as in Bedrock.
const (
	// ManagedProfanity is the managed profanity list.
	ManagedProfanity ManagedWordListType = "PROFANITY"
)

// SensitiveInfoConfig lists PII entities and custom regexes.
type SensitiveInfoConfig struct {
	PiiEntitiesConfig []PIIEntityConfig `json:"piiEntitiesConfig,omitempty"`
	RegexesConfig     []RegexConfig     `json:"regexesConfig,omitempty"`
}

// PIIEntityConfig enables one PII entity type. Action is BLOCK, ANONYMIZE or
// NONE; InputAction/OutputAction override it per direction.
type PIIEntityConfig struct {
	Type   PIIType `json:"type"`
	Action Action  `json:"action"`
	Direction
}

// RegexConfig is a custom sensitive-information pattern (Go RE2 syntax).
type RegexConfig struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Pattern     string `json:"pattern"`
	Action      Action `json:"action"`
	Direction
}

// GroundingPolicyConfig lists contextual grounding filters.
type GroundingPolicyConfig struct {
	FiltersConfig []GroundingFilterConfig `json:"filtersConfig"`
}

// GroundingFilterType is GROUNDING or RELEVANCE.
type GroundingFilterType string

// Contextual grounding filter types.
const (
	GroundingFilter GroundingFilterType = "GROUNDING"
	RelevanceFilter GroundingFilterType = "RELEVANCE"
)

// GroundingFilterConfig blocks responses whose score is below Threshold (0 to <1).
type GroundingFilterConfig struct {
	Type      GroundingFilterType `json:"type"`
	Threshold float64             `json:"threshold"`
	Action    Action              `json:"action,omitempty"`
	Enabled   *bool               `json:"enabled,omitempty"`
}

// ParsePolicy reads a policy from Bedrock's CreateGuardrail JSON and validates it.
// Unknown fields are rejected so that typos do not silently disable a policy.
func ParsePolicy(data []byte) (*Policy, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("guardrail: policy JSON: %v (use the field names of Bedrock's CreateGuardrail request): %w", err, bedrockkit.ErrInvalidInput)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// LoadPolicy reads and validates a policy file in CreateGuardrail JSON.
func LoadPolicy(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("guardrail: read policy: %w", err)
	}
	return ParsePolicy(b)
}

// ValidationError lists every problem found in a policy. It wraps
// bedrockkit.ErrInvalidInput.
type ValidationError struct {
	Problems []string
}

// Error lists the problems, one per clause.
func (e *ValidationError) Error() string {
	return "guardrail: invalid policy: " + strings.Join(e.Problems, "; ")
}

// Unwrap returns bedrockkit.ErrInvalidInput.
func (e *ValidationError) Unwrap() error { return bedrockkit.ErrInvalidInput }

var topicNameRE = regexp.MustCompile(`^[0-9a-zA-Z\-_ !?.]{1,100}$`)

// Validate checks the policy against Bedrock's CreateGuardrail limits and
// returns a *ValidationError listing every problem, or nil.
func (p *Policy) Validate() error {
	var v policyProblems
	if p.BlockedInputMessaging == "" {
		v.add("blockedInputMessaging is required (the text returned when input is blocked)")
	}
	if p.BlockedOutputsMessaging == "" {
		v.add("blockedOutputsMessaging is required (the text returned when output is blocked)")
	}
	if len(p.BlockedInputMessaging) > 500 || len(p.BlockedOutputsMessaging) > 500 {
		v.add("blocked messages are limited to 500 characters")
	}
	if c := p.TopicPolicyConfig; c != nil {
		v.topics(c)
	}
	if c := p.ContentPolicyConfig; c != nil {
		v.content(c)
	}
	if c := p.WordPolicyConfig; c != nil {
		v.words(c)
	}
	if c := p.SensitiveInformationPolicyConfig; c != nil {
		v.sensitive(c)
	}
	if c := p.ContextualGroundingPolicyConfig; c != nil {
		v.grounding(c)
	}
	if len(v.probs) > 0 {
		return &ValidationError{Problems: v.probs}
	}
	return nil
}

// policyProblems collects what Validate finds wrong, in policy order.
type policyProblems struct {
	probs []string
}

func (v *policyProblems) add(format string, a ...any) {
	v.probs = append(v.probs, fmt.Sprintf(format, a...))
}

// checkAction checks one action; ANONYMIZE only where allowAnon.
func (v *policyProblems) checkAction(where string, a Action, allowAnon bool) {
	switch a {
	case "", ActionBlock, ActionNone:
	case ActionAnonymize:
		if !allowAnon {
			v.add("%s: action ANONYMIZE is only valid for sensitive information", where)
		}
	default:
		v.add("%s: unknown action %q (want BLOCK, NONE%s)", where, a, map[bool]string{true: " or ANONYMIZE"}[allowAnon])
	}
}

// checkDir checks the input and output actions of a Direction.
func (v *policyProblems) checkDir(where string, d Direction, anon bool) {
	v.checkAction(where+".inputAction", d.InputAction, anon)
	v.checkAction(where+".outputAction", d.OutputAction, anon)
}

func (v *policyProblems) topics(c *TopicPolicyConfig) {
	maxDef := 200
	if c.TierConfig != nil && strings.EqualFold(string(c.TierConfig.TierName), string(TierStandard)) {
		maxDef = 1000
	}
	if len(c.TopicsConfig) > 30 {
		v.add("topicPolicyConfig: at most 30 topics, got %d", len(c.TopicsConfig))
	}
	seen := map[string]bool{}
	for i, t := range c.TopicsConfig {
		w := fmt.Sprintf("topicsConfig[%d]", i)
		if !topicNameRE.MatchString(t.Name) {
			v.add("%s.name %q must be 1-100 characters of letters, digits, space and -_!?.", w, t.Name)
		}
		if seen[strings.ToLower(t.Name)] {
			v.add("%s.name %q is duplicated", w, t.Name)
		}
		seen[strings.ToLower(t.Name)] = true
		if t.Definition == "" || len([]rune(t.Definition)) > maxDef {
			v.add("%s.definition must be 1-%d characters", w, maxDef)
		}
		if len(t.Examples) > 5 {
			v.add("%s: at most 5 examples, got %d", w, len(t.Examples))
		}
		for j, ex := range t.Examples {
			if ex == "" || len([]rune(ex)) > 100 {
				v.add("%s.examples[%d] must be 1-100 characters", w, j)
			}
		}
		if t.Type != TopicDeny {
			v.add("%s.type must be DENY, got %q", w, t.Type)
		}
		v.checkDir(w, t.Direction, false)
	}
}

func (v *policyProblems) content(c *ContentPolicyConfig) {
	seen := map[ContentFilterType]bool{}
	for i, f := range c.FiltersConfig {
		w := fmt.Sprintf("contentPolicyConfig.filtersConfig[%d]", i)
		switch f.Type {
		case FilterHate, FilterInsults, FilterSexual, FilterViolence, FilterMisconduct, FilterPromptAttack:
		default:
			v.add("%s.type %q is not one of HATE, INSULTS, SEXUAL, VIOLENCE, MISCONDUCT, PROMPT_ATTACK", w, f.Type)
		}
		if seen[f.Type] {
			v.add("%s.type %s appears twice", w, f.Type)
		}
		seen[f.Type] = true
		for _, s := range []Strength{f.InputStrength, f.OutputStrength} {
			switch s {
			case StrengthNone, StrengthLow, StrengthMedium, StrengthHigh:
			default:
				v.add("%s: strength %q must be NONE, LOW, MEDIUM or HIGH", w, s)
			}
		}
		if f.Type == FilterPromptAttack && f.OutputStrength != StrengthNone && f.OutputStrength != "" {
			v.add("%s: PROMPT_ATTACK applies to input only; set outputStrength to NONE", w)
		}
		v.checkDir(w, f.Direction, false)
	}
}

func (v *policyProblems) words(c *WordPolicyConfig) {
	if len(c.WordsConfig) > 10000 {
		v.add("wordPolicyConfig: at most 10,000 words, got %d", len(c.WordsConfig))
	}
	for i, wc := range c.WordsConfig {
		w := fmt.Sprintf("wordPolicyConfig.wordsConfig[%d]", i)
		if strings.TrimSpace(wc.Text) == "" || len([]rune(wc.Text)) > 100 {
			v.add("%s.text must be 1-100 characters", w)
		}
		v.checkDir(w, wc.Direction, false)
	}
	for i, m := range c.ManagedWordListsConfig {
		w := fmt.Sprintf("wordPolicyConfig.managedWordListsConfig[%d]", i)
		if m.Type != ManagedProfanity {
			v.add("%s.type must be PROFANITY, got %q", w, m.Type)
		}
		v.checkDir(w, m.Direction, false)
	}
}

func (v *policyProblems) sensitive(c *SensitiveInfoConfig) {
	seen := map[PIIType]bool{}
	for i, e := range c.PiiEntitiesConfig {
		w := fmt.Sprintf("sensitiveInformationPolicyConfig.piiEntitiesConfig[%d]", i)
		if !e.Type.Valid() {
			v.add("%s.type %q is not a Bedrock PII entity type (see guardrail.PIITypes)", w, e.Type)
		}
		if seen[e.Type] {
			v.add("%s.type %s appears twice", w, e.Type)
		}
		seen[e.Type] = true
		if e.Action == "" && e.InputAction == "" && e.OutputAction == "" {
			v.add("%s.action is required (BLOCK, ANONYMIZE or NONE)", w)
		}
		v.checkAction(w+".action", e.Action, true)
		v.checkDir(w, e.Direction, true)
	}
	for i, r := range c.RegexesConfig {
		w := fmt.Sprintf("sensitiveInformationPolicyConfig.regexesConfig[%d]", i)
		if r.Name == "" || len(r.Name) > 100 {
			v.add("%s.name must be 1-100 characters", w)
		}
		if r.Pattern == "" {
			v.add("%s.pattern is required", w)
		} else if _, err := regexp.Compile(r.Pattern); err != nil {
			v.add("%s.pattern does not compile as Go RE2 (%v); lookarounds and backreferences are not supported", w, err)
		}
		if r.Action == "" && r.InputAction == "" && r.OutputAction == "" {
			v.add("%s.action is required (BLOCK, ANONYMIZE or NONE)", w)
		}
		v.checkAction(w+".action", r.Action, true)
		v.checkDir(w, r.Direction, true)
	}
}

func (v *policyProblems) grounding(c *GroundingPolicyConfig) {
	for i, f := range c.FiltersConfig {
		w := fmt.Sprintf("contextualGroundingPolicyConfig.filtersConfig[%d]", i)
		if f.Type != GroundingFilter && f.Type != RelevanceFilter {
			v.add("%s.type must be GROUNDING or RELEVANCE, got %q", w, f.Type)
		}
		if f.Threshold < 0 || f.Threshold >= 1 {
			v.add("%s.threshold must be in [0, 1), got %g", w, f.Threshold)
		}
		v.checkAction(w+".action", f.Action, false)
	}
}

// errNoPolicy is returned by NewLocal for a nil policy.
var errNoPolicy = errors.New("guardrail: nil policy; build one or load it with LoadPolicy")
