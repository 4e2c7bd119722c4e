package pricing

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestOnCallSeesEveryRecordedCall(t *testing.T) {
	m := newMeter(t, MeterOptions{})
	var (
		mu    sync.Mutex
		calls []MeteredCall
	)
	remove := m.OnCall(func(ctx context.Context, c MeteredCall) {
		if TenantFrom(ctx) != c.Tenant {
			t.Errorf("hook context has tenant %q, call %q", TenantFrom(ctx), c.Tenant)
		}
		_ = m.Snapshot() // a hook may call the meter: it runs outside the meter's lock
		mu.Lock()
		calls = append(calls, c)
		mu.Unlock()
	})
	u := bedrockkit.Usage{InputTokens: 1000, OutputTokens: 200}
	model := metered(m, haiku45, newUsageModel(u))
	ctx := WithTags(WithSession(WithTenant(context.Background(), "acme"), "s1"), map[string]string{"feature": "chat", "a b": "c&d"})
	if _, err := model.Generate(ctx, userReq("hi", 10)); err != nil {
		t.Fatal(err)
	}
	_, _ = model.Generate(WithBudget(ctx, NewBudget(ScopeRun, "r", 0)), userReq("hi", 10)) // refused
	boom := errors.New("boom")
	failing := metered(m, haiku45, bedrockkittest.NewScriptedModel(bedrockkittest.Step{Err: boom}))
	if _, err := failing.Generate(ctx, userReq("hi", 10)); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, err := m.Record(ctx, haiku45, bedrockkit.Usage{InputTokens: 5, Estimated: true}, Terms{}); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	got := slices.Clone(calls)
	mu.Unlock()
	var outcomes []CallOutcome
	for _, c := range got {
		outcomes = append(outcomes, c.Outcome)
		if c.Tenant != "acme" || c.Session != "s1" || c.Model != haiku45 || c.Tags["feature"] != "chat" || c.TagsKey != "a+b=c%26d&feature=chat" {
			t.Errorf("call %+v", c)
		}
	}
	if want := []CallOutcome{CallOK, CallRefused, CallFailed, CallEstimated}; !slices.Equal(outcomes, want) {
		t.Fatalf("outcomes %v, want %v", outcomes, want)
	}
	snap := m.Snapshot().Total()
	var total Money
	for _, c := range got {
		total += c.Bill.Total
	}
	if got[0].Bill.Usage != u || got[0].Bill.Total == 0 || total != snap.Cost.Total || got[1].Bill.Total != 0 {
		t.Fatalf("bills %+v, total %s, snapshot %s", got, total, snap.Cost.Total)
	}

	remove()
	remove() // idempotent
	if _, err := model.Generate(ctx, userReq("hi", 10)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 4 {
		t.Fatalf("%d calls seen after remove, want 4", len(calls))
	}
}

// TestOnCallConcurrent registers and removes hooks while calls run: under
// -race, and every call made while a hook is registered for its whole
// duration reaches it.
func TestOnCallConcurrent(t *testing.T) {
	m := newMeter(t, MeterOptions{})
	model := metered(m, haiku45, newUsageModel(bedrockkit.Usage{InputTokens: 1, OutputTokens: 1}))
	var mu sync.Mutex
	seen := 0
	stay := m.OnCall(func(context.Context, MeteredCall) {
		mu.Lock()
		seen++
		mu.Unlock()
	})
	defer stay()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if _, err := model.Generate(context.Background(), userReq("x", 1)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 200 {
			m.OnCall(func(context.Context, MeteredCall) {})()
		}
	})
	wg.Wait()
	if seen != 800 {
		t.Fatalf("the registered hook saw %d of 800 calls", seen)
	}
}

