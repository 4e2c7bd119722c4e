package pricing

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/internal/tokenizer"
)

// llama70 prices input and output alike ($0.99 per 1M), so a reservation
// cannot hide an input undercount behind a higher output rate.
const llama70 = "meta.llama3-1-70b-instruct-v1:0"

// hexText is n random bytes written as hex: about 1.8 bytes per cl100k
// token, where the chars/4 estimate assumes 4.
func hexText(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return hex.EncodeToString(b)
}

// gateModel reports usage computed from the request and blocks every call
// until release is closed; each call that enters says so on arrived.
type gateModel struct {
	usage   func(req *bedrockkit.Request) bedrockkit.Usage
	arrived chan<- struct{}
	release <-chan struct{}
	calls   atomic.Int64
}

func (g *gateModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	g.calls.Add(1)
	g.arrived <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &bedrockkit.Response{Message: bedrockkit.AssistantText("ok"), StopReason: bedrockkit.StopEndTurn, Usage: g.usage(req)}, nil
}

func (g *gateModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		resp, err := g.Generate(ctx, req)
		if err != nil {
			yield(nil, err)
			return
		}
		_ = yield(bedrockkit.TextDelta{Text: "ok"}, nil) && yield(bedrockkit.Stop{Reason: bedrockkit.StopEndTurn}, nil) &&
			yield(bedrockkit.StreamMetadata{Usage: resp.Usage}, nil)
	}
}

func requestText(req *bedrockkit.Request) string {
	var b strings.Builder
	for _, m := range req.Messages {
		for _, p := range m.Parts {
			if t, ok := p.(bedrockkit.Text); ok {
				b.WriteString(t.Text)
			}
		}
	}
	return b.String()
}

// The reproduction: 100 concurrent calls with hex-heavy input
// against a budget of exactly 10 calls. With reservations by the chars/4
// estimate, 22 were admitted at once. Every call is held inside the model
// until all 100 have either entered it or been refused, so the admitted
// calls are all in flight together: at most 10 may be, and spending never
// passes the limit. Usage is counted by two tokenizers: cl100k (a real BPE
// on hex) and a pathological one that makes every byte a token.
func TestBudgetConcurrentHexAdmitsAtMostTen(t *testing.T) {
	const calls, maxTokens = 100, 16
	text := hexText(1, 4000) // 8,000 characters
	for _, tc := range []struct {
		name  string
		count func(string) int
	}{
		{"cl100k", tokenizer.CL100K().Count},
		{"one token per byte", func(s string) int { return len(s) }},
	} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tc.name, stream), func(t *testing.T) {
				usage := func(req *bedrockkit.Request) bedrockkit.Usage {
					return bedrockkit.Usage{InputTokens: tc.count(requestText(req)), OutputTokens: maxTokens}
				}
				one, err := Default().Cost(llama70, usage(userReq(text, maxTokens)))
				if err != nil {
					t.Fatal(err)
				}
				limit := 10 * one.Total
				arrived := make(chan struct{}, calls)
				release := make(chan struct{})
				inner := &gateModel{usage: usage, arrived: arrived, release: release}
				m := newMeter(t, MeterOptions{})
				model := metered(m, llama70, inner)
				budget := m.SetTenantBudget("acme", limit)
				ctx := WithTenant(context.Background(), "acme")

				var refused, failed atomic.Int64
				var wg sync.WaitGroup
				for range calls {
					wg.Go(func() {
						var err error
						if stream {
							for _, e := range model.Stream(ctx, userReq(text, maxTokens)) {
								if e != nil {
									err = e
								}
							}
						} else {
							_, err = model.Generate(ctx, userReq(text, maxTokens))
						}
						switch {
						case errors.Is(err, bedrockkit.ErrBudgetExceeded):
							refused.Add(1)
							arrived <- struct{}{}
						case err != nil:
							failed.Add(1)
							t.Error(err)
						}
					})
				}
				for range calls {
					<-arrived
				}
				inFlight := inner.calls.Load()
				close(release)
				wg.Wait()
				st := budget.State()
				t.Logf("%d of %d calls admitted at once against a budget of 10 calls; spent %v of %v", inFlight, calls, st.Spent, st.Limit)
				if inFlight > 10 {
					t.Errorf("%d calls in flight together against a 10-call budget", inFlight)
				}
				if inFlight == 0 || refused.Load() != calls-inFlight || failed.Load() != 0 {
					t.Errorf("admitted %d, refused %d, failed %d", inFlight, refused.Load(), failed.Load())
				}
				if st.Spent > st.Limit || st.Reserved != 0 {
					t.Errorf("budget after the calls: %+v", st)
				}
				if st.Spent != Money(inFlight)*one.Total {
					t.Errorf("spent %v for %d calls of %v", st.Spent, inFlight, one.Total)
				}
			})
		}
	}
}

