package pricing

import (
	"context"
	"fmt"
	"iter"
	"math/bits"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/bedrockkit/bedrockkit"
)

// DefaultMaxTokens is the output cap a budget reserves for a request whose
// MaxTokens is 0, unless MeterConfig.DefaultMaxTokens says otherwise.
const DefaultMaxTokens = 4096

// MeterConfig configures a Meter. The zero value is usable: the Default
// catalog, EstimateBytes, DefaultMaxTokens, no OpenTelemetry metrics.
type MeterConfig struct {
	// Catalog prices the calls; nil means Default().
	Catalog *Catalog
	// Estimator counts tokens for budget reservations and for usage a model
	// did not report; nil means EstimateBytes.
	Estimator Estimator
	// DefaultMaxTokens is the output a budget reserves for requests with
	// MaxTokens 0 (the model's own default, which the meter cannot know).
	// Set it to the largest default output of the models you use; 0 means
	// DefaultMaxTokens.
	DefaultMaxTokens int
	// MeterProvider receives cost, token and call counters; nil means none.
	MeterProvider metric.MeterProvider
	// SessionAttribute adds the session ID to metric attributes. Off by
	// default: session IDs are unbounded and make one series each.
	SessionAttribute bool
	// OnError, if set, is told about calls the meter could not price (usage in
	// a class the catalog row has no rate for). Such calls still return the
	// model's answer, are counted as Unpriced in the snapshot (their tokens
	// are kept, their cost is missing) and charge their budgets the whole
	// reservation.
	OnError func(ctx context.Context, err error)
}

// Meter attributes the usage and cost of model and embedder calls to the
// tenant, session and tags on each call's context, and enforces budgets
// before calls. Wrap a model with Model or Middleware, an embedder with
// Embedder. A Meter is safe for concurrent use.
type Meter struct {
	cat    *Catalog
	est    Estimator
	defMax int
	inst   *instruments
	onErr  func(context.Context, error)

	mu      sync.Mutex
	entries map[entryKey]*entry
	series  map[entryKey]*series // metric series; never reset

	bmu     sync.RWMutex
	budgets map[budgetKey]*Budget
}

type entryKey struct{ tenant, session, model, tags string }

type budgetKey struct {
	scope Scope
	id    string
}

type entry struct {
	e      Entry
	series *series // nil without metrics
}

// NewMeter returns a meter configured by cfg. It fails only when the
// OpenTelemetry instruments cannot be created.
func NewMeter(cfg MeterConfig) (*Meter, error) {
	m := &Meter{cat: cfg.Catalog, est: cfg.Estimator, defMax: cfg.DefaultMaxTokens, onErr: cfg.OnError,
		entries: map[entryKey]*entry{}, series: map[entryKey]*series{}, budgets: map[budgetKey]*Budget{}}
	if m.cat == nil {
		m.cat = Default()
	}
	if m.est == nil {
		m.est = EstimateBytes
	}
	if m.defMax <= 0 {
		m.defMax = DefaultMaxTokens
	}
	if cfg.MeterProvider != nil {
		inst, err := newInstruments(m, cfg.MeterProvider, cfg.SessionAttribute)
		if err != nil {
			return nil, err
		}
		m.inst = inst
	}
	return m, nil
}

// Close stops reporting metrics to the MeterProvider (it unregisters the
// meter's collection callback). Metering and budgets keep working. Close is
// only needed when the meter is discarded before its MeterProvider.
func (m *Meter) Close() error {
	if m.inst == nil {
		return nil
	}
	return m.inst.close()
}

// Catalog returns the catalog the meter prices with.
func (m *Meter) Catalog() *Catalog { return m.cat }

// SetTenantBudget limits the spending of tenant (the WithTenant value) to
// limit and returns its budget. Calling it again changes the limit and
// keeps what was spent.
func (m *Meter) SetTenantBudget(tenant string, limit Money) *Budget {
	return m.setBudget(ScopeTenant, tenant, limit)
}

// SetSessionBudget limits the spending of session (the WithSession value).
// See SetTenantBudget.
func (m *Meter) SetSessionBudget(session string, limit Money) *Budget {
	return m.setBudget(ScopeSession, session, limit)
}