func TestMiddlewareTakesTheModelID(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t)
	const id = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
	converse, err := bedrockkit.NewConverseModel(f.Client(), id, bedrockkit.ConverseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := newMeter(t, MeterOptions{})
	u := bedrockkit.Usage{InputTokens: 1_000_000}
	want, err := m.Catalog().Cost(id, u)
	if err != nil {
		t.Fatal(err)
	}
	for name, model := range map[string]bedrockkit.Model{
		"converse":     bedrockkit.Chain(converse, m.Middleware()),
		"retry inside": bedrockkit.Chain(converse, m.Middleware(), bedrockkit.RetryPolicy{}.Middleware()),
		// bedrockkit.WithModelID names a model that reports no ID, and
		// renames one that does.
		"named, no ID of its own": metered(m, id, newUsageModel(u)),
		"renamed":                 metered(m, id, mustConverse(t, f, "us.amazon.nova-lite-v1:0")),
	} {
		f.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText("ok"), Usage: u})
		m.Reset()
		ctx := WithTenant(context.Background(), name)
		if _, err := model.Generate(ctx, userReq("hi", 10)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		entries := m.Snapshot().Entries
		if len(entries) != 1 || entries[0].Model != id || entries[0].Cost.Total != want.Total {
			t.Errorf("%s: entries %+v, want one of %s at %s", name, entries, id, want.Total)
		}
		if got := bedrockkit.ModelIDOf(model); got != id {
			t.Errorf("%s: the metered model reports ID %q", name, got)
		}
	}
}

func mustConverse(t *testing.T, f *bedrockkittest.FakeBedrock, id string) *bedrockkit.ConverseModel {
	t.Helper()
	m, err := bedrockkit.NewConverseModel(f.Client(), id, bedrockkit.ConverseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMiddlewareWithoutIDFailsClosed(t *testing.T) {
	m := newMeter(t, MeterOptions{})
	scripted := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("never"))
	for name, model := range map[string]bedrockkit.Model{
		"no ID":      bedrockkit.Chain(scripted, m.Middleware()),
		"empty ID":   metered(m, "", scripted),
		"unknown ID": metered(m, "acme.mystery-v1", scripted),
	} {
		_, err := model.Generate(context.Background(), userReq("hi", 10))
		want := bedrockkit.ErrInvalidInput
		if name == "unknown ID" {
			want = ErrUnknownModel
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: Generate err = %v, want %v", name, err, want)
		}
		_, err = bedrockkit.Collect(model.Stream(context.Background(), userReq("hi", 10)))
		if !errors.Is(err, want) {
			t.Errorf("%s: Stream err = %v, want %v", name, err, want)
		}
	}
	if scripted.Calls() != 0 {
		t.Fatalf("the model was called %d times without a price", scripted.Calls())
	}
	if n := len(m.Snapshot().Entries); n != 0 {
		t.Fatalf("%d entries recorded for calls that never ran", n)
	}
}

func TestEmbedderTakesTheEmbedderID(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t)
	titan, err := bedrockkit.NewTitanEmbedder(f.Client(), bedrockkit.TitanOptions{Dimensions: 256})
	if err != nil {
		t.Fatal(err)
	}
	m := newMeter(t, MeterOptions{})
	e := m.Embedder("", titan)
	if _, err := e.Embed(context.Background(), []string{"hello world"}, bedrockkit.PurposeDocument); err != nil {
		t.Fatal(err)
	}
	entries := m.Snapshot().Entries
	if len(entries) != 1 || entries[0].Model != bedrockkit.TitanEmbedTextV2 || entries[0].Cost.Total == 0 {
		t.Fatalf("entries %+v", entries)
	}
	if bedrockkit.ModelIDOf(e) != bedrockkit.TitanEmbedTextV2 {
		t.Fatalf("metered embedder reports %q", bedrockkit.ModelIDOf(e))
	}
	// An embedder that does not say its ID needs one.
	anon := m.Embedder("", bedrockkittest.NewHashEmbedder(8))
	if _, err := anon.Embed(context.Background(), []string{"x"}, bedrockkit.PurposeDocument); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("embedder without an ID: %v", err)
	}
}
