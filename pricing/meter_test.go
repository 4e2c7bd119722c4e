package pricing

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"iter"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

const (
	haiku45 = "global.anthropic.claude-haiku-4-5-20251001-v1:0"
	micro   = "amazon.nova-micro-v1:0"
)

// usageModel answers every call with a fixed usage (and streams it in a
// Metadata event). It allocates nothing per Generate call.
type usageModel struct {
	resp  bedrockkit.Response
	calls atomic.Int64
}

func newUsageModel(u bedrockkit.Usage) *usageModel {
	return &usageModel{resp: bedrockkit.Response{Message: bedrockkit.AssistantText("ok"), StopReason: bedrockkit.StopEndTurn, Usage: u}}
}

func (m *usageModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	m.calls.Add(1)
	return &m.resp, nil
}

func (m *usageModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		m.calls.Add(1)
		_ = yield(bedrockkit.TextDelta{Text: "ok"}, nil) && yield(bedrockkit.Stop{Reason: bedrockkit.StopEndTurn}, nil) &&
			yield(bedrockkit.StreamMetadata{Usage: m.resp.Usage}, nil)
	}
}

func newMeter(t testing.TB, cfg MeterOptions) *Meter {
	t.Helper()
	m := NewMeter(cfg)
	return m
}

// metered returns next metered by m as id.
func metered(m *Meter, id string, next bedrockkit.Model) bedrockkit.Model {
	return m.Middleware()(bedrockkit.WithModelID(next, id))
}

func userReq(text string, maxTokens int) *bedrockkit.Request {
	return &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText(text)}, MaxTokens: maxTokens}
}

