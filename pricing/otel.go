package pricing

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric names the meter reports when MeterConfig.MeterProvider is set. All
// are cumulative counters, observed when the provider collects, so metering
// a call costs no metric work; Reset does not reset them.
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
	cost, tokens, calls metric.Int64ObservableCounter
	session             bool
	reg                 metric.Registration
	closeOnce           sync.Once
}

// series is the cumulative count of one attribute set, never reset. It is
// updated under Meter.mu and read under it by the collection callback.
type series struct {
	cost    int64
	tokens  [4]int64
	calls   [numOutcomes]int64
	costOpt metric.ObserveOption
	tokOpt  [4]metric.ObserveOption
	callOpt [numOutcomes]metric.ObserveOption
}

var tokenTypes = [4]string{"input", "output", "cache_read", "cache_write"}

func newInstruments(m *Meter, mp metric.MeterProvider, session bool) (*instruments, error) {
	mt := mp.Meter(instrumentationName)
	cost, err := mt.Int64ObservableCounter(MetricCost, metric.WithUnit("{nanodollar}"),
		metric.WithDescription("Cost of Bedrock calls in nano-US-dollars (1e9 = $1), priced by the bedrockkit price catalog"))
	if err != nil {
		return nil, err
	}
	tokens, err := mt.Int64ObservableCounter(MetricTokens, metric.WithUnit("{token}"),
		metric.WithDescription("Tokens used by Bedrock calls, by token type"))
	if err != nil {
		return nil, err
	}
	calls, err := mt.Int64ObservableCounter(MetricCalls, metric.WithUnit("{call}"),
		metric.WithDescription("Metered Bedrock calls, by outcome"))
	if err != nil {
		return nil, err
	}
	in := &instruments{cost: cost, tokens: tokens, calls: calls, session: session}
	in.reg, err = mt.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, s := range m.series {
			o.ObserveInt64(cost, s.cost, s.costOpt)
			for i := range s.tokens {
				o.ObserveInt64(tokens, s.tokens[i], s.tokOpt[i])
			}
			for i := range s.calls {
				o.ObserveInt64(calls, s.calls[i], s.callOpt[i])
			}
		}
		return nil
	}, cost, tokens, calls)
	if err != nil {
		return nil, err
	}
	return in, nil
}

func (in *instruments) close() error {
	var err error
	in.closeOnce.Do(func() { err = in.reg.Unregister() })
	return err
}

func (in *instruments) newSeries(a *attribution, model string) *series {
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
	with := func(kv attribute.KeyValue) metric.ObserveOption {
		all := append(append(make([]attribute.KeyValue, 0, len(base)+1), base...), kv)
		return metric.WithAttributeSet(attribute.NewSet(all...))
	}
	s := &series{costOpt: metric.WithAttributeSet(attribute.NewSet(base...))}
	for i, t := range tokenTypes {
		s.tokOpt[i] = with(attribute.String(AttrTokenType, t))
	}
	for i, name := range outcomeNames {
		s.callOpt[i] = with(attribute.String(AttrOutcome, name))
	}
	return s
}

// add counts one call. The caller holds Meter.mu.
func (s *series) add(b Bill, o outcome) {
	s.calls[o]++
	s.cost += int64(b.Total)
	s.tokens[0] += int64(b.Usage.InputTokens)
	s.tokens[1] += int64(b.Usage.OutputTokens)
	s.tokens[2] += int64(b.Usage.CacheReadTokens)
	s.tokens[3] += int64(b.Usage.CacheWriteTokens)
}