// Sequential calls on the same budget stop before the limit, whatever the
// input: every settled call cost at most what it reserved.
func TestBudgetSequentialHexNeverOvershoots(t *testing.T) {
	const maxTokens = 64
	m := newMeter(t, MeterOptions{})
	text := hexText(2, 3000)
	u := bedrockkit.Usage{InputTokens: len(text) + 20, OutputTokens: maxTokens} // worse than any BPE
	model := metered(m, llama70, newUsageModel(u))
	one := must(Default().Cost(llama70, u))
	limit := 10 * one.Total
	run := NewBudget(ScopeRun, "r", limit)
	ctx := WithBudget(context.Background(), run)
	ok := 0
	for range 100 {
		if _, err := model.Generate(ctx, userReq(text, maxTokens)); err != nil {
			if !errors.Is(err, bedrockkit.ErrBudgetExceeded) {
				t.Fatal(err)
			}
			continue
		}
		ok++
	}
	st := run.State()
	if ok > 10 || ok == 0 || st.Spent > limit || st.Reserved != 0 || st.Spent != Money(ok)*one.Total {
		t.Fatalf("%d calls admitted, budget %+v", ok, st)
	}
	t.Logf("%d calls admitted sequentially, spent %v of %v", ok, st.Spent, limit)
}

// A stream settles its reservation on the Metadata event, before the caller
// sees it, not when the caller finishes reading: a slow reader does not
// hold a reservation for usage already known.
func TestStreamSettlesOnMetadata(t *testing.T) {
	u := bedrockkit.Usage{InputTokens: 40, OutputTokens: 7}
	m := newMeter(t, MeterOptions{})
	model := metered(m, micro, newUsageModel(u))
	run := NewBudget(ScopeRun, "r", Dollar)
	ctx := WithBudget(context.Background(), run)
	want := must(Default().Cost(micro, u)).Total
	sawMetadata := false
	for ev, err := range model.Stream(ctx, userReq("hello", 100)) {
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := ev.(bedrockkit.StreamMetadata); ok {
			sawMetadata = true
			if st := run.State(); st.Reserved != 0 || st.Spent != want {
				t.Fatalf("at the Metadata event the budget is %+v; want settled at %v", st, want)
			}
		}
	}
	if !sawMetadata {
		t.Fatal("no Metadata event")
	}
	if e := m.Snapshot().Total(); e.Calls != 1 || e.Cost.Total != want || e.Estimated != 0 {
		t.Fatalf("meter %+v", e)
	}
}

// failingStream yields a text delta per part, then err (or nothing more
// when err is nil); with panicAt > 0 it panics before that delta.
type failingStream struct {
	parts   []string
	err     error
	panicAt int
}

func (f failingStream) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	return nil, errors.New("not used")
}

func (f failingStream) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		for i, p := range f.parts {
			if f.panicAt == i+1 {
				panic("model exploded")
			}
			if !yield(bedrockkit.TextDelta{Text: p}, nil) {
				return
			}
		}
		if f.err != nil {
			yield(nil, f.err)
		}
	}
}

// A stream that ends without usage (broken midway, abandoned by its reader,
// panicking on either side) leaves no reservation behind, and its budgets
// are charged what it was seen to cost: the whole input bound (the model
// read it) and the output received, never more than the reservation.
func TestBrokenStreamsSettle(t *testing.T) {
	boom := errors.New("connection reset")
	parts := []string{strings.Repeat("ab", 300), "cd", "ef"}
	req := userReq(hexText(3, 500), 200)
	tests := []struct {
		name       string
		model      failingStream
		breakAfter int
		panicAt    int // the reader panics at this event
		wantErr    bool
	}{
		{name: "failed midway", model: failingStream{parts: parts, err: boom}, wantErr: true},
		{name: "reader stopped early", model: failingStream{parts: parts}, breakAfter: 1},
		{name: "ended without metadata", model: failingStream{parts: parts}},
		{name: "reader panicked", model: failingStream{parts: parts}, panicAt: 2},
		{name: "model panicked", model: failingStream{parts: parts, panicAt: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMeter(t, MeterOptions{})
			run := NewBudget(ScopeRun, "r", Dollar)
			ctx := WithBudget(context.Background(), run)
			model := metered(m, llama70, tc.model)
			p := must(Default().Lookup(llama70))
			cb, err := m.bound(ctx, p, llama70, req)
			if err != nil {
				t.Fatal(err)
			}
			gotErr := false
			func() {
				defer func() { _ = recover() }()
				n := 0
				for _, err := range model.Stream(ctx, req) {
					if err != nil {
						gotErr = true
						continue
					}
					n++
					if n == tc.panicAt {
						panic("reader exploded")
					}
					if n == tc.breakAfter {
						break
					}
				}
			}()
			if gotErr != tc.wantErr {
				t.Fatalf("stream error %v, want %v", gotErr, tc.wantErr)
			}
			st := run.State()
			if st.Reserved != 0 {
				t.Fatalf("reservation leaked: %+v", st)
			}
			inputOnly := cb.cost(cb.inTokens, 0)
			if st.Spent < inputOnly || st.Spent > cb.amount {
				t.Fatalf("spent %v; want between the input bound %v and the reservation %v", st.Spent, inputOnly, cb.amount)
			}
		})
	}
}

