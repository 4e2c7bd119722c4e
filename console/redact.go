package console

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit/guardrail"
)

// defaultRedactionPolicy is the guardrail policy the console masks with by
// default: secrets and the PII types that are rarely needed to debug an
// agent. Names, addresses and URLs are left alone: they are what agents
// usually work on and the detectors would mask too much.
const defaultRedactionPolicy = `{
  "name": "bedrockkit-console-redaction",
  "blockedInputMessaging": "redacted",
  "blockedOutputsMessaging": "redacted",
  "sensitiveInformationPolicyConfig": {
    "piiEntitiesConfig": [
      {"type": "AWS_ACCESS_KEY", "action": "ANONYMIZE"},
      {"type": "AWS_SECRET_KEY", "action": "ANONYMIZE"},
      {"type": "PASSWORD", "action": "ANONYMIZE"},
      {"type": "EMAIL", "action": "ANONYMIZE"},
      {"type": "PHONE", "action": "ANONYMIZE"},
      {"type": "CREDIT_DEBIT_CARD_NUMBER", "action": "ANONYMIZE"},
      {"type": "CREDIT_DEBIT_CARD_CVV", "action": "ANONYMIZE"},
      {"type": "US_SOCIAL_SECURITY_NUMBER", "action": "ANONYMIZE"},
      {"type": "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "action": "ANONYMIZE"},
      {"type": "UK_NATIONAL_INSURANCE_NUMBER", "action": "ANONYMIZE"},
      {"type": "CA_SOCIAL_INSURANCE_NUMBER", "action": "ANONYMIZE"}
    ],
    "regexesConfig": [
      {"name": "PRIVATE_KEY", "pattern": "-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)", "action": "ANONYMIZE"},
      {"name": "JWT", "pattern": "\\beyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*", "action": "ANONYMIZE"},
      {"name": "BEARER_TOKEN", "pattern": "(?i)\\bbearer\\s+[A-Za-z0-9._~+/=-]{8,}", "action": "ANONYMIZE"},
      {"name": "BASIC_AUTH", "pattern": "(?i)\\bbasic\\s+[A-Za-z0-9+/=]{8,}", "action": "ANONYMIZE"},
      {"name": "API_TOKEN", "pattern": "\\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{30,}|glpat-[A-Za-z0-9_-]{20,})", "action": "ANONYMIZE"},
      {"name": "SECRET_ASSIGNMENT", "pattern": "(?i)\\b(password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret|private[_-]?key)\\s*[=:]\\s*[^\\s,;\"'&]{4,}", "action": "ANONYMIZE"},
      {"name": "URL_CREDENTIALS", "pattern": "\\b[a-z][a-z0-9+.-]*://[^\\s/:@]+:[^\\s/@]+@", "action": "ANONYMIZE"}
    ]
  }
}`

// secretKey matches JSON object keys whose values are secrets.
var secretKey = regexp.MustCompile(`(?i)^(.*[_-])?(pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|authorization|auth|credentials?|private[_-]?key|session[_-]?key|access[_-]?key|cookie|pin|cvv|ssn)([_-].*)?$`)

// redactor masks secrets and PII in the text the console shows.
type redactor struct {
	disabled bool
	guards   []guardrail.Guard
	fn       func(string) string
}

func newRedactor(o Redaction) *redactor {
	r := &redactor{disabled: o.Disable, fn: o.Func}
	if o.Disable {
		return r
	}
	p, err := guardrail.ParsePolicy([]byte(defaultRedactionPolicy))
	if err != nil {
		panic("console: the default redaction policy is invalid: " + err.Error())
	}
	g, err := guardrail.NewLocal(p, guardrail.Options{})
	if err != nil {
		panic("console: the default redaction policy is invalid: " + err.Error())
	}
	r.guards = append(r.guards, g)
	if o.Guard != nil {
		r.guards = append(r.guards, o.Guard)
	}
	return r
}

