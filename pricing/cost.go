package pricing

import (
	"fmt"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit"
)

// Terms are the conditions a call was billed under.
type Terms struct {
	// Batch prices input and output at the row's batch rates (an error when
	// the row has none). Cache tokens keep their on-demand rates: no source
	// gives a batch discount for them.
	Batch bool
	// CacheWriteTTL selects the cache-write rate: CacheTTL1h for 1-hour cache
	// points, anything else for the 5-minute default. bedrockkit.Usage does not
	// split writes by TTL, so a call mixing both should be priced at 1h (an
	// upper bound).
	CacheWriteTTL bedrockkit.CacheTTL
	// Region prefers a row limited to this AWS Region; empty means any.
	Region string
	// ServiceTier and LatencyMode select the row of the tier and latency
	// mode that served the call (see Variant and ServedVariant); empty
	// means the standard tier at standard latency. A variant the model has
	// no row for is an error wrapping ErrUnpriced, never priced at another
	// tier's rates.
	ServiceTier bedrockkit.ServiceTier
	LatencyMode bedrockkit.LatencyMode
}

// variant returns the terms' service variant.
func (t Terms) variant() Variant {
	return Variant{Tier: t.ServiceTier, Latency: t.LatencyMode}.normal()
}

// Breakdown is a cost split by token class. Each line is rounded once (see
// Row.Cost) and Total is the sum of the lines.
type Breakdown struct {
	Input      Money `json:"input"`
	Output     Money `json:"output"`
	CacheRead  Money `json:"cache_read"`
	CacheWrite Money `json:"cache_write"`
	Total      Money `json:"total"`
}

// Add returns the line-by-line sum of b and o.
func (b Breakdown) Add(o Breakdown) Breakdown {
	return Breakdown{Input: b.Input + o.Input, Output: b.Output + o.Output, CacheRead: b.CacheRead + o.CacheRead,
		CacheWrite: b.CacheWrite + o.CacheWrite, Total: b.Total + o.Total}
}

// Bill is the cost of one call (or of summed usage) on one model.
type Bill struct {
	Breakdown
	// ModelID is the ID priced, as given; PriceID is the canonical ID of the
	// catalog row that priced it.
	ModelID string
	PriceID string
	Usage   bedrockkit.Usage
	// Estimated is true when the usage was estimated, not reported by the model.
	Estimated bool
	// Fallback is true when the catalog's fallback row priced an unknown model.
	Fallback bool
	// Variant is the service tier and latency mode the usage was priced at.
	Variant Variant
	// Committed is true when the call was served by capacity paid for by
	// the hour or month (Provisioned Throughput, the reserved tier): the
	// tokens are counted and cost nothing per call.
	Committed bool
}

// Cost prices usage on modelID with the embedded Default catalog at on-demand
// rates. See Catalog.Cost.
func Cost(modelID string, u bedrockkit.Usage) (Bill, error) {
	return Default().Cost(modelID, u)
}

// Cost prices usage on modelID at on-demand rates, 5-minute cache writes.
// An unknown model is an error wrapping ErrUnknownModel unless the catalog
// has a fallback row; usage in a class the row has no rate for is an error
// wrapping ErrUnpriced.
func (c *Catalog) Cost(modelID string, u bedrockkit.Usage) (Bill, error) {
	return c.CostWith(modelID, u, Terms{})
}

// CostWith prices usage on modelID under the given terms.
func (c *Catalog) CostWith(modelID string, u bedrockkit.Usage, t Terms) (Bill, error) {
	p, err := c.LookupVariant(modelID, t.Region, t.variant())
	if err != nil {
		return Bill{}, err
	}
	b, err := p.Cost(u, t)
	b.ModelID = modelID
	b.Fallback = p.Fallback
	b.Committed = p.Committed
	if !p.Committed || t.variant().Tier == bedrockkit.ServiceTierReserved {
		b.Variant = t.variant()
	}
	return b, err
}

