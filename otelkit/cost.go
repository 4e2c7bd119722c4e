package otelkit

import (
	"context"
	"fmt"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// Metric names of the counters NewCostMetrics reports. All are cumulative
// counters of the calls a pricing.Meter recorded, observed when the provider
// collects; Meter.Reset does not reset them.
const (
	// MetricCost counts cost in nano-dollars (1e9 = one US dollar), an
	// integer so that sums stay exact. Attributes: gen_ai.request.model,
	// bedrockkit.tenant, tags.
	MetricCost = "bedrockkit.pricing.cost"
	// MetricCostTokens counts tokens; attribute gen_ai.token.type is input,
	// output, cache_read or cache_write.
	MetricCostTokens = "bedrockkit.pricing.tokens"
	// MetricCostCalls counts calls; attribute bedrockkit.outcome is a
	// pricing.CallOutcome (ok, estimated, failed, refused or unpriced).
	MetricCostCalls = "bedrockkit.pricing.calls"
)

// Attribute keys of the cost counters (bedrockkit's own; the model is
// AttrRequestModel and the token type AttrTokenType). A tag becomes
// AttrTagPrefix + its name.
const (
	AttrTenant    = attribute.Key("bedrockkit.tenant")
	AttrSession   = attribute.Key("bedrockkit.session")
	AttrOutcome   = attribute.Key("bedrockkit.outcome")
	AttrTagPrefix = "bedrockkit.tag."
)

// CostMetricsOptions configures NewCostMetrics. The zero value uses the
// global meter provider and leaves sessions out of the attributes.
type CostMetricsOptions struct {
	// MeterProvider records the counters; nil means otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// SessionAttribute adds the session ID (bedrockkit.session) to the
	// attributes. Off by default: session IDs are unbounded and make one
	// series each.
	SessionAttribute bool
}

// CostMetrics reports a pricing.Meter's calls as OpenTelemetry counters of
// cost, tokens and calls (MetricCost, MetricCostTokens, MetricCostCalls),
// one series per model, tenant and tag set (and session, if asked). Create
// it with NewCostMetrics; it is safe for concurrent use.
type CostMetrics struct {
	session  bool
	stopHook func()
	reg      metric.Registration
	once     sync.Once

	mu     sync.Mutex
	series map[costKey]*costSeries // never reset
}

type costKey struct{ tenant, session, model, tags string }

// costSeries is the cumulative count of one attribute set.
type costSeries struct {
	cost    int64
	tokens  [4]int64
	calls   map[pricing.CallOutcome]int64
	base    []attribute.KeyValue
	costOpt metric.ObserveOption
	tokOpt  [4]metric.ObserveOption
	callOpt map[pricing.CallOutcome]metric.ObserveOption
}

var costTokenTypes = [4]string{"input", "output", "cache_read", "cache_write"}

// NewCostMetrics reports the calls m records from now on (through
// pricing.Meter.OnCall) as OpenTelemetry counters. Metering a call costs
// one map lookup under a lock; the counters are observed when the provider
// collects. It fails when the instruments cannot be created.
func NewCostMetrics(m *pricing.Meter, opts CostMetricsOptions) (*CostMetrics, error) {
	if m == nil {
		return nil, fmt.Errorf("otelkit: NewCostMetrics needs a *pricing.Meter: %w", bedrockkit.ErrInvalidInput)
	}
	mp := opts.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	mt := mp.Meter(instrumentationName)
	cost, err := mt.Int64ObservableCounter(MetricCost, metric.WithUnit("{nanodollar}"),
		metric.WithDescription("Cost of Bedrock calls in nano-US-dollars (1e9 = $1), priced by the bedrockkit price catalog"))
	if err != nil {
		return nil, fmt.Errorf("otelkit: creating %s: %w", MetricCost, err)
	}
	tokens, err := mt.Int64ObservableCounter(MetricCostTokens, metric.WithUnit("{token}"),
		metric.WithDescription("Tokens used by metered Bedrock calls, by token type"))
	if err != nil {
		return nil, fmt.Errorf("otelkit: creating %s: %w", MetricCostTokens, err)
	}
	calls, err := mt.Int64ObservableCounter(MetricCostCalls, metric.WithUnit("{call}"),
		metric.WithDescription("Metered Bedrock calls, by outcome"))
	if err != nil {
		return nil, fmt.Errorf("otelkit: creating %s: %w", MetricCostCalls, err)
	}
	c := &CostMetrics{session: opts.SessionAttribute, series: map[costKey]*costSeries{}}
	c.reg, err = mt.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		c.observe(o, cost, tokens, calls)
		return nil
	}, cost, tokens, calls)
	if err != nil {
		return nil, fmt.Errorf("otelkit: registering the cost metrics callback: %w", err)
	}
	c.stopHook = m.OnCall(c.add)
	return c, nil
}