// text masks s. When a guard fails, the whole text is withheld: the console
// fails closed.
func (r *redactor) text(ctx context.Context, s string) string {
	if s == "" {
		return s
	}
	if r.disabled {
		if r.fn != nil {
			return r.fn(s)
		}
		return s
	}
	s = redactJSONKeys(s)
	for _, g := range r.guards {
		res, err := g.Assess(ctx, guardrail.SourceOutput, guardrail.Content{Text: s})
		if err != nil {
			return "{WITHHELD: the redaction guardrail failed: " + err.Error() + "}"
		}
		s = maskFindings(s, res)
	}
	if r.fn != nil {
		s = r.fn(s)
	}
	return s
}

// redactJSONKeys replaces the values of secret-named keys when s is a JSON
// object or array; other text is returned as it is.
func redactJSONKeys(s string) string {
	t := strings.TrimSpace(s)
	if len(t) < 2 || (t[0] != '{' && t[0] != '[') {
		return s
	}
	dec := json.NewDecoder(strings.NewReader(t))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return s
	}
	if !maskKeys(v, 0) {
		return s
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return s
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// maskKeys replaces secret-named values in v; it reports whether it did.
func maskKeys(v any, depth int) bool {
	if depth > 64 {
		return false
	}
	changed := false
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if secretKey.MatchString(k) {
				if _, isObj := x.(map[string]any); !isObj && x != nil {
					v[k] = "{REDACTED}"
					changed = true
					continue
				}
			}
			changed = maskKeys(x, depth+1) || changed
		}
	case []any:
		for _, x := range v {
			changed = maskKeys(x, depth+1) || changed
		}
	}
	return changed
}

// maskFindings replaces the sensitive-information findings of res that the
// guardrail would mask or block with their type in braces. Findings with a
// span (local guards) are masked where they are; findings without one
// (Bedrock's ApplyGuardrail) are masked wherever their match occurs.
func maskFindings(s string, res *guardrail.Verdict) string {
	if res == nil || len(res.Assessments) == 0 {
		return s
	}
	type span struct {
		start, end int
		tag, match string
	}
	var spans []span
	var loose []span // match text without a span
	add := func(action, typ, match string, sp *guardrail.Span) {
		if action != "ANONYMIZED" && action != "BLOCKED" {
			return
		}
		tag := "{" + typ + "}"
		if sp != nil {
			if sp.Content == 0 && sp.Start >= 0 && sp.Start < sp.End && sp.End <= len(s) {
				spans = append(spans, span{start: sp.Start, end: sp.End, tag: tag})
			}
			return
		}
		if match != "" {
			loose = append(loose, span{tag: tag, match: match})
		}
	}
	for _, a := range res.Assessments {
		si := a.SensitiveInformationPolicy
		if si == nil {
			continue
		}
		for _, f := range si.PiiEntities {
			if f.Detected {
				add(f.Action, string(f.Type), f.Match, f.Span)
			}
		}
		for _, f := range si.Regexes {
			if f.Detected {
				add(f.Action, f.Name, f.Match, f.Span)
			}
		}
	}
	for _, l := range loose {
		for off := 0; off < len(s); {
			i := strings.Index(s[off:], l.match)
			if i < 0 {
				break
			}
			spans = append(spans, span{start: off + i, end: off + i + len(l.match), tag: l.tag})
			off += i + len(l.match)
		}
	}
	if len(spans) == 0 {
		return s
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var b strings.Builder
	pos := 0
	for i := 0; i < len(spans); {
		st, en, tag := spans[i].start, spans[i].end, spans[i].tag
		j := i + 1
		for j < len(spans) && spans[j].start < en {
			en = max(en, spans[j].end)
			j++
		}
		st = max(st, pos)
		b.WriteString(s[pos:st])
		b.WriteString(tag)
		pos = max(pos, en)
		i = j
	}
	b.WriteString(s[pos:])
	return b.String()
}

// cut returns s cut to at most n bytes on a rune boundary, and how many
// bytes were cut.
func cut(s string, n int) (string, int) {
	if len(s) <= n {
		return s, 0
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i], len(s) - i
}