// Cost prices usage at the row's rates. Each token class is priced exactly
// (tokens x nano-dollars per million) and rounded once, half up, to a whole
// nano-dollar; Total is the sum of the rounded lines, so lines always add up
// to Total. With every rate in the embedded table, a line is a whole number of
// nano-dollars for any even token count, so rounding is at most half a
// nano-dollar per line and usually none. Negative token counts are an error
// wrapping bedrockkit.ErrInvalidInput; cache tokens on a row marked
// NoPromptCaching, an error wrapping ErrNoPromptCaching.
func (r Row) Cost(u bedrockkit.Usage, t Terms) (Bill, error) {
	b := Bill{PriceID: r.ID(), Usage: u, Estimated: u.Estimated}
	in, out := r.Input, r.Output
	inName, outName := "input", "output"
	if t.Batch {
		in, out = r.BatchInput, r.BatchOutput
		inName, outName = "batch input", "batch output"
	}
	write, writeName := r.CacheWrite5m, "cache write (5m)"
	if t.CacheWriteTTL == bedrockkit.CacheTTL1h {
		write, writeName = r.CacheWrite1h, "cache write (1h)"
	}
	if r.NoPromptCaching && (u.CacheReadTokens > 0 || u.CacheWriteTokens > 0) {
		return Bill{}, fmt.Errorf("pricing: usage has %d cache read and %d cache write tokens, but Bedrock offers no prompt caching for %q; the usage is attributed to the wrong model ID, or came from another provider: %w",
			u.CacheReadTokens, u.CacheWriteTokens, r.ID(), ErrNoPromptCaching)
	}
	var err error
	price := func(n int, rate Rate, name string) Money {
		if n == 0 || err != nil {
			return 0
		}
		if n < 0 {
			err = fmt.Errorf("pricing: %d %s tokens; token counts cannot be negative: %w", n, name, bedrockkit.ErrInvalidInput)
			return 0
		}
		if !rate.IsSet() {
			err = &UnpricedError{PriceID: r.ID(), Class: name}
			return 0
		}
		m, ok := roundMillionths(rate.costOf(uint64(n)))
		if !ok {
			err = fmt.Errorf("pricing: cost of %d %s tokens overflows: %w", n, name, bedrockkit.ErrInvalidInput)
		}
		return m
	}
	b.Input = price(u.InputTokens, in, inName)
	b.Output = price(u.OutputTokens, out, outName)
	b.CacheRead = price(u.CacheReadTokens, r.CacheRead, "cache read")
	b.CacheWrite = price(u.CacheWriteTokens, write, writeName)
	if err != nil {
		return Bill{}, err
	}
	b.Total = b.Input + b.Output + b.CacheRead + b.CacheWrite
	if b.Total < 0 {
		return Bill{}, fmt.Errorf("pricing: cost of %+v overflows: %w", u, bedrockkit.ErrInvalidInput)
	}
	return b, nil
}

// UnpricedError reports usage in a token class the row has no rate for. It
// wraps ErrUnpriced.
type UnpricedError struct {
	PriceID string
	Class   string // "input", "batch output", "cache write (1h)", ...
}

// Error names the model and the missing rate.
func (e *UnpricedError) Error() string {
	return fmt.Sprintf("pricing: model %q has no %s price in the catalog; override its row with the rate you are billed", e.PriceID, e.Class)
}

// Unwrap returns ErrUnpriced.
func (e *UnpricedError) Unwrap() error { return ErrUnpriced }

// GuardrailPolicy names a priced guardrail policy: the catalog row ID.
type GuardrailPolicy string

// Guardrail policies with rows in the embedded catalog.
const (
	PolicyContentFilter       GuardrailPolicy = "guardrail.content-filter"
	PolicyDeniedTopics        GuardrailPolicy = "guardrail.denied-topics"
	PolicySensitiveInfo       GuardrailPolicy = "guardrail.sensitive-information"
	PolicySensitiveInfoRegex  GuardrailPolicy = "guardrail.sensitive-information-regex"
	PolicyContextualGrounding GuardrailPolicy = "guardrail.contextual-grounding"
	PolicyWordFilter          GuardrailPolicy = "guardrail.word-filter"
)

// TextUnits returns the guardrail text units of one text: one per started
// 1,000 characters (Unicode code points), and zero for empty text.
func TextUnits(text string) int {
	n := utf8.RuneCountInString(text)
	return (n + 999) / 1000
}

// GuardrailCost prices units text units checked by each of the policies.
// The Bill's Input and Total hold the cost; its Usage.InputTokens holds the
// units times the number of policies.
func (c *Catalog) GuardrailCost(units int, policies ...GuardrailPolicy) (Bill, error) {
	var total Bill
	for _, p := range policies {
		b, err := c.Cost(string(p), bedrockkit.Usage{InputTokens: units})
		if err != nil {
			return Bill{}, err
		}
		total.Breakdown = total.Breakdown.Add(b.Breakdown)
		total.Usage = total.Usage.Add(b.Usage)
	}
	total.ModelID = "guardrail"
	return total, nil
}