func (m *Meter) setBudget(scope Scope, id string, limit Money) *Budget {
	m.bmu.Lock()
	defer m.bmu.Unlock()
	k := budgetKey{scope, id}
	if b := m.budgets[k]; b != nil {
		b.SetLimit(limit)
		return b
	}
	b := NewBudget(scope, id, limit)
	m.budgets[k] = b
	return b
}

// RemoveBudget stops enforcing the tenant or session budget b (for example
// when a session ends). Calls holding a reservation on it settle normally.
func (m *Meter) RemoveBudget(b *Budget) {
	m.bmu.Lock()
	defer m.bmu.Unlock()
	k := budgetKey{b.scope, b.id}
	if m.budgets[k] == b {
		delete(m.budgets, k)
	}
}

// budgetsFor returns the budgets a call with attribution a is checked against.
func (m *Meter) budgetsFor(a *attribution) []*Budget {
	var out []*Budget
	m.bmu.RLock()
	if len(m.budgets) > 0 {
		if b := m.budgets[budgetKey{ScopeTenant, a.tenant}]; b != nil && a.tenant != "" {
			out = append(out, b)
		}
		if b := m.budgets[budgetKey{ScopeSession, a.session}]; b != nil && a.session != "" {
			out = append(out, b)
		}
	}
	m.bmu.RUnlock()
	if len(a.budgets) > 0 {
		out = append(out, a.budgets...)
	}
	return out
}

// Model returns next metered as modelID (a model ID, inference-profile ID or
// ARN the catalog prices). If the catalog cannot price modelID, every call
// fails with an error wrapping ErrUnknownModel without reaching next: an
// unpriced model is never metered at zero.
func (m *Meter) Model(modelID string, next bedrockkit.Model) bedrockkit.Model {
	p, err := m.cat.Lookup(modelID)
	return &meteredModel{m: m, id: modelID, price: p, err: err, next: next}
}

// Middleware returns a bedrockkit.Middleware that meters the model it wraps
// as modelID. See Model.
func (m *Meter) Middleware(modelID string) bedrockkit.Middleware {
	return func(next bedrockkit.Model) bedrockkit.Model { return m.Model(modelID, next) }
}

type meteredModel struct {
	m     *Meter
	id    string
	price Price
	err   error
	next  bedrockkit.Model
}

// worstCase returns the most a call can cost: estimated input plus the output
// cap, all at the row's highest rate (the output rate for every model in the
// embedded table). Pricing input at that rate covers cache writes, which cost
// more than input, and leaves room for the estimator's error.
func (m *Meter) worstCase(p Price, req *bedrockkit.Request) Money {
	tokens := EstimateRequest(req, m.est)
	maxOut := m.defMax
	if req != nil && req.MaxTokens > 0 {
		maxOut = req.MaxTokens
	}
	rate := p.Input.perM
	for _, r := range []Rate{p.Output, p.CacheWrite5m, p.CacheWrite1h, p.CacheRead} {
		if r.set && r.perM > rate {
			rate = r.perM
		}
	}
	return ceilMillionths(uint64(tokens+maxOut), uint64(rate))
}

// ceilMillionths returns n*rate/1e6 rounded up, saturating at the Money maximum.
func ceilMillionths(n, rate uint64) Money {
	hi, lo := bits.Mul64(n, rate)
	const d = 1_000_000
	if hi >= d {
		return Money(1<<63 - 1)
	}
	q, rem := bits.Div64(hi, lo, d)
	if rem > 0 {
		q++
	}
	if q > 1<<63-1 {
		return Money(1<<63 - 1)
	}
	return Money(q)
}

// begin checks the budgets of a call and reserves its worst case.
func (m *Meter) begin(ctx context.Context, a *attribution, modelID string, worst func() Money) (reservation, error) {
	budgets := m.budgetsFor(a)
	if len(budgets) == 0 {
		return reservation{}, nil
	}
	if err := ctx.Err(); err != nil {
		return reservation{}, err
	}
	res, err := reserveAll(budgets, worst())
	if err != nil {
		m.record(ctx, a, modelID, Bill{}, outcomeRefused)
		return reservation{}, err
	}
	return res, nil
}

