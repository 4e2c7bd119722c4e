package pricing

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

const novaPro = "us.amazon.nova-pro-v1:0"

func TestLookupVariant(t *testing.T) {
	c := Default()
	flex, err := c.LookupVariant(novaPro, "", Variant{Tier: bedrockkit.ServiceTierFlex})
	if err != nil {
		t.Fatal(err)
	}
	std, err := c.Lookup(novaPro)
	if err != nil {
		t.Fatal(err)
	}
	if flex.Input.PerMillion()*2 != std.Input.PerMillion() || flex.Output.PerMillion()*2 != std.Output.PerMillion() {
		t.Errorf("flex %v/%v, standard %v/%v: want flex at half", flex.Input, flex.Output, std.Input, std.Output)
	}
	if std.ServiceTier != "" {
		t.Errorf("standard lookup returned the %s row", std.Variant())
	}
	// "default" and "standard" are the standard variant.
	d, err := c.LookupVariant(novaPro, "", Variant{Tier: bedrockkit.ServiceTierDefault, Latency: bedrockkit.LatencyStandard})
	if err != nil || d.Name != std.Name {
		t.Errorf("default tier: %v %v", d.Name, err)
	}
	// No published priority price: refused, never priced at another tier's rates.
	_, err = c.LookupVariant(novaPro, "", Variant{Tier: bedrockkit.ServiceTierPriority})
	var vu *VariantUnpricedError
	if !errors.As(err, &vu) || !errors.Is(err, ErrUnpriced) || vu.Variant.Tier != bedrockkit.ServiceTierPriority {
		t.Errorf("priority: %v", err)
	}
	// A fallback row does not stand in for an unpublished tier.
	fb, err := c.WithFallback(Row{Kind: KindText, Unit: UnitPer1MTokens, Input: MustRate("1", UnitPer1MTokens), Output: MustRate("1", UnitPer1MTokens)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fb.LookupVariant(novaPro, "", Variant{Tier: bedrockkit.ServiceTierPriority}); !errors.Is(err, ErrUnpriced) {
		t.Errorf("priority with a fallback: %v", err)
	}
	if _, err := fb.LookupVariant("example.unknown-v1:0", "", Variant{Tier: bedrockkit.ServiceTierFlex}); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("unknown model, flex, with a fallback: %v", err)
	}
	// Reserved: capacity paid by the month, zero per token, marked.
	r, err := c.LookupVariant(novaPro, "", Variant{Tier: bedrockkit.ServiceTierReserved})
	if err != nil || !r.Committed || r.Input.PerMillion() != 0 || !r.Input.IsSet() {
		t.Errorf("reserved: %+v %v", r, err)
	}
	// Latency-optimized: its own row, limited to its Region.
	lo, err := c.LookupVariant("us.meta.llama3-1-405b-instruct-v1:0", "us-east-2", Variant{Latency: bedrockkit.LatencyOptimized})
	if err != nil || lo.Input.String() != "$3.00/1M" {
		t.Errorf("latency-optimized 405B: %v %v", lo.Input, err)
	}
	if _, err := c.LookupVariant("us.meta.llama3-1-405b-instruct-v1:0", "eu-west-1", Variant{Latency: bedrockkit.LatencyOptimized}); !errors.Is(err, ErrUnpriced) {
		t.Errorf("latency-optimized outside its Region: %v", err)
	}
}

func TestCostWithTier(t *testing.T) {
	u := bedrockkit.Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000}
	b, err := Default().CostWith(novaPro, u, Terms{ServiceTier: bedrockkit.ServiceTierFlex})
	if err != nil {
		t.Fatal(err)
	}
	if b.Total != MustMoney("2.00") || b.Variant.Tier != bedrockkit.ServiceTierFlex {
		t.Errorf("flex bill %v (%s), want $2.00 flex", b.Total, b.Variant)
	}
	b, err = Default().CostWith(novaPro, u, Terms{ServiceTier: bedrockkit.ServiceTierReserved})
	if err != nil || b.Total != 0 || !b.Committed || b.Usage.InputTokens != 1_000_000 {
		t.Errorf("reserved bill %+v %v", b, err)
	}
	if _, err := Default().CostWith(novaPro, u, Terms{ServiceTier: bedrockkit.ServiceTierPriority}); !errors.Is(err, ErrUnpriced) {
		t.Errorf("priority: %v", err)
	}
}