// Calls cancelled while the model runs release their reservations: after
// 100 of them the budget is whole, and a call that fits runs.
func TestCanceledCallsReleaseReservations(t *testing.T) {
	const calls = 100
	m := newMeter(t, MeterOptions{})
	arrived := make(chan struct{}, calls)
	inner := &gateModel{usage: func(*bedrockkit.Request) bedrockkit.Usage { return bedrockkit.Usage{InputTokens: 1} },
		arrived: arrived, release: make(chan struct{})} // never released
	model := metered(m, micro, inner)
	budget := m.SetTenantBudget("acme", Dollar)
	ctx, cancel := context.WithCancel(WithTenant(context.Background(), "acme"))
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		wg.Go(func() {
			if i%2 == 0 {
				_, err := model.Generate(ctx, userReq("hello", 100))
				errs <- err
				return
			}
			for _, err := range model.Stream(ctx, userReq("hello", 100)) {
				if err != nil {
					errs <- err
				}
			}
		})
	}
	for range calls {
		<-arrived
	}
	if st := budget.State(); st.Reserved == 0 {
		t.Fatal("calls in flight reserved nothing")
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled call returned %v", err)
		}
	}
	if st := budget.State(); st.Reserved != 0 || st.Spent != 0 {
		t.Fatalf("after %d canceled calls the budget is %+v", calls, st)
	}
	if e := m.Snapshot().Total(); e.Calls != calls || e.Failed != calls || e.Cost.Total != 0 {
		t.Fatalf("meter %+v", e)
	}
}

type panicModel struct{}

func (panicModel) Generate(context.Context, *bedrockkit.Request) (*bedrockkit.Response, error) {
	panic("model exploded")
}

func (panicModel) Stream(context.Context, *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(func(bedrockkit.StreamEvent, error) bool) { panic("model exploded") }
}

type panicEmbedder struct{}

func (panicEmbedder) Embed(context.Context, []string, bedrockkit.Purpose) ([][]float32, error) {
	panic("embedder exploded")
}
func (panicEmbedder) Dimensions() int { return 4 }

func TestPanickingModelReleasesReservation(t *testing.T) {
	m := newMeter(t, MeterOptions{})
	run := NewBudget(ScopeRun, "r", Dollar)
	ctx := WithBudget(context.Background(), run)
	calls := []func(){
		func() { metered(m, micro, panicModel{}).Generate(ctx, userReq("x", 10)) },
		func() {
			for range metered(m, micro, panicModel{}).Stream(ctx, userReq("x", 10)) {
			}
		},
		func() {
			m.Embedder("amazon.titan-embed-text-v2:0", panicEmbedder{}).Embed(ctx, []string{"x"}, bedrockkit.PurposeQuery)
		},
	}
	for i, call := range calls {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("call %d: the panic was swallowed", i)
				}
			}()
			call()
		}()
		if st := run.State(); st.Reserved != 0 || st.Spent != 0 {
			t.Fatalf("call %d: a panic left %+v", i, st)
		}
	}
}