// cacheTTL returns CacheTTL1h when any cache point of req asks for one hour:
// Usage does not split cache writes by TTL, so the higher rate is the safe one.
func cacheTTL(req *bedrockkit.Request) bedrockkit.CacheTTL {
	if req == nil {
		return ""
	}
	if req.ToolCache != nil && req.ToolCache.TTL == bedrockkit.CacheTTL1h {
		return bedrockkit.CacheTTL1h
	}
	if partsHave1h(req.System) {
		return bedrockkit.CacheTTL1h
	}
	for _, msg := range req.Messages {
		if partsHave1h(msg.Parts) {
			return bedrockkit.CacheTTL1h
		}
	}
	return ""
}

func partsHave1h(parts []bedrockkit.Part) bool {
	for _, p := range parts {
		if cp, ok := p.(bedrockkit.CachePoint); ok && cp.TTL == bedrockkit.CacheTTL1h {
			return true
		}
	}
	return false
}

// finish prices usage, settles the reservation and records the call.
func (m *Meter) finish(ctx context.Context, a *attribution, modelID string, p Price, res reservation, u bedrockkit.Usage, terms Terms, o outcome) Bill {
	bill, err := p.Cost(u, terms)
	bill.ModelID, bill.Fallback = modelID, p.Fallback
	if err != nil {
		if m.onErr != nil {
			m.onErr(ctx, fmt.Errorf("pricing: meter %s: %w", modelID, err))
		}
		// Keep the usage; the cost is unknown. Charge budgets the reservation.
		bill = Bill{ModelID: modelID, PriceID: p.ID(), Usage: u, Estimated: u.Estimated}
		res.settle(res.amount)
		m.record(ctx, a, modelID, bill, outcomeUnpriced)
		return bill
	}
	res.settle(bill.Total)
	if o == outcomeOK && u.Estimated {
		o = outcomeEstimated
	}
	m.record(ctx, a, modelID, bill, o)
	return bill
}

// Generate meters one call: reserve, call, settle, record.
func (mm *meteredModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	if mm.err != nil {
		return nil, mm.err
	}
	m := mm.m
	a := attributionFrom(ctx)
	res, err := m.begin(ctx, a, mm.id, func() Money { return m.worstCase(mm.price, req) })
	if err != nil {
		return nil, err
	}
	resp, err := mm.next.Generate(ctx, req)
	if err == nil && resp == nil {
		err = fmt.Errorf("pricing: model %s returned no response and no error: %w", mm.id, bedrockkit.ErrModelError)
	}
	if err != nil {
		if resp != nil && resp.Usage.Total() > 0 {
			m.finish(ctx, a, mm.id, mm.price, res, resp.Usage, Terms{CacheWriteTTL: cacheTTL(req)}, outcomeFailed)
		} else {
			res.settle(0)
			m.record(ctx, a, mm.id, Bill{}, outcomeFailed)
		}
		return resp, err
	}
	m.finish(ctx, a, mm.id, mm.price, res, resp.Usage, Terms{CacheWriteTTL: cacheTTL(req)}, outcomeOK)
	return resp, nil
}