func TestServedVariant(t *testing.T) {
	req := &bedrockkit.Request{ServiceTier: bedrockkit.ServiceTierPriority, LatencyMode: bedrockkit.LatencyOptimized}
	for _, tc := range []struct {
		resp *bedrockkit.Response
		want Variant
	}{
		{nil, Variant{bedrockkit.ServiceTierPriority, bedrockkit.LatencyOptimized}},
		{&bedrockkit.Response{}, Variant{bedrockkit.ServiceTierPriority, bedrockkit.LatencyOptimized}},
		{&bedrockkit.Response{ServiceTier: bedrockkit.ServiceTierDefault, LatencyMode: bedrockkit.LatencyStandard}, Variant{}},
		{&bedrockkit.Response{ServiceTier: bedrockkit.ServiceTierFlex}, Variant{bedrockkit.ServiceTierFlex, bedrockkit.LatencyOptimized}},
	} {
		if got := ServedVariant(req, tc.resp); got != tc.want {
			t.Errorf("ServedVariant(%+v) = %v, want %v", tc.resp, got, tc.want)
		}
	}
	if got := ServedVariant(nil, nil); got != (Variant{}) {
		t.Errorf("nil, nil: %v", got)
	}
}

func TestVariantRowsValidateAndOverride(t *testing.T) {
	c := Default()
	bad := Row{IDs: []string{"x.y-v1:0"}, Kind: KindText, Unit: UnitPer1MTokens, Input: MustRate("1", UnitPer1MTokens), ServiceTier: bedrockkit.ServiceTierReserved}
	if _, err := c.Override(bad); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("reserved row: %v", err)
	}
	bad.ServiceTier = "gold"
	if _, err := c.Override(bad); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("unknown tier: %v", err)
	}
	// A negotiated priority price is added beside the standard row and
	// replaces nothing else.
	pri := Row{IDs: []string{"amazon.nova-pro-v1:0"}, Kind: KindText, Unit: UnitPer1MTokens,
		Input: MustRate("1.40", UnitPer1MTokens), Output: MustRate("5.60", UnitPer1MTokens), ServiceTier: bedrockkit.ServiceTierPriority, Source: "our quote"}
	n, err := c.Override(pri)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Rows()) != len(c.Rows())+1 {
		t.Errorf("override added %d rows, want 1", len(n.Rows())-len(c.Rows()))
	}
	b, err := n.CostWith(novaPro, bedrockkit.Usage{InputTokens: 1_000_000}, Terms{ServiceTier: bedrockkit.ServiceTierPriority})
	if err != nil || b.Total != MustMoney("1.40") {
		t.Errorf("priority after override: %v %v", b.Total, err)
	}
	if s, err := n.CostWith(novaPro, bedrockkit.Usage{InputTokens: 1_000_000}, Terms{}); err != nil || s.Total != MustMoney("0.80") {
		t.Errorf("standard after override: %v %v", s.Total, err)
	}
	// The JSON round trip keeps variant rows, provisioned rows and services.
	data, err := n.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Rows()) != len(n.Rows()) || len(back.ProvisionedRows()) != len(c.ProvisionedRows()) || len(back.Services()) != len(c.Services()) {
		t.Errorf("round trip lost rows: %d/%d %d/%d %d/%d", len(back.Rows()), len(n.Rows()),
			len(back.ProvisionedRows()), len(c.ProvisionedRows()), len(back.Services()), len(c.Services()))
	}
	if _, err := back.LookupVariant(novaPro, "", Variant{Tier: bedrockkit.ServiceTierPriority}); err != nil {
		t.Errorf("priority row lost in the round trip: %v", err)
	}
}

// tierModel answers with a fixed usage and reports tier and latency as
// served.
func tierReply(tier bedrockkit.ServiceTier, lat bedrockkit.LatencyMode) bedrockkittest.Step {
	return bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("ok"),
		Usage: bedrockkit.Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000}, ServiceTier: tier, LatencyMode: lat}}
}

func TestMeterPricesTheServedTier(t *testing.T) {
	var mu sync.Mutex
	var reported []error
	m := NewMeter(MeterOptions{OnError: func(_ context.Context, err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }})
	sm := bedrockkittest.NewScriptedModel(
		tierReply(bedrockkit.ServiceTierFlex, ""),    // asked flex, served flex
		tierReply(bedrockkit.ServiceTierDefault, ""), // asked flex, served default
		tierReply("", ""),                            // asked flex, nothing reported: the request's tier
		tierReply(bedrockkit.ServiceTierPriority, ""),
	)
	model := metered(m, novaPro, sm)
	ctx := context.Background()
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}, MaxTokens: 10, ServiceTier: bedrockkit.ServiceTierFlex}
	want := []Money{MustMoney("2.00"), MustMoney("4.00"), MustMoney("2.00")}
	for i, w := range want {
		before := m.Snapshot().Total().Cost.Total
		if _, err := model.Generate(ctx, req); err != nil {
			t.Fatal(err)
		}
		if got := m.Snapshot().Total().Cost.Total - before; got != w {
			t.Errorf("call %d cost %v, want %v", i+1, got, w)
		}
	}
	// Served priority: no published price, so the call is unpriced (its
	// tokens kept, the error reported), not priced at the standard rate.
	if _, err := model.Generate(ctx, &bedrockkit.Request{Messages: req.Messages, MaxTokens: 10}); err != nil {
		t.Fatal(err)
	}
	tot := m.Snapshot().Total()
	if tot.Unpriced != 1 || tot.Cost.Total != MustMoney("8.00") || tot.InputTokens != 4_000_000 {
		t.Errorf("after a priority-served call: %+v", tot)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 || !errors.Is(reported[0], ErrUnpriced) {
		t.Errorf("reported %v", reported)
	}
}