func TestMeterAttributesToTenantSessionTags(t *testing.T) {
	m := newMeter(t, MeterOptions{})
	u := bedrockkit.Usage{InputTokens: 1000, OutputTokens: 200, CacheReadTokens: 5000, CacheWriteTokens: 400}
	model := bedrockkit.Chain(bedrockkit.WithModelID(newUsageModel(u), haiku45), m.Middleware())

	ctxA := WithTags(WithSession(WithTenant(context.Background(), "acme"), "s1"), map[string]string{"feature": "search"})
	ctxB := WithTenant(context.Background(), "globex")
	for range 3 {
		if _, err := model.Generate(ctxA, userReq("hi", 100)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := model.Generate(ctxB, userReq("hi", 100)); err != nil {
		t.Fatal(err)
	}
	one, err := Default().Cost(haiku45, u)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Snapshot()
	if len(s.Entries) != 2 {
		t.Fatalf("%d entries, want 2: %+v", len(s.Entries), s.Entries)
	}
	a := s.Entries[0]
	if a.Tenant != "acme" || a.Session != "s1" || a.Tags["feature"] != "search" || a.Model != haiku45 || a.Calls != 3 {
		t.Fatalf("acme entry %+v", a)
	}
	if a.Cost.Total != 3*one.Total || a.Cost.CacheRead != 3*one.CacheRead || a.InputTokens != 3000 || a.CacheWriteTokens != 1200 {
		t.Fatalf("acme cost %+v, want 3 x %+v", a.Cost, one.Breakdown)
	}
	if got := s.ByTenant()["globex"].Cost.Total; got != one.Total {
		t.Fatalf("globex %v, want %v", got, one.Total)
	}
	if s.Total().Cost.Total != 4*one.Total || s.Total().Calls != 4 {
		t.Fatalf("total %+v", s.Total())
	}

	// CSV and JSON exports carry exact decimal costs.
	var buf bytes.Buffer
	if err := s.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 3 || strings.Join(recs[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("csv %v %v", recs, err)
	}
	if recs[1][3] != "feature=search" || recs[1][len(CSVHeader)-1] != string(must(a.Cost.Total.MarshalText())) {
		t.Fatalf("csv row %v", recs[1])
	}
	buf.Reset()
	if err := s.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Snapshot
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if bt, st := back.Total(), s.Total(); bt.Cost != st.Cost || bt.Calls != st.Calls || bt.InputTokens != st.InputTokens || back.Entries[0].Tags["feature"] != "search" {
		t.Fatalf("JSON round trip total %+v, want %+v", back.Total(), s.Total())
	}

	// Reset returns what it cleared.
	old := m.Reset()
	if old.Total().Calls != 4 || len(m.Snapshot().Entries) != 0 {
		t.Fatalf("reset: old %d calls, now %d entries", old.Total().Calls, len(m.Snapshot().Entries))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestMeterOneHourCacheWritesFromRequest(t *testing.T) {
	m := newMeter(t, MeterOptions{})
	u := bedrockkit.Usage{CacheWriteTokens: 1_000_000}
	model := metered(m, haiku45, newUsageModel(u))
	req := userReq("hi", 10)
	req.System = []bedrockkit.Part{bedrockkit.Text{Text: "sys"}, bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL1h}}
	if _, err := model.Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got := m.Snapshot().Total().Cost.CacheWrite; got != 2*Dollar {
		t.Fatalf("1h cache write of 1M Haiku 4.5 tokens: %v, want $2.00", got)
	}
}

func TestMeterUnknownModelFailsLoudly(t *testing.T) {
	m := newMeter(t, MeterOptions{})
	inner := newUsageModel(bedrockkit.Usage{InputTokens: 1})
	model := metered(m, "acme.mystery-v1", inner)
	if _, err := model.Generate(context.Background(), userReq("x", 1)); !errors.Is(err, ErrUnknownModel) {
		t.Fatalf("Generate: %v", err)
	}
	for _, err := range model.Stream(context.Background(), userReq("x", 1)) {
		if !errors.Is(err, ErrUnknownModel) {
			t.Fatalf("Stream: %v", err)
		}
	}
	if _, err := m.Embedder("acme.mystery-embed", bedrockkittest.NewHashEmbedder(8)).Embed(context.Background(), []string{"x"}, bedrockkit.PurposeDocument); !errors.Is(err, ErrUnknownModel) {
		t.Fatalf("Embed: %v", err)
	}
	if inner.calls.Load() != 0 {
		t.Fatal("an unpriced model was called")
	}
}

func TestMeterUnpricedUsageIsCountedNotZeroed(t *testing.T) {
	var reported []error
	m := newMeter(t, MeterOptions{OnError: func(_ context.Context, err error) { reported = append(reported, err) }})
	// Claude 3 Haiku has no cache prices in the table.
	model := metered(m, "anthropic.claude-3-haiku-20240307-v1:0", newUsageModel(bedrockkit.Usage{InputTokens: 10, CacheReadTokens: 10}))
	if _, err := model.Generate(context.Background(), userReq("x", 1)); err != nil {
		t.Fatal(err)
	}
	e := m.Snapshot().Total()
	if e.Unpriced != 1 || e.InputTokens != 10 || len(reported) != 1 || !errors.Is(reported[0], ErrUnpriced) {
		t.Fatalf("entry %+v reported %v", e, reported)
	}
}

func TestMeterStreams(t *testing.T) {
	u := bedrockkit.Usage{InputTokens: 100, OutputTokens: 20}
	full := bedrockkittest.ResponseEvents(&bedrockkit.Response{Message: bedrockkit.AssistantText("hello there, how are you"), Usage: u}, 4)
	boom := errors.New("boom")
	textOnly := full[:len(full)-2] // without Stop and Metadata
	tests := []struct {
		name                string
		step                bedrockkittest.Step
		breakAfter          int // stop consuming after this many events (0: never)
		wantErr             bool
		wantFailed, wantEst int64
		wantUsage           bool // usage equals u
	}{
		{name: "complete", step: bedrockkittest.Step{Events: full}, wantUsage: true},
		{name: "failed midway", step: bedrockkittest.Step{Events: textOnly, Err: boom}, wantErr: true, wantFailed: 1, wantEst: 1},
		{name: "failed before any event", step: bedrockkittest.Step{Events: []bedrockkit.StreamEvent{}, Err: boom}, wantErr: true, wantFailed: 1},
		{name: "caller stopped early", step: bedrockkittest.Step{Events: full}, breakAfter: 2, wantEst: 1},
		{name: "error after metadata", step: bedrockkittest.Step{Events: full, Err: boom}, wantErr: true, wantFailed: 1, wantUsage: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMeter(t, MeterOptions{})
			model := metered(m, micro, bedrockkittest.NewScriptedModel(tc.step))
			n, gotErr := 0, false
			for _, err := range model.Stream(context.Background(), userReq("say hello", 50)) {
				if err != nil {
					gotErr = true
					continue
				}
				n++
				if tc.breakAfter > 0 && n == tc.breakAfter {
					break
				}
			}
			if gotErr != tc.wantErr {
				t.Fatalf("error %v, want %v", gotErr, tc.wantErr)
			}
			e := m.Snapshot().Total()
			if e.Calls != 1 || e.Failed != tc.wantFailed || e.Estimated != tc.wantEst {
				t.Fatalf("entry %+v", e)
			}
			if tc.wantUsage && (e.InputTokens != 100 || e.OutputTokens != 20) {
				t.Fatalf("usage %+v, want %+v", e, u)
			}
			if tc.wantEst == 1 && (e.InputTokens == 0 || e.OutputTokens == 0 || e.Cost.Total == 0) {
				t.Fatalf("estimated stream charged nothing: %+v", e)
			}
			if !tc.wantUsage && tc.wantEst == 0 && e.Cost.Total != 0 {
				t.Fatalf("stream that produced nothing charged %v", e.Cost.Total)
			}
		})
	}
}

func TestMeterEmbedder(t *testing.T) {
	m := newMeter(t, MeterOptions{})
	emb := m.Embedder("amazon.titan-embed-text-v2:0", bedrockkittest.NewHashEmbedder(16))
	texts := []string{strings.Repeat("a", 4000), strings.Repeat("b", 4000)} // 1,000 tokens each by EstimateBytes
	vecs, err := emb.Embed(WithTenant(context.Background(), "acme"), texts, bedrockkit.PurposeDocument)
	if err != nil || len(vecs) != 2 || emb.Dimensions() != 16 {
		t.Fatalf("%d vectors, %v", len(vecs), err)
	}
	e := m.Snapshot().ByTenant()["acme"]
	// 2,000 tokens at $0.02/1M = $0.00004.
	if e.InputTokens != 2000 || e.Cost.Total != MustMoney("0.00004") || e.Estimated != 1 {
		t.Fatalf("embedding entry %+v", e)
	}
}

func TestMeterRecordGuardrailUnits(t *testing.T) {
	m := newMeter(t, MeterOptions{})
	ctx := WithTenant(context.Background(), "acme")
	b := m.SetTenantBudget("acme", Dollar)
	for _, p := range []GuardrailPolicy{PolicyContentFilter, PolicySensitiveInfo} {
		if _, err := m.Record(ctx, string(p), bedrockkit.Usage{InputTokens: 1000}, Terms{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.Snapshot().Total().Cost.Total; got != MustMoney("0.25") {
		t.Fatalf("guardrail total %v", got)
	}
	if b.State().Spent != MustMoney("0.25") {
		t.Fatalf("budget spent %v", b.State().Spent)
	}
}

// 64 goroutines make 10,000 metered calls across tenants, models and token
// mixes; the totals must equal an independent exact computation (math/big
// from the decimal prices) to the nano-dollar, which is finer than the
// micro-cent the issue asks for.
func TestMeterConcurrentTotalsExact(t *testing.T) {
	const goroutines, calls = 64, 10_000
	m := newMeter(t, MeterOptions{})
	type kind struct {
		model string
		u     bedrockkit.Usage
		// prices in dollars per 1M tokens: input, output, cache read, cache write (5m)
		in, out, cr, cw string
	}
	kinds := []kind{
		{haiku45, bedrockkit.Usage{InputTokens: 1234, OutputTokens: 567, CacheReadTokens: 8901, CacheWriteTokens: 2345}, "1", "5", "0.10", "1.25"},
		{micro, bedrockkit.Usage{InputTokens: 777, OutputTokens: 333, CacheReadTokens: 1004}, "0.035", "0.14", "0.00875", "0.035"},
		{"us.anthropic.claude-sonnet-4-5-20250929-v1:0", bedrockkit.Usage{InputTokens: 3, OutputTokens: 7, CacheWriteTokens: 11}, "3.30", "16.50", "0.33", "4.125"},
		{"meta.llama3-1-70b-instruct-v1:0", bedrockkit.Usage{InputTokens: 12345, OutputTokens: 1}, "0.99", "0.99", "0", "0"},
	}
	models := make([]bedrockkit.Model, len(kinds))
	for i, k := range kinds {
		models[i] = metered(m, k.model, newUsageModel(k.u))
	}
	tenants := []string{"a", "b", "c", "d", "e"}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= calls {
					return
				}
				ctx := WithTenant(context.Background(), tenants[i%int64(len(tenants))])
				if _, err := models[i%int64(len(kinds))].Generate(ctx, userReq("x", 1)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Independent exact total: sum over calls of tokens x $/1M / 1e6, in big.Rat.
	rat := func(s string) *big.Rat { r, _ := new(big.Rat).SetString(s); return r }
	want := new(big.Rat)
	for i := range calls {
		k := kinds[i%len(kinds)]
		for _, p := range []struct {
			n     int
			price string
		}{{k.u.InputTokens, k.in}, {k.u.OutputTokens, k.out}, {k.u.CacheReadTokens, k.cr}, {k.u.CacheWriteTokens, k.cw}} {
			c := new(big.Rat).Mul(big.NewRat(int64(p.n), 1_000_000), rat(p.price))
			if n := new(big.Rat).Mul(c, big.NewRat(int64(Dollar), 1)); !n.IsInt() {
				// Then Cost rounds the line; the test wants no rounding at all.
				t.Fatalf("test data: %d tokens at $%s/1M is %s n$, not whole", p.n, p.price, n.FloatString(3))
			}
			want.Add(want, c)
		}
	}
	wantNano := new(big.Rat).Mul(want, big.NewRat(int64(Dollar), 1))
	s := m.Snapshot()
	tot := s.Total()
	if tot.Calls != calls {
		t.Fatalf("%d calls metered, want %d", tot.Calls, calls)
	}
	if got := big.NewInt(int64(tot.Cost.Total)); got.Cmp(wantNano.Num()) != 0 {
		t.Fatalf("total %v (%d n$), want exactly %s n$", tot.Cost.Total, tot.Cost.Total, wantNano.Num())
	}
	var perTenant Money
	for _, e := range s.ByTenant() {
		perTenant += e.Cost.Total
	}
	if perTenant != tot.Cost.Total || len(s.ByTenant()) != len(tenants) {
		t.Fatalf("per-tenant sum %v, total %v", perTenant, tot.Cost.Total)
	}
	t.Logf("10,000 calls from 64 goroutines: total %v", tot.Cost.Total)
}