// Stream meters a stream from its Metadata usage. When the stream ends
// without Metadata (it failed, or the caller stopped early) after the model
// produced output, usage is estimated from the request and the output seen
// and flagged Estimated. A stream that fails before any event is charged
// nothing. Budgets are reserved when iteration starts.
func (mm *meteredModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.Event, error] {
	return func(yield func(bedrockkit.Event, error) bool) {
		if mm.err != nil {
			yield(nil, mm.err)
			return
		}
		m := mm.m
		a := attributionFrom(ctx)
		res, err := m.begin(ctx, a, mm.id, func() Money { return m.worstCase(mm.price, req) })
		if err != nil {
			yield(nil, err)
			return
		}
		var (
			usage     bedrockkit.Usage
			gotUsage  bool
			events    int
			outTokens int
			streamErr error
			settled   bool
		)
		settle := func() {
			if settled {
				return
			}
			settled = true
			terms := Terms{CacheWriteTTL: cacheTTL(req)}
			switch {
			case gotUsage:
				o := outcomeOK
				if streamErr != nil {
					o = outcomeFailed
				}
				m.finish(ctx, a, mm.id, mm.price, res, usage, terms, o)
			case events == 0 && streamErr != nil:
				res.settle(0)
				m.record(ctx, a, mm.id, Bill{}, outcomeFailed)
			default:
				est := bedrockkit.Usage{InputTokens: EstimateRequest(req, m.est), OutputTokens: outTokens, Estimated: true}
				o := outcomeEstimated
				if streamErr != nil {
					o = outcomeFailed
				}
				m.finish(ctx, a, mm.id, mm.price, res, est, terms, o)
			}
		}
		defer settle() // also when yield panics
		for ev, err := range mm.next.Stream(ctx, req) {
			if err != nil {
				streamErr = err
			} else {
				events++
				switch e := ev.(type) {
				case bedrockkit.Metadata:
					usage, gotUsage = e.Usage, true
				case bedrockkit.TextDelta:
					outTokens += estimateOutput(e.Text, m.est)
				case bedrockkit.ReasoningDelta:
					outTokens += estimateOutput(e.Text, m.est)
				case bedrockkit.ToolCallDelta:
					outTokens += estimateOutput(e.Name, m.est) + estimateOutput(e.InputFragment, m.est)
				}
			}
			if !yield(ev, err) || err != nil {
				break
			}
		}
		settle()
	}
}

// Embedder returns next metered as modelID. Embedders report no usage, so
// input tokens are estimated with the meter's Estimator and flagged Estimated.
// Budgets reserve the same estimate. An unknown modelID fails every call
// with an error wrapping ErrUnknownModel.
func (m *Meter) Embedder(modelID string, next bedrockkit.Embedder) bedrockkit.Embedder {
	p, err := m.cat.Lookup(modelID)
	return &meteredEmbedder{m: m, id: modelID, price: p, err: err, next: next}
}

type meteredEmbedder struct {
	m     *Meter
	id    string
	price Price
	err   error
	next  bedrockkit.Embedder
}

// Dimensions returns the wrapped embedder's dimensions.
func (me *meteredEmbedder) Dimensions() int { return me.next.Dimensions() }

// Embed reserves, embeds, then records the estimated tokens.
func (me *meteredEmbedder) Embed(ctx context.Context, texts []string, purpose bedrockkit.Purpose) ([][]float32, error) {
	if me.err != nil {
		return nil, me.err
	}
	m := me.m
	a := attributionFrom(ctx)
	tokens := 0
	for _, t := range texts {
		tokens += m.est(t)
	}
	u := bedrockkit.Usage{InputTokens: tokens, Estimated: true}
	res, err := m.begin(ctx, a, me.id, func() Money {
		return ceilMillionths(uint64(tokens), uint64(me.price.Input.perM))
	})
	if err != nil {
		return nil, err
	}
	vecs, err := me.next.Embed(ctx, texts, purpose)
	if err != nil {
		res.settle(0)
		m.record(ctx, a, me.id, Bill{}, outcomeFailed)
		return vecs, err
	}
	m.finish(ctx, a, me.id, me.price, res, u, Terms{}, outcomeEstimated)
	return vecs, nil
}

// Record meters usage that did not go through a wrapped model, such as a
// batch job's results or guardrail text units (modelID a GuardrailPolicy).
// It is priced under terms, attributed from ctx and charged to ctx's budgets
// without reservation (the usage already happened, so it may overshoot).
func (m *Meter) Record(ctx context.Context, modelID string, u bedrockkit.Usage, terms Terms) (Bill, error) {
	bill, err := m.cat.CostWith(modelID, u, terms)
	if err != nil {
		return Bill{}, err
	}
	a := attributionFrom(ctx)
	for _, b := range m.budgetsFor(a) {
		b.Settle(0, bill.Total)
	}
	o := outcomeOK
	if u.Estimated {
		o = outcomeEstimated
	}
	m.record(ctx, a, modelID, bill, o)
	return bill, nil
}