func TestBudgetReservesForTheTier(t *testing.T) {
	m := NewMeter(MeterOptions{})
	sm := bedrockkittest.NewScriptedModel(tierReply(bedrockkit.ServiceTierFlex, ""))
	model := metered(m, novaPro, sm)
	b := NewBudget(ScopeRun, "r", Dollar)
	ctx := WithBudget(context.Background(), b)
	// A priority call under a budget cannot be bounded: refused before the model.
	pri := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}, MaxTokens: 10, ServiceTier: bedrockkit.ServiceTierPriority}
	_, err := model.Generate(ctx, pri)
	if !errors.Is(err, ErrUnbounded) || !errors.Is(err, ErrUnpriced) || sm.Calls() != 0 {
		t.Fatalf("priority under a budget: %v (model calls %d)", err, sm.Calls())
	}
	// A flex request reserves at the standard rate (it may be served at
	// standard), then is charged the flex rate.
	flex := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}, MaxTokens: 10, ServiceTier: bedrockkit.ServiceTierFlex}
	std, _ := Default().Lookup(novaPro)
	cb, err := m.bound(ctx, std, novaPro, flex)
	if err != nil {
		t.Fatal(err)
	}
	if cb.inRate != uint64(std.Input.PerMillion()) || cb.outRate != uint64(std.Output.PerMillion()) {
		t.Errorf("flex reservation rates %d/%d, want the standard %v/%v", cb.inRate, cb.outRate, std.Input, std.Output)
	}
	big := NewBudget(ScopeRun, "big", 100*Dollar)
	if _, err := model.Generate(WithBudget(context.Background(), big), flex); err != nil {
		t.Fatal(err)
	}
	if s := big.State(); s.Spent != MustMoney("2.00") || s.Reserved != 0 {
		t.Errorf("budget after a flex call: %+v", s)
	}
}

// TestServiceTierThroughFakeBedrock sends a flex request through the real
// SDK client to FakeBedrock, which reports the tier that served it; the
// meter prices it at the flex rate, for Generate and for Stream.
func TestServiceTierThroughFakeBedrock(t *testing.T) {
	fake := bedrockkittest.NewFakeBedrock(t)
	conv, err := bedrockkit.NewConverseModel(fake.Client(), novaPro, bedrockkit.ConverseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMeter(MeterOptions{})
	model := metered(m, novaPro, conv)
	usage := bedrockkit.Usage{InputTokens: 500_000, OutputTokens: 250_000}
	fake.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText("flex answer"), Usage: usage})
	fake.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{Message: bedrockkit.AssistantText("flex stream"), Usage: usage})
	fake.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText("served standard"), Usage: usage, ServiceTier: bedrockkit.ServiceTierDefault})
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("summarise")}, MaxTokens: 100, ServiceTier: bedrockkit.ServiceTierFlex}
	ctx := context.Background()

	resp, err := model.Generate(WithSession(ctx, "gen"), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ServiceTier != bedrockkit.ServiceTierFlex {
		t.Fatalf("response tier %q", resp.ServiceTier)
	}
	if _, err := bedrockkit.Collect(model.Stream(WithSession(ctx, "stream"), req)); err != nil {
		t.Fatal(err)
	}
	if _, err := model.Generate(WithSession(ctx, "std"), req); err != nil {
		t.Fatal(err)
	}
	// Flex: 0.5M x $0.40 + 0.25M x $1.60 = $0.60; standard: 0.5M x $0.80 + 0.25M x $3.20 = $1.20.
	by := m.Snapshot().BySession()
	for s, want := range map[string]string{"gen": "0.60", "stream": "0.60", "std": "1.20"} {
		if got := by[s].Cost.Total; got != MustMoney(want) {
			t.Errorf("session %s cost %v, want $%s", s, got, want)
		}
	}
	// The request really carried the tier on the wire.
	if n := len(fake.Requests()); n != 3 {
		t.Fatalf("%d requests", n)
	}
	for _, r := range fake.Requests() {
		if !containsJSON(r.Body, `"serviceTier":{"type":"flex"}`) {
			t.Errorf("%s body lacks the tier: %s", r.Op, r.Body)
		}
	}
}

func containsJSON(body []byte, frag string) bool {
	return len(body) > 0 && bytesContains(body, []byte(frag))
}

func bytesContains(b, sub []byte) bool { return bytes.Contains(b, sub) }