// A call under a budget without MaxTokens has no output bound: it is
// refused before the model unless the meter was told a default.
func TestBudgetNeedsMaxTokens(t *testing.T) {
	inner := newUsageModel(bedrockkit.Usage{InputTokens: 3, OutputTokens: 3})
	m := newMeter(t, MeterOptions{})
	model := metered(m, micro, inner)
	ctx := WithBudget(context.Background(), NewBudget(ScopeRun, "r", Dollar))
	if _, err := model.Generate(ctx, userReq("hi", 0)); !errors.Is(err, ErrUnbounded) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("no MaxTokens under a budget: %v", err)
	}
	for _, err := range model.Stream(ctx, userReq("hi", 0)) {
		if !errors.Is(err, ErrUnbounded) {
			t.Fatalf("stream without MaxTokens under a budget: %v", err)
		}
	}
	if inner.calls.Load() != 0 {
		t.Fatal("an unbounded call reached the model")
	}
	if e := m.Snapshot().Total(); e.Refused != 2 {
		t.Fatalf("refusals not metered: %+v", e)
	}
	// Without a budget nothing changes.
	if _, err := model.Generate(context.Background(), userReq("hi", 0)); err != nil {
		t.Fatal(err)
	}
	// With DefaultMaxTokens the caller asserts the cap.
	m2 := newMeter(t, MeterOptions{DefaultMaxTokens: 2000})
	run := NewBudget(ScopeRun, "r", Dollar)
	if _, err := metered(m2, micro, inner).Generate(WithBudget(context.Background(), run), userReq("hi", 0)); err != nil {
		t.Fatal(err)
	}
	cb := must(m2.bound(context.Background(), must(Default().Lookup(micro)), micro, userReq("hi", 0)))
	if cb.outTokens != 2000 {
		t.Fatalf("reserved %d output tokens, want DefaultMaxTokens 2000", cb.outTokens)
	}
}

func TestBudgetDocumentsAndImages(t *testing.T) {
	pdf := &bedrockkit.Request{MaxTokens: 10, Messages: []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
		bedrockkit.Text{Text: "summarise"}, bedrockkit.Document{Name: "a", Format: bedrockkit.DocPDF, Bytes: []byte("%PDF-1.7 tiny but compressed")}}}}}
	s3 := &bedrockkit.Request{MaxTokens: 10, Messages: []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
		bedrockkit.Document{Name: "a", Format: bedrockkit.DocTXT, S3URI: "s3://b/k"}}}}}
	img := &bedrockkit.Request{MaxTokens: 10, Messages: []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
		bedrockkit.Image{Format: bedrockkit.ImagePNG, Bytes: []byte{1, 2, 3}}}}}}
	csv := &bedrockkit.Request{MaxTokens: 10, Messages: []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
		bedrockkit.Document{Name: "t", Format: bedrockkit.DocCSV, Bytes: []byte("a,b\n1,2\n")}}}}}
	for _, req := range []*bedrockkit.Request{pdf, s3} {
		if _, err := InputTokenBound(req, TokenBounds{}); !errors.Is(err, ErrUnbounded) {
			t.Fatalf("compressed or remote document bounded without TokenBounds.Document: %v", err)
		}
		n, err := InputTokenBound(req, TokenBounds{Document: 150_000})
		if err != nil || n < 150_000 {
			t.Fatalf("with a document bound: %d, %v", n, err)
		}
	}
	if n, err := InputTokenBound(img, TokenBounds{}); err != nil || n < DefaultImageTokenBound {
		t.Fatalf("a 3-byte image is bounded at %d (%v); images cost up to DefaultImageTokenBound whatever their size", n, err)
	}
	if n, err := InputTokenBound(img, TokenBounds{Image: 1600}); err != nil || n < 1600 || n >= DefaultImageTokenBound {
		t.Fatalf("image bound 1600: %d, %v", n, err)
	}
	if n, err := InputTokenBound(csv, TokenBounds{}); err != nil || n < 3*len("a,b\n1,2\n") {
		t.Fatalf("csv: %d, %v", n, err)
	}
	// Under a budget, the meter refuses the PDF before the model.
	inner := newUsageModel(bedrockkit.Usage{InputTokens: 1})
	m := newMeter(t, MeterOptions{})
	ctx := WithBudget(context.Background(), NewBudget(ScopeRun, "r", Dollar))
	if _, err := metered(m, micro, inner).Generate(ctx, pdf); !errors.Is(err, ErrUnbounded) || inner.calls.Load() != 0 {
		t.Fatalf("pdf under a budget: %v (model called %d times)", err, inner.calls.Load())
	}
}

// countFunc adapts a function to InputCounter.
type countFunc func(ctx context.Context, modelID string, req *bedrockkit.Request) (int, error)

func (f countFunc) CountInputTokens(ctx context.Context, modelID string, req *bedrockkit.Request) (int, error) {
	return f(ctx, modelID, req)
}

