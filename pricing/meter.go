package pricing

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

// MeterOptions configures a Meter. The zero value is usable: the Default
// catalog, EstimateBytes, default token bounds, and budgets that refuse
// calls without MaxTokens.
type MeterOptions struct {
	// Catalog prices the calls; nil means Default().
	Catalog *Catalog
	// Estimator counts tokens for usage a model did not report (a stream
	// that ended without its Metadata, an Embedder); nil means
	// EstimateBytes. Budgets never reserve by it: an estimate can be low.
	Estimator Estimator
	// DefaultMaxTokens is the output a budget reserves for a request whose
	// MaxTokens is 0. The meter cannot know the model's own default (Bedrock
	// lets some models write 64,000 tokens), so with DefaultMaxTokens 0 such
	// a call under a budget is refused with an error wrapping ErrUnbounded.
	// Setting it asserts that no model you meter writes more when MaxTokens
	// is 0; calls without budgets are never affected.
	DefaultMaxTokens int
	// Bounds are the per-image and per-document token limits budgets assume
	// (see InputTokenBound); the zero value means the defaults.
	Bounds TokenBounds
	// InputCounter, if set, counts each budgeted call's input tokens
	// exactly (for example with Bedrock's CountTokens) so that budgets
	// reserve that count instead of InputTokenBound. It is called once
	// before each call that has a budget, never for calls without one.
	InputCounter InputCounter
	// OnError, if set, is told about calls the meter could not price (usage in
	// a class the catalog row has no rate for) and about InputCounter
	// failures. Unpriced calls still return the model's answer, are counted
	// as Unpriced in the snapshot (their tokens are kept, their cost is
	// missing) and charge their budgets the whole reservation.
	OnError func(ctx context.Context, err error)
}

// Meter attributes the usage and cost of model and embedder calls to the
// tenant, session and tags on each call's context, and enforces budgets
// before calls. Wrap a model with Middleware, an embedder with Embedder.
// Functions registered with OnCall are told about every call (package
// otelkit exports them as OpenTelemetry metrics). A Meter is safe for
// concurrent use.
type Meter struct {
	cat     *Catalog
	est     Estimator
	defMax  int
	bounds  TokenBounds
	counter InputCounter
	onErr   func(context.Context, error)
	hooks   atomic.Pointer[[]*callHook] // copied on write, under hookMu
	hookMu  sync.Mutex

	mu      sync.Mutex
	entries map[entryKey]*Entry

	bmu     sync.RWMutex
	budgets map[budgetKey]*Budget
}

type entryKey struct{ tenant, session, model, tags string }

type budgetKey struct {
	scope Scope
	id    string
}

