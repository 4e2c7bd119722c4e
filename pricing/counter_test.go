package pricing

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

const haiku35 = "us.anthropic.claude-3-5-haiku-20241022-v1:0"

type errSink struct {
	mu   sync.Mutex
	errs []error
}

func (s *errSink) add(_ context.Context, err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}
func (s *errSink) all() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// TestTokenCountersThroughFakeBedrock reserves by Bedrock's CountTokens
// (through the real SDK client), falls back to the byte bound for models
// CountTokens does not count, and reports a count the billed input passed.
func TestTokenCountersThroughFakeBedrock(t *testing.T) {
	fake := bedrockkittest.NewFakeBedrock(t)
	haiku, err := bedrockkit.NewConverseModel(fake.Client(), haiku35, bedrockkit.ConverseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nova, err := bedrockkit.NewConverseModel(fake.Client(), "us.amazon.nova-lite-v1:0", bedrockkit.ConverseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var sink errSink
	m := NewMeter(MeterOptions{OnError: sink.add, InputCounter: TokenCounters(map[string]bedrockkit.TokenCounter{
		haiku35: haiku, "us.amazon.nova-lite-v1:0": nova,
	})})
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("What does a wire transfer cost?")}, MaxTokens: 100}
	ctx := context.Background()

	// Counted: the reservation uses Bedrock's count, sent for the base model.
	fake.Enqueue(bedrockkittest.OpCountTokens, bedrockkittest.Reply{Usage: bedrockkit.Usage{InputTokens: 1234}})
	p, _ := m.cat.Lookup(haiku35)
	cb, err := m.bound(ctx, p, haiku35, req)
	if err != nil {
		t.Fatal(err)
	}
	if !cb.counted || cb.inTokens != 1234 {
		t.Errorf("bound %+v, want the count 1234", cb)
	}
	if got := fake.Requests()[0]; got.Op != bedrockkittest.OpCountTokens || got.ModelID != "anthropic.claude-3-5-haiku-20241022-v1:0" {
		t.Errorf("count request %s %s", got.Op, got.ModelID)
	}
	// With an output schema the count gets the schema's bound added
	// (CountTokens leaves a native schema out).
	schema, err := bedrockkit.NewOutputSchema("answer", "", []byte(`{"type":"object","properties":{"fee":{"type":"number"}},"required":["fee"]}`))
	if err != nil {
		t.Fatal(err)
	}
	fake.Enqueue(bedrockkittest.OpCountTokens, bedrockkittest.Reply{Usage: bedrockkit.Usage{InputTokens: 1234}})
	withOut := *req
	withOut.Output = schema
	cb2, err := m.bound(ctx, p, haiku35, &withOut)
	if err != nil {
		t.Fatal(err)
	}
	if cb2.inTokens <= 1234+boundToolsOverhead {
		t.Errorf("count with an output schema %d, want 1234 plus the schema's bound", cb2.inTokens)
	}

	// Nova: CountTokens does not count it; silent fallback to the bound,
	// without a call to Bedrock.
	calls := fake.Calls(bedrockkittest.OpCountTokens)
	pn, _ := m.cat.Lookup("us.amazon.nova-lite-v1:0")
	cbn, err := m.bound(ctx, pn, "us.amazon.nova-lite-v1:0", req)
	if err != nil {
		t.Fatal(err)
	}
	wantBound, _ := InputTokenBound(req, TokenBounds{})
	if cbn.counted || cbn.inTokens != wantBound || fake.Calls(bedrockkittest.OpCountTokens) != calls {
		t.Errorf("nova bound %+v, want the byte bound %d without a CountTokens call", cbn, wantBound)
	}
	// A model without a counter: the bound, silently.
	pm, _ := m.cat.Lookup("us.anthropic.claude-3-7-sonnet-20250219-v1:0")
	if cb, err := m.bound(ctx, pm, "us.anthropic.claude-3-7-sonnet-20250219-v1:0", req); err != nil || cb.counted {
		t.Errorf("no counter: %+v %v", cb, err)
	}
	if errs := sink.all(); len(errs) != 0 {
		t.Fatalf("fallbacks reported: %v", errs)
	}

	// A call under a budget whose billed input passes the count is reported.
	fake.Enqueue(bedrockkittest.OpCountTokens, bedrockkittest.Reply{Usage: bedrockkit.Usage{InputTokens: 10}})
	fake.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText("$25"), Usage: bedrockkit.Usage{InputTokens: 8, CacheReadTokens: 5, OutputTokens: 3}})
	bctx := WithBudget(ctx, NewBudget(ScopeRun, "r", Dollar))
	if _, err := metered(m, haiku35, haiku).Generate(bctx, req); err != nil {
		t.Fatal(err)
	}
	errs := sink.all()
	var cm *CountMismatchError
	if len(errs) != 1 || !errors.As(errs[0], &cm) || cm.Counted != 10 || cm.Billed != 13 {
		t.Errorf("reported %v, want a count mismatch of 10 counted, 13 billed", errs)
	}
	// A count that holds is not reported.
	fake.Enqueue(bedrockkittest.OpCountTokens, bedrockkittest.Reply{Usage: bedrockkit.Usage{InputTokens: 20}})
	fake.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{Message: bedrockkit.AssistantText("$25"), Usage: bedrockkit.Usage{InputTokens: 20, OutputTokens: 3}})
	if _, err := bedrockkit.Collect(metered(m, haiku35, haiku).Stream(bctx, req)); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.all()); n != 1 {
		t.Errorf("%d reports after an exact count, want still 1", n)
	}
}

func TestInputTokenBoundCountsTheOutputSchema(t *testing.T) {
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}}
	without, _ := InputTokenBound(req, TokenBounds{})
	schema, err := bedrockkit.NewOutputSchema("answer", "the answer", []byte(`{"type":"object","properties":{"fee":{"type":"number"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	with := *req
	with.Output = schema
	n, _ := InputTokenBound(&with, TokenBounds{})
	if min := without + boundToolsOverhead + boundToolOverhead + boundJSONFactor*len(schema.WireJSON()); n < min {
		t.Errorf("bound with an output schema %d, want at least %d", n, min)
	}
}

func TestMeterForwardsSupportsOutput(t *testing.T) {
	m := NewMeter(MeterOptions{})
	sm := bedrockkittest.NewScriptedModel()
	wrapped := metered(m, novaPro, sm)
	oc, ok := wrapped.(bedrockkit.OutputCapable)
	if !ok || !oc.SupportsOutput() {
		t.Fatal("metered ScriptedModel does not report SupportsOutput")
	}
	sm.SetSupportsOutput(false)
	if oc.SupportsOutput() {
		t.Error("SupportsOutput not forwarded after the wrapped model changed its answer")
	}
	plain := metered(m, novaPro, struct{ bedrockkit.Model }{sm})
	if plain.(bedrockkit.OutputCapable).SupportsOutput() {
		t.Error("a model that is not OutputCapable reported true through the meter")
	}
}
