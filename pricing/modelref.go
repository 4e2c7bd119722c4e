package pricing

import (
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// modelRef is a model ID reduced to what pricing needs.
type modelRef struct {
	id     string // lower-case base model ID, or the whole identifier when it names no model
	base   string // id up to its first ':' (version / context suffix removed); id for ARNs
	global bool   // a "global." inference profile
	region string // Region from an ARN, if any
}

// parseModelRef resolves model IDs, inference-profile IDs and ARNs with
// bedrockkit.ParseModelID:
//
//	anthropic.claude-3-haiku-20240307-v1:0
//	us.anthropic.claude-3-5-haiku-20241022-v1:0
//	arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0
//	arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0
//
// Identifiers that hide the model (application inference profiles,
// provisioned or custom models) and strings ParseModelID rejects keep their
// whole (trimmed, lower-cased) text as id, which a row may list verbatim.
// Custom models are deliberately not priced as their base model: they are
// billed through Provisioned Throughput.
func parseModelRef(s string) modelRef {
	s = strings.ToLower(strings.TrimSpace(s))
	ref := modelRef{id: s, base: s}
	mid, err := bedrockkit.ParseModelID(s)
	if err != nil {
		if !strings.HasPrefix(s, "arn:") {
			ref.base, _, _ = strings.Cut(s, ":")
		}
		return ref
	}
	ref.region = mid.Region
	switch mid.Kind {
	case bedrockkit.KindFoundationModel, bedrockkit.KindInferenceProfile:
		ref.id = mid.BaseModel
		ref.base, _, _ = strings.Cut(mid.BaseModel, ":")
		ref.global = mid.Geo == "global"
	}
	return ref
}