// Close stops reporting: the meter's later calls are not counted and the
// counters are no longer observed. Metering and budgets keep working.
func (c *CostMetrics) Close() error {
	var err error
	c.once.Do(func() {
		c.stopHook()
		err = c.reg.Unregister()
	})
	return err
}

// add counts one metered call.
func (c *CostMetrics) add(_ context.Context, call pricing.MeteredCall) {
	k := costKey{tenant: call.Tenant, model: call.Model, tags: call.TagsKey}
	if c.session {
		k.session = call.Session
	}
	b := call.Bill
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.series[k]
	if s == nil {
		s = c.newSeries(call)
		c.series[k] = s
	}
	if _, ok := s.calls[call.Outcome]; !ok {
		s.callOpt[call.Outcome] = s.with(AttrOutcome.String(string(call.Outcome)))
	}
	s.calls[call.Outcome]++
	s.cost += int64(b.Total)
	s.tokens[0] += int64(b.Usage.InputTokens)
	s.tokens[1] += int64(b.Usage.OutputTokens)
	s.tokens[2] += int64(b.Usage.CacheReadTokens)
	s.tokens[3] += int64(b.Usage.CacheWriteTokens)
}

func (c *CostMetrics) newSeries(call pricing.MeteredCall) *costSeries {
	base := []attribute.KeyValue{AttrRequestModel.String(call.Model)}
	if call.Tenant != "" {
		base = append(base, AttrTenant.String(call.Tenant))
	}
	if c.session && call.Session != "" {
		base = append(base, AttrSession.String(call.Session))
	}
	for k, v := range call.Tags {
		base = append(base, attribute.String(AttrTagPrefix+k, v))
	}
	s := &costSeries{base: base, costOpt: metric.WithAttributeSet(attribute.NewSet(base...)),
		calls: map[pricing.CallOutcome]int64{}, callOpt: map[pricing.CallOutcome]metric.ObserveOption{}}
	for i, t := range costTokenTypes {
		s.tokOpt[i] = s.with(AttrTokenType.String(t))
	}
	// Every outcome is reported from the first call on, so a rate of
	// refusals or failures starts at zero rather than being absent.
	for _, o := range []pricing.CallOutcome{pricing.CallOK, pricing.CallEstimated, pricing.CallFailed, pricing.CallRefused, pricing.CallUnpriced} {
		s.calls[o] = 0
		s.callOpt[o] = s.with(AttrOutcome.String(string(o)))
	}
	return s
}

// with returns the series' attributes plus kv as an observe option.
func (s *costSeries) with(kv attribute.KeyValue) metric.ObserveOption {
	all := append(append(make([]attribute.KeyValue, 0, len(s.base)+1), s.base...), kv)
	return metric.WithAttributeSet(attribute.NewSet(all...))
}

func (c *CostMetrics) observe(o metric.Observer, cost, tokens, calls metric.Int64Observable) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.series {
		o.ObserveInt64(cost, s.cost, s.costOpt)
		for i := range s.tokens {
			o.ObserveInt64(tokens, s.tokens[i], s.tokOpt[i])
		}
		for out, n := range s.calls {
			o.ObserveInt64(calls, n, s.callOpt[out])
		}
	}
}