// NewMeter returns a meter configured by cfg.
func NewMeter(cfg MeterOptions) *Meter {
	m := &Meter{cat: cfg.Catalog, est: cfg.Estimator, defMax: cfg.DefaultMaxTokens, bounds: cfg.Bounds, counter: cfg.InputCounter,
		onErr: cfg.OnError, entries: map[entryKey]*Entry{}, budgets: map[budgetKey]*Budget{}}
	if m.cat == nil {
		m.cat = Default()
	}
	if m.est == nil {
		m.est = EstimateBytes
	}
	return m
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

// Middleware returns a bedrockkit.Middleware that meters the model it
// wraps, priced by the model's own ID (bedrockkit.ModelIDOf: a
// ConverseModel says it, also inside retry or structured-output
// middleware):
//
//	model := bedrockkit.Chain(converse, meter.Middleware())
//
// Name a model that does not say its ID, or price it by another ID than
// the one it calls (an application inference profile ARN hides its
// model), with bedrockkit.WithModelID:
//
//	model := bedrockkit.Chain(bedrockkit.WithModelID(custom, "us.amazon.nova-lite-v1:0"), meter.Middleware())
//
// Calls fail without reaching the model, with an error wrapping
// ErrUnknownModel when the catalog cannot price the ID, and wrapping
// bedrockkit.ErrInvalidInput when the model says no ID: a model is never
// metered at zero. The metered model reports its ID to ModelIDOf.
func (m *Meter) Middleware() bedrockkit.Middleware {
	return func(next bedrockkit.Model) bedrockkit.Model {
		id := bedrockkit.ModelIDOf(next)
		if id == "" {
			return &meteredModel{m: m, err: fmt.Errorf("pricing: cannot meter %T: it does not say its model ID; name it with bedrockkit.WithModelID(model, \"us.amazon.nova-lite-v1:0\") under the meter, or put the meter directly around a ConverseModel: %w", next, bedrockkit.ErrInvalidInput), next: next}
		}
		return m.wrap(id, next)
	}
}

// wrap meters next as modelID; calls fail when the catalog cannot price it.
func (m *Meter) wrap(modelID string, next bedrockkit.Model) *meteredModel {
	p, err := m.cat.Lookup(modelID)
	return &meteredModel{m: m, id: modelID, price: p, err: err, next: next}
}

type meteredModel struct {
	m     *Meter
	id    string
	price Price
	err   error
	next  bedrockkit.Model
}

// ModelID returns the ID the model is metered as (see bedrockkit.ModelIDOf).
func (mm *meteredModel) ModelID() string { return mm.id }

// SupportsOutput forwards the wrapped model's bedrockkit.OutputCapable
// answer, so bedrockkit.StructuredOutput placed outside the meter still
// hands Request.Output to a model that honours it.
func (mm *meteredModel) SupportsOutput() bool {
	oc, ok := mm.next.(bedrockkit.OutputCapable)
	return ok && oc.SupportsOutput()
}

// bound returns the reservation of a call to p with req: the input bound
// (or the InputCounter's exact count) at the highest input-side rate plus
// the output cap at the output rate. It fails with ErrUnbounded when the
// call has no bound.
func (m *Meter) bound(ctx context.Context, p Price, modelID string, req *bedrockkit.Request) (callBound, error) {
	var cb callBound
	cb.inRate, cb.outRate = boundRates(p, req)
	if v := requestedVariant(req); !v.isStandard() && !p.Committed {
		// The call may be served as asked or as the standard tier (Bedrock
		// serves a latency-optimized request at standard latency past its
		// quota): reserve at the higher of the two rates.
		vp, err := m.cat.LookupVariant(modelID, "", v)
		if err != nil {
			return cb, fmt.Errorf("pricing: a call to %s under a budget asks for the %s tier, whose price is unknown, so the budget cannot bound it: %w: %w", modelID, v, ErrUnbounded, err)
		}
		in, out := boundRates(vp, req)
		cb.inRate, cb.outRate = max(cb.inRate, in), max(cb.outRate, out)
	}
	maxOut := 0
	if req != nil {
		maxOut = req.MaxTokens
	}
	if maxOut <= 0 {
		maxOut = m.defMax
	}
	if maxOut <= 0 {
		return cb, fmt.Errorf("pricing: a call to %s under a budget has MaxTokens 0, and the model's own output limit is unknown to the meter; set Request.MaxTokens (or MeterOptions.DefaultMaxTokens to the most any of your models writes by default): %w", modelID, ErrUnbounded)
	}
	cb.outTokens = maxOut
	in := -1
	if m.counter != nil {
		n, err := m.counter.CountInputTokens(ctx, modelID, req)
		switch {
		case err == nil && n >= 0:
			in = n
			cb.counted = true
		case ctx.Err() != nil:
			return cb, ctx.Err()
		case err == nil:
			m.report(ctx, fmt.Errorf("pricing: InputCounter counted %d input tokens for %s; reserving by the input's size instead", n, modelID))
		case !errors.Is(err, bedrockkit.ErrUnsupported):
			m.report(ctx, fmt.Errorf("pricing: InputCounter failed for %s (reserving by the input's size instead): %w", modelID, err))
		}
	}
	if in < 0 {
		n, err := InputTokenBound(req, m.bounds)
		if err != nil {
			return cb, err
		}
		in = n
	}
	cb.inTokens = in
	cb.amount = cb.cost(in, maxOut)
	return cb, nil
}

func (m *Meter) report(ctx context.Context, err error) {
	if m.onErr != nil {
		m.onErr(ctx, err)
	}
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

// begin checks the budgets of a call and reserves its bound. Without
// budgets it does nothing (and bound is not called).
func (m *Meter) begin(ctx context.Context, a *attribution, modelID string, bound func() (callBound, error)) (reservation, callBound, error) {
	budgets := m.budgetsFor(a)
	if len(budgets) == 0 {
		return reservation{}, callBound{}, nil
	}
	if err := ctx.Err(); err != nil {
		return reservation{}, callBound{}, err
	}
	cb, err := bound()
	if err == nil {
		var res reservation
		if res, err = reserveAll(budgets, cb.amount); err == nil {
			return res, cb, nil
		}
	}
	if ctx.Err() == nil {
		m.record(ctx, a, modelID, Bill{}, outcomeRefused)
	}
	return reservation{}, callBound{}, err
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

// price prices usage served as terms say (tier and latency). When the
// catalog cannot, it reports the error and returns a Bill that keeps the
// usage without a cost, and ok false.
func (m *Meter) price(ctx context.Context, modelID string, p Price, u bedrockkit.Usage, terms Terms) (bill Bill, ok bool) {
	if v := terms.variant(); !v.isStandard() && !p.Committed {
		vp, err := m.cat.LookupVariant(modelID, "", v)
		if err != nil {
			m.report(ctx, fmt.Errorf("pricing: meter %s: %w", modelID, err))
			return Bill{ModelID: modelID, PriceID: p.ID(), Usage: u, Estimated: u.Estimated, Variant: v}, false
		}
		p = vp
	}
	bill, err := p.Cost(u, terms)
	bill.ModelID, bill.Fallback, bill.Committed = modelID, p.Fallback, p.Committed
	if !p.Committed {
		bill.Variant = terms.variant()
	}
	if err != nil {
		m.report(ctx, fmt.Errorf("pricing: meter %s: %w", modelID, err))
		return Bill{ModelID: modelID, PriceID: p.ID(), Usage: u, Estimated: u.Estimated}, false
	}
	return bill, true
}

// charge is what a priced bill costs the budgets: its total, or the whole
// reservation when the usage could not be priced.
func charge(res reservation, bill Bill, ok bool) Money {
	if !ok {
		return res.amount
	}
	return bill.Total
}

// recordBill records a priced (or unpriceable) bill with outcome o.
func (m *Meter) recordBill(ctx context.Context, a *attribution, modelID string, bill Bill, ok bool, o outcome) {
	switch {
	case !ok:
		o = outcomeUnpriced
	case o == outcomeOK && bill.Usage.Estimated:
		o = outcomeEstimated
	}
	m.record(ctx, a, modelID, bill, o)
}

// finish prices usage, settles the reservation and records the call.
func (m *Meter) finish(ctx context.Context, a *attribution, modelID string, p Price, res reservation, u bedrockkit.Usage, terms Terms, o outcome) Bill {
	bill, ok := m.price(ctx, modelID, p, u, terms)
	res.settle(charge(res, bill, ok))
	m.recordBill(ctx, a, modelID, bill, ok, o)
	return bill
}

// Generate meters one call: reserve, call, settle, record. A reservation is
// released if the wrapped model panics.
func (mm *meteredModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	if mm.err != nil {
		return nil, mm.err
	}
	m := mm.m
	a := attributionFrom(ctx)
	res, cb, err := m.begin(ctx, a, mm.id, func() (callBound, error) { return m.bound(ctx, mm.price, mm.id, req) })
	if err != nil {
		return nil, err
	}
	returned := false
	defer func() {
		if !returned {
			res.settle(0) // the model panicked; the panic goes on
		}
	}()
	resp, err := mm.next.Generate(ctx, req)
	returned = true
	if err == nil && resp == nil {
		err = fmt.Errorf("pricing: model %s returned no response and no error: %w", mm.id, bedrockkit.ErrModelError)
	}
	if err != nil {
		if resp != nil && resp.Usage.Total() > 0 {
			m.finish(ctx, a, mm.id, mm.price, res, resp.Usage, servedTerms(req, resp), outcomeFailed)
		} else {
			// The usage is unknowable: Bedrock may have billed a call that
			// failed late, but nothing says so. The reservation is released;
			// this is the slack the budget guarantee documents.
			res.settle(0)
			m.record(ctx, a, mm.id, Bill{}, outcomeFailed)
		}
		return resp, err
	}
	m.checkCount(ctx, cb, mm.id, resp.Usage)
	m.finish(ctx, a, mm.id, mm.price, res, resp.Usage, servedTerms(req, resp), outcomeOK)
	return resp, nil
}

// servedTerms are the terms a call is priced under: its cache-write TTL
// and the tier and latency that served it (see ServedVariant).
func servedTerms(req *bedrockkit.Request, resp *bedrockkit.Response) Terms {
	v := ServedVariant(req, resp)
	return Terms{CacheWriteTTL: cacheTTL(req), ServiceTier: v.Tier, LatencyMode: v.Latency}
}

// Stream meters a stream from its Metadata usage. When the stream ends
// without Metadata (it failed, or the caller stopped early) after the model
// produced output, usage is estimated from the request and the output seen
// and flagged Estimated. A stream that fails before any event is charged
// nothing. Budgets are reserved when iteration starts and settled as soon
// as the Metadata event arrives (before it is passed on), or when the
// stream ends without it; see the package documentation for what a stream
// without usage is charged.
func (mm *meteredModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		if mm.err != nil {
			yield(nil, mm.err)
			return
		}
		m := mm.m
		a := attributionFrom(ctx)
		res, cb, err := m.begin(ctx, a, mm.id, func() (callBound, error) { return m.bound(ctx, mm.price, mm.id, req) })
		if err != nil {
			yield(nil, err)
			return
		}
		sc := meteredStream{mm: mm, ctx: ctx, a: a, req: req, res: res, cb: cb, terms: servedTerms(req, nil), lastBlock: -1}
		defer sc.finish() // also when yield or the wrapped stream panics
		for ev, err := range mm.next.Stream(ctx, req) {
			if err != nil {
				sc.streamErr = err
			} else {
				sc.observe(ev)
			}
			if !yield(ev, err) || err != nil {
				break
			}
		}
		sc.finish()
	}
}

// meteredStream is the state of one metered stream.
type meteredStream struct {
	mm    *meteredModel
	ctx   context.Context
	a     *attribution
	req   *bedrockkit.Request
	res   reservation
	cb    callBound
	terms Terms

	gotUsage  bool
	bill      Bill  // of the reported usage
	billOK    bool  // bill is priced
	charged   Money // what the budgets were charged for the reported usage
	events    int
	outTokens int // estimated, for the meter
	outBytes  int // bytes of output seen, for the budgets
	blocks    int // content blocks seen (counted at each change of index)
	lastBlock int
	streamErr error
	settled   bool // the reservation is settled
	finished  bool // the call is recorded
}

func (s *meteredStream) observe(ev bedrockkit.StreamEvent) {
	s.events++
	est := s.mm.m.est
	switch e := ev.(type) {
	case bedrockkit.StreamMetadata:
		s.terms = servedTerms(s.req, &bedrockkit.Response{ServiceTier: e.ServiceTier, LatencyMode: e.LatencyMode})
		s.onUsage(e.Usage)
	case bedrockkit.TextDelta:
		s.outTokens += estimateOutput(e.Text, est)
		s.output(e.Index, len(e.Text))
	case bedrockkit.ReasoningDelta:
		s.outTokens += estimateOutput(e.Text, est)
		s.output(e.Index, len(e.Text)+len(e.Signature)+len(e.Redacted))
	case bedrockkit.ToolCallDelta:
		s.outTokens += estimateOutput(e.Name, est) + estimateOutput(e.InputFragment, est)
		s.output(e.Index, len(e.ID)+len(e.Name)+len(e.InputFragment))
	}
}

func (s *meteredStream) output(block, bytes int) {
	s.outBytes += bytes
	if block != s.lastBlock {
		s.lastBlock = block
		s.blocks++
	}
}

// onUsage settles the budgets with reported usage as soon as it arrives; a
// later Metadata event corrects the charge.
func (s *meteredStream) onUsage(u bedrockkit.Usage) {
	mm := s.mm
	if !s.gotUsage {
		mm.m.checkCount(s.ctx, s.cb, mm.id, u)
	}
	s.gotUsage = true
	s.bill, s.billOK = mm.m.price(s.ctx, mm.id, mm.price, u, s.terms)
	c := charge(s.res, s.bill, s.billOK)
	if !s.settled {
		s.settled = true
		s.res.settle(c)
	} else {
		s.res.adjust(c - s.charged)
	}
	s.charged = c
}

// finish settles what is not settled yet and records the call, once.
func (s *meteredStream) finish() {
	if s.finished {
		return
	}
	s.finished = true
	mm, m := s.mm, s.mm.m
	switch {
	case s.gotUsage:
		o := outcomeOK
		if s.streamErr != nil {
			o = outcomeFailed
		}
		m.recordBill(s.ctx, s.a, mm.id, s.bill, s.billOK, o)
	case s.events == 0 && s.streamErr != nil:
		s.settled = true
		s.res.settle(0)
		m.record(s.ctx, s.a, mm.id, Bill{}, outcomeFailed)
	default:
		// The usage never arrived. The meter records an estimate; the
		// budgets are charged the most the call was seen to cost: all its
		// input (the model read it) and the output received, by size,
		// within the reservation.
		if !s.settled {
			s.settled = true
			if s.events == 0 {
				s.res.settle(0) // nothing is known (the wrapped stream panicked, or was empty)
			} else {
				known := s.cb.cost(s.cb.inTokens, satMulAdd(s.outBytes, s.blocks+1))
				s.res.settle(min(known, s.res.amount))
			}
		}
		est := bedrockkit.Usage{InputTokens: EstimateRequest(s.req, m.est), OutputTokens: s.outTokens, Estimated: true}
		o := outcomeEstimated
		if s.streamErr != nil {
			o = outcomeFailed
		}
		b, ok := m.price(s.ctx, mm.id, mm.price, est, s.terms)
		m.recordBill(s.ctx, s.a, mm.id, b, ok, o)
	}
}

// satMulAdd returns bytes plus boundOutputOverhead per block, saturating.
func satMulAdd(bytes, blocks int) int {
	var n satInt
	n.add(bytes)
	n.mul(boundOutputOverhead, blocks)
	return n.v
}

// Embedder returns next metered as modelID, or, when modelID is empty, as
// the ID the embedder reports (bedrockkit.ModelIDOf: TitanEmbedder and
// CohereEmbedder do). Embedders report no usage, so
// input tokens are estimated with the meter's Estimator and flagged
// Estimated. Budgets reserve, and are charged, a bound instead: the bytes of
// the texts plus 8 tokens each (an embedding model's tokens cover at least a
// byte each). An unknown model ID fails every call with an error wrapping
// ErrUnknownModel, and no ID at all with one wrapping
// bedrockkit.ErrInvalidInput.
func (m *Meter) Embedder(modelID string, next bedrockkit.Embedder) bedrockkit.Embedder {
	id := modelID
	if id == "" {
		id = bedrockkit.ModelIDOf(next)
	}
	if id == "" {
		return &meteredEmbedder{m: m, err: fmt.Errorf("pricing: cannot meter %T: it does not say its model ID; pass the ID to price it by, as in meter.Embedder(\"amazon.titan-embed-text-v2:0\", next): %w", next, bedrockkit.ErrInvalidInput), next: next}
	}
	p, err := m.cat.Lookup(id)
	return &meteredEmbedder{m: m, id: id, price: p, err: err, next: next}
}

type meteredEmbedder struct {
	m     *Meter
	id    string
	price Price
	err   error
	next  bedrockkit.Embedder
}

// ModelID returns the ID the embedder is metered as (see bedrockkit.ModelIDOf).
func (me *meteredEmbedder) ModelID() string { return me.id }

// Dimensions returns the wrapped embedder's dimensions.
func (me *meteredEmbedder) Dimensions() int { return me.next.Dimensions() }

// Embed reserves the bound of the texts, embeds, then records the estimated
// tokens and charges the budgets the bound.
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
	res, _, err := m.begin(ctx, a, me.id, func() (callBound, error) {
		var n satInt
		for _, t := range texts {
			n.add(len(t) + boundEmbedOverhead)
		}
		cb := callBound{inTokens: n.v, inRate: uint64(me.price.Input.perM)}
		cb.outRate = cb.inRate
		cb.amount = cb.cost(n.v, 0)
		return cb, nil
	})
	if err != nil {
		return nil, err
	}
	returned := false
	defer func() {
		if !returned {
			res.settle(0) // the embedder panicked; the panic goes on
		}
	}()
	vecs, err := me.next.Embed(ctx, texts, purpose)
	returned = true
	if err != nil {
		res.settle(0)
		m.record(ctx, a, me.id, Bill{}, outcomeFailed)
		return vecs, err
	}
	// The usage is never reported: the budgets keep the bound they reserved.
	bill, ok := m.price(ctx, me.id, me.price, u, Terms{})
	res.settle(res.amount)
	m.recordBill(ctx, a, me.id, bill, ok, outcomeEstimated)
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

var outcomeNames = [numOutcomes]CallOutcome{CallOK, CallEstimated, CallFailed, CallRefused, CallUnpriced}

// record adds one call to its entry, then tells the OnCall hooks.
func (m *Meter) record(ctx context.Context, a *attribution, modelID string, bill Bill, o outcome) {
	k := entryKey{a.tenant, a.session, modelID, a.tagsKey}
	m.mu.Lock()
	x := m.entries[k]
	if x == nil {
		x = &Entry{Tenant: a.tenant, Session: a.session, Model: modelID, Tags: a.tags}
		m.entries[k] = x
	}
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
	m.mu.Unlock()
	m.notify(ctx, a, modelID, bill, o)
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
// OnCall hooks are not affected (OpenTelemetry counters stay cumulative),
// nor are budgets.
func (m *Meter) Reset() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.snapshotLocked()
	m.entries = map[entryKey]*Entry{}
	return s
}

func (m *Meter) snapshotLocked() Snapshot {
	s := Snapshot{Taken: time.Now().UTC(), Entries: make([]Entry, 0, len(m.entries))}
	for _, e := range m.entries {
		s.Entries = append(s.Entries, *e)
	}
	s.sort()
	return s
}