type outcome int

const (
	outcomeOK outcome = iota
	outcomeEstimated
	outcomeFailed
	outcomeRefused
	outcomeUnpriced
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"ok", "estimated", "failed", "refused", "unpriced"}

// record adds one call to its entry and to the metrics.
func (m *Meter) record(ctx context.Context, a *attribution, modelID string, bill Bill, o outcome) {
	k := entryKey{a.tenant, a.session, modelID, a.tagsKey}
	m.mu.Lock()
	e := m.entries[k]
	if e == nil {
		e = &entry{e: Entry{Tenant: a.tenant, Session: a.session, Model: modelID, Tags: a.tags}}
		if m.inst != nil {
			// One series per attribute set: without the session attribute,
			// sessions share their tenant's series.
			sk := k
			if !m.inst.session {
				sk.session = ""
			}
			e.series = m.series[sk]
			if e.series == nil {
				e.series = m.inst.newSeries(a, modelID)
				m.series[sk] = e.series
			}
		}
		m.entries[k] = e
	}
	x := &e.e
	switch o {
	case outcomeRefused:
		x.Refused++
	default:
		x.Calls++
	}
	switch o {
	case outcomeFailed:
		x.Failed++
	case outcomeUnpriced:
		x.Unpriced++
	}
	if bill.Usage.Estimated {
		x.Estimated++
	}
	x.InputTokens += int64(bill.Usage.InputTokens)
	x.OutputTokens += int64(bill.Usage.OutputTokens)
	x.CacheReadTokens += int64(bill.Usage.CacheReadTokens)
	x.CacheWriteTokens += int64(bill.Usage.CacheWriteTokens)
	x.Cost = x.Cost.Add(bill.Breakdown)
	if e.series != nil {
		e.series.add(bill, o)
	}
	m.mu.Unlock()
}

// Entry is the metered total of one tenant, session, model and tag set.
type Entry struct {
	Tenant  string            `json:"tenant"`
	Session string            `json:"session"`
	Model   string            `json:"model"`
	Tags    map[string]string `json:"tags,omitempty"`
	// Calls counts calls that reached the model; Refused counts calls a
	// budget stopped before they did.
	Calls   int64 `json:"calls"`
	Refused int64 `json:"refused"`
	// Failed counts calls that returned an error; Estimated counts calls
	// whose usage was estimated; Unpriced counts calls whose usage the
	// catalog could not price (their cost is missing from Cost).
	Failed    int64 `json:"failed"`
	Estimated int64 `json:"estimated"`
	Unpriced  int64 `json:"unpriced"`

	InputTokens      int64 `json:"input_tokens"`
	OutputTokens     int64 `json:"output_tokens"`
	CacheReadTokens  int64 `json:"cache_read_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens"`

	Cost Breakdown `json:"cost"`
}

// add folds o's counts and costs into e (keeping e's labels).
func (e *Entry) add(o Entry) {
	e.Calls += o.Calls
	e.Refused += o.Refused
	e.Failed += o.Failed
	e.Estimated += o.Estimated
	e.Unpriced += o.Unpriced
	e.InputTokens += o.InputTokens
	e.OutputTokens += o.OutputTokens
	e.CacheReadTokens += o.CacheReadTokens
	e.CacheWriteTokens += o.CacheWriteTokens
	e.Cost = e.Cost.Add(o.Cost)
}

// Snapshot returns the meter's entries at this moment.
func (m *Meter) Snapshot() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snapshotLocked()
}

// Reset clears the entries and returns them as they were, atomically: no
// call is lost or counted twice between the snapshot and the reset.
// OpenTelemetry counters are cumulative and are not reset. Budgets are not
// affected.
func (m *Meter) Reset() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.snapshotLocked()
	m.entries = map[entryKey]*entry{}
	return s
}

func (m *Meter) snapshotLocked() Snapshot {
	s := Snapshot{Taken: time.Now().UTC(), Entries: make([]Entry, 0, len(m.entries))}
	for _, e := range m.entries {
		s.Entries = append(s.Entries, e.e)
	}
	s.sort()
	return s
}