// The InputCounter seam: an exact count replaces the byte bound; a failing
// counter falls back to the bound (reported unless it says ErrUnsupported);
// a PDF the bound refuses is allowed once the counter counts it; calls
// without budgets never call it.
func TestInputCounterSeam(t *testing.T) {
	var counted atomic.Int64
	var result atomic.Int64
	var (
		failMu sync.Mutex
		failE  error
	)
	setFail := func(err error) { failMu.Lock(); failE = err; failMu.Unlock() }
	counter := countFunc(func(ctx context.Context, modelID string, req *bedrockkit.Request) (int, error) {
		counted.Add(1)
		failMu.Lock()
		e := failE
		failMu.Unlock()
		if e != nil {
			return 0, e
		}
		if modelID != micro {
			t.Errorf("counter asked for %q", modelID)
		}
		return int(result.Load()), nil
	})
	var reported []error
	m := newMeter(t, MeterOptions{InputCounter: counter, OnError: func(_ context.Context, err error) { reported = append(reported, err) }})
	model := metered(m, micro, newUsageModel(bedrockkit.Usage{InputTokens: 5, OutputTokens: 5}))
	if _, err := model.Generate(context.Background(), userReq("no budget", 10)); err != nil || counted.Load() != 0 {
		t.Fatalf("call without a budget: %v, counter called %d times", err, counted.Load())
	}
	p := must(Default().Lookup(micro))
	req := userReq(strings.Repeat("x", 5000), 10)
	result.Store(7)
	cb := must(m.bound(context.Background(), p, micro, req))
	if cb.inTokens != 7 || counted.Load() != 1 {
		t.Fatalf("exact count: reserved %d input tokens", cb.inTokens)
	}
	byBytes := must(InputTokenBound(req, TokenBounds{}))
	setFail(fmt.Errorf("count tokens: %w", bedrockkit.ErrUnsupported))
	if cb := must(m.bound(context.Background(), p, micro, req)); cb.inTokens != byBytes || len(reported) != 0 {
		t.Fatalf("unsupported: reserved %d (want %d), reported %v", cb.inTokens, byBytes, reported)
	}
	setFail(errors.New("throttled"))
	if cb := must(m.bound(context.Background(), p, micro, req)); cb.inTokens != byBytes || len(reported) != 1 {
		t.Fatalf("failure: reserved %d (want %d), reported %v", cb.inTokens, byBytes, reported)
	}
	setFail(nil)
	result.Store(-3)
	if cb := must(m.bound(context.Background(), p, micro, req)); cb.inTokens != byBytes || len(reported) != 2 {
		t.Fatalf("negative count: reserved %d (want %d), reported %v", cb.inTokens, byBytes, reported)
	}
	result.Store(1000)
	pdf := userReq("read this", 10)
	pdf.Messages[0].Parts = append(pdf.Messages[0].Parts, bedrockkit.Document{Name: "d", Format: bedrockkit.DocPDF, Bytes: []byte("%PDF")})
	ctx := WithBudget(context.Background(), NewBudget(ScopeRun, "r", Dollar))
	if _, err := model.Generate(ctx, pdf); err != nil {
		t.Fatalf("a counted PDF is bounded: %v", err)
	}
}

// Retries inside the wrapped model are one metered call: one reservation,
// settled with the usage of the answer.
func TestBudgetRetryInsideCall(t *testing.T) {
	u := bedrockkit.Usage{InputTokens: 30, OutputTokens: 9}
	script := bedrockkittest.NewScriptedModel(
		bedrockkittest.Step{Err: fmt.Errorf("slow down: %w", bedrockkit.ErrThrottled)},
		bedrockkittest.Step{Err: fmt.Errorf("slow down: %w", bedrockkit.ErrThrottled)},
		bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("ok"), Usage: u}},
	)
	m := newMeter(t, MeterOptions{})
	retry := bedrockkit.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Microsecond, MaxDelay: time.Microsecond}
	model := bedrockkit.Chain(bedrockkit.WithModelID(script, micro), m.Middleware(), retry.Middleware())
	run := NewBudget(ScopeRun, "r", Dollar)
	if _, err := model.Generate(WithBudget(context.Background(), run), userReq("hi", 50)); err != nil {
		t.Fatal(err)
	}
	if st, want := run.State(), must(Default().Cost(micro, u)).Total; st.Spent != want || st.Reserved != 0 || script.Calls() != 3 {
		t.Fatalf("budget %+v after 3 attempts, want spent %v", st, want)
	}
	if e := m.Snapshot().Total(); e.Calls != 1 {
		t.Fatalf("meter %+v", e)
	}
}
