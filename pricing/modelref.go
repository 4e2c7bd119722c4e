package pricing

import "strings"

// modelRef is a model ID reduced to what pricing needs. The root package is
// to gain a public model-ID parser; until it does, this one stays unexported.
type modelRef struct {
	id     string // lower-case base model ID, or the whole ARN when it names no model
	base   string // id up to its first ':' (version / context suffix removed)
	global bool   // a "global." inference profile
	region string // Region from an ARN, if any
}

// geoPrefixes are the inference-profile prefixes Bedrock uses. A model ID's
// first dot-separated label is otherwise its provider (anthropic, meta, ...).
var geoPrefixes = map[string]bool{
	"us": true, "us-gov": true, "eu": true, "apac": true, "global": true,
	"jp": true, "au": true, "ca": true,
}

// parseModelRef resolves model IDs, inference-profile IDs and ARNs:
//
//	anthropic.claude-3-haiku-20240307-v1:0
//	us.anthropic.claude-3-5-haiku-20241022-v1:0
//	arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0
//	arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0
//
// Other ARNs (application inference profiles, provisioned or custom models)
// name no model: their id is the whole ARN, which a row may list verbatim.
func parseModelRef(s string) modelRef {
	s = strings.ToLower(strings.TrimSpace(s))
	var ref modelRef
	if strings.HasPrefix(s, "arn:") {
		parts := strings.SplitN(s, ":", 6)
		if len(parts) == 6 {
			ref.region = parts[3]
			kind, rest, ok := strings.Cut(parts[5], "/")
			if ok && (kind == "foundation-model" || kind == "inference-profile") && rest != "" {
				s = rest
			} else {
				ref.id, ref.base = s, s
				return ref
			}
		} else {
			ref.id, ref.base = s, s
			return ref
		}
	}
	if label, rest, ok := strings.Cut(s, "."); ok && geoPrefixes[label] && rest != "" {
		ref.global = label == "global"
		s = rest
	}
	ref.id = s
	ref.base, _, _ = strings.Cut(s, ":")
	return ref
}
