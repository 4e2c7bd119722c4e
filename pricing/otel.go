package pricing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric names the meter reports when MeterConfig.MeterProvider is set.
const (
	// MetricCost counts cost in nano-dollars (1e9 = one US dollar), an
	// integer so that sums stay exact. Attributes: model, tenant, tags.
	MetricCost = "bedrockkit.pricing.cost"
	// MetricTokens counts tokens; attribute gen_ai.token.type is input,
	// output, cache_read or cache_write.
	MetricTokens = "bedrockkit.pricing.tokens"
	// MetricCalls counts calls; attribute bedrockkit.outcome is ok,
	// estimated, failed, refused or unpriced.
	MetricCalls = "bedrockkit.pricing.calls"
)

// Attribute keys the meter sets on its metrics. Tags become
// AttrTagPrefix+name.
const (
	AttrModel     = "gen_ai.request.model"
	AttrTenant    = "bedrockkit.tenant"
	AttrSession   = "bedrockkit.session"
	AttrTagPrefix = "bedrockkit.tag."
	AttrTokenType = "gen_ai.token.type"
	AttrOutcome   = "bedrockkit.outcome"
)

const instrumentationName = "github.com/bedrockkit/bedrockkit/pricing"

type instruments struct {
	cost, tokens, calls metric.Int64Counter
	session             bool
}

// entryOpts are the measurement options of one meter entry, built once so
// recording a call allocates nothing for attributes.
type entryOpts struct {
	cost    metric.AddOption
	tokens  [4]metric.AddOption
	outcome [numOutcomes]metric.AddOption
}

func newInstruments(mp metric.MeterProvider, session bool) (*instruments, error) {
	mt := mp.Meter(instrumentationName)
	cost, err := mt.Int64Counter(MetricCost, metric.WithUnit("{nanodollar}"),
		metric.WithDescription("Cost of Bedrock calls in nano-US-dollars (1e9 = $1), priced by the bedrockkit price catalog"))
	if err != nil {
		return nil, err
	}
	tokens, err := mt.Int64Counter(MetricTokens, metric.WithUnit("{token}"),
		metric.WithDescription("Tokens used by Bedrock calls, by token type"))
	if err != nil {
		return nil, err
	}
	calls, err := mt.Int64Counter(MetricCalls, metric.WithUnit("{call}"),
		metric.WithDescription("Metered Bedrock calls, by outcome"))
	if err != nil {
		return nil, err
	}
	return &instruments{cost: cost, tokens: tokens, calls: calls, session: session}, nil
}

var tokenTypes = [4]string{"input", "output", "cache_read", "cache_write"}

func (in *instruments) optsFor(a *attribution, model string) *entryOpts {
	base := []attribute.KeyValue{attribute.String(AttrModel, model)}
	if a.tenant != "" {
		base = append(base, attribute.String(AttrTenant, a.tenant))
	}
	if in.session && a.session != "" {
		base = append(base, attribute.String(AttrSession, a.session))
	}
	for k, v := range a.tags {
		base = append(base, attribute.String(AttrTagPrefix+k, v))
	}
	with := func(kv attribute.KeyValue) metric.AddOption {
		all := append(append(make([]attribute.KeyValue, 0, len(base)+1), base...), kv)
		return metric.WithAttributeSet(attribute.NewSet(all...))
	}
	o := &entryOpts{cost: metric.WithAttributeSet(attribute.NewSet(base...))}
	for i, t := range tokenTypes {
		o.tokens[i] = with(attribute.String(AttrTokenType, t))
	}
	for i, name := range outcomeNames {
		o.outcome[i] = with(attribute.String(AttrOutcome, name))
	}
	return o
}

func (in *instruments) add(ctx context.Context, o *entryOpts, b Bill, oc outcome) {
	in.calls.Add(ctx, 1, o.outcome[oc])
	if b.Total != 0 {
		in.cost.Add(ctx, int64(b.Total), o.cost)
	}
	for i, n := range [4]int{b.Usage.InputTokens, b.Usage.OutputTokens, b.Usage.CacheReadTokens, b.Usage.CacheWriteTokens} {
		if n != 0 {
			in.tokens.Add(ctx, int64(n), o.tokens[i])
		}
	}
}
