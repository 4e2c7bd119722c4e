package pricing

import (
	"fmt"

	"github.com/bedrockkit/bedrockkit"
)

// Variant is a way Bedrock serves a model that has prices of its own: a
// service tier (priority or flex; the zero value is the standard tier) and a
// latency mode (the zero value is standard latency). Calls are priced by
// the variant that served them: see ServedVariant.
//
// The reserved tier is capacity paid for by the month (per 1,000 tokens per
// minute), so a call it serves costs nothing per token: such a call is
// priced at zero and marked Committed, as are calls to a Provisioned
// Throughput ARN.
type Variant struct {
	Tier    bedrockkit.ServiceTier
	Latency bedrockkit.LatencyMode
}

// normal maps the explicit names of the standard values ("default",
// "standard") to the zero values.
func (v Variant) normal() Variant {
	if v.Tier == bedrockkit.ServiceTierDefault {
		v.Tier = ""
	}
	if v.Latency == bedrockkit.LatencyStandard {
		v.Latency = ""
	}
	return v
}

func (v Variant) isStandard() bool { return v.normal() == Variant{} }

// String names the variant: "standard", "priority", "flex/latency-optimized", ...
func (v Variant) String() string {
	v = v.normal()
	tier := string(v.Tier)
	if tier == "" {
		tier = "standard"
	}
	if v.Latency == bedrockkit.LatencyOptimized {
		if v.Tier == "" {
			return "latency-optimized"
		}
		return tier + "/latency-optimized"
	}
	return tier
}

// validate checks a row's variant: rows price the standard, priority or
// flex tier at standard or optimized latency. The reserved tier has no
// per-token price (it is billed per reserved capacity).
func (v Variant) validate() error {
	v = v.normal()
	switch v.Tier {
	case "", bedrockkit.ServiceTierPriority, bedrockkit.ServiceTierFlex:
	case bedrockkit.ServiceTierReserved:
		return fmt.Errorf("service tier %q; the reserved tier is billed per reserved capacity, not per token, so it has no row (calls it serves are priced at zero, Committed): %w", v.Tier, bedrockkit.ErrInvalidInput)
	default:
		return fmt.Errorf("service tier %q; use %q or %q (empty for the standard tier): %w", v.Tier, bedrockkit.ServiceTierPriority, bedrockkit.ServiceTierFlex, bedrockkit.ErrInvalidInput)
	}
	switch v.Latency {
	case "", bedrockkit.LatencyOptimized:
	default:
		return fmt.Errorf("latency %q; use %q (empty for standard latency): %w", v.Latency, bedrockkit.LatencyOptimized, bedrockkit.ErrInvalidInput)
	}
	return nil
}

// ServedVariant returns the variant a call is priced by: the tier and
// latency the response reports serving it with, and where the response
// reports none, what the request asked for; otherwise the standard tier at
// standard latency. Either argument may be nil.
func ServedVariant(req *bedrockkit.Request, resp *bedrockkit.Response) Variant {
	var v Variant
	if req != nil {
		v = Variant{Tier: req.ServiceTier, Latency: req.LatencyMode}
	}
	if resp != nil {
		if resp.ServiceTier != "" {
			v.Tier = resp.ServiceTier
		}
		if resp.LatencyMode != "" {
			v.Latency = resp.LatencyMode
		}
	}
	return v.normal()
}

// requestedVariant is what req asks for.
func requestedVariant(req *bedrockkit.Request) Variant { return ServedVariant(req, nil) }

// VariantUnpricedError reports a call served (or asked to be served) by a
// tier or latency mode that has no price for the model in the catalog. No
// other tier's rates are used in its place. It wraps ErrUnpriced.
type VariantUnpricedError struct {
	ModelID  string
	Resolved string
	Variant  Variant
}

// Error names the model, the variant and what to do.
func (e *VariantUnpricedError) Error() string {
	return fmt.Sprintf("pricing: no published %s price for model %q (resolved as %q) in the catalog, and another tier's price is not a stand-in; add a row with ServiceTier/LatencyMode set through Catalog.Override with the rate you are billed",
		e.Variant, e.ModelID, e.Resolved)
}

// Unwrap returns ErrUnpriced.
func (e *VariantUnpricedError) Unwrap() error { return ErrUnpriced }

// committedRow returns r with every rate it has set to Free: the price of a
// call served by capacity already paid for.
func committedRow(r Row, note string) Row {
	free := func(x Rate) Rate {
		if x.IsSet() {
			return Free
		}
		return x
	}
	r.Input, r.Output = free(r.Input), free(r.Output)
	r.CacheRead, r.CacheWrite5m, r.CacheWrite1h = free(r.CacheRead), free(r.CacheWrite5m), free(r.CacheWrite1h)
	r.BatchInput, r.BatchOutput = free(r.BatchInput), free(r.BatchOutput)
	r.Note = note
	return r
}
