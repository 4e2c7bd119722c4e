package pricing

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

const ptARN = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123xyz"

func TestProvisionedHourly(t *testing.T) {
	c := Default()
	h, row, err := c.ProvisionedHourly("anthropic.claude-instant-v1", CommitMonth)
	if err != nil || h != MustMoney("39.60") || row.Source == "" {
		t.Fatalf("Claude Instant 1-month: %v %+v %v", h, row, err)
	}
	if h, _, err := c.ProvisionedHourly("amazon.titan-text-express-v1", CommitNone); err != nil || h != MustMoney("20.50") {
		t.Errorf("Titan Text Express no-commit: %v %v", h, err)
	}
	// Not published: base Claude without commitment, and current models.
	for _, tc := range []struct {
		id string
		c  Commitment
	}{{"anthropic.claude-instant-v1", CommitNone}, {"us.amazon.nova-lite-v1:0", CommitMonth}} {
		_, _, err := c.ProvisionedHourly(tc.id, tc.c)
		var ue *UnpublishedError
		if !errors.As(err, &ue) || !errors.Is(err, ErrUnpublished) || !errors.Is(err, ErrUnpriced) {
			t.Errorf("%s %s: %v", tc.id, tc.c, err)
		}
	}
}

func TestProvisionedARNsArePricedAsProvisioned(t *testing.T) {
	c := Default()
	// An ARN the catalog was not told about: never priced per token, nor by a fallback.
	fb, _ := c.WithFallback(Row{Kind: KindText, Unit: UnitPer1MTokens, Input: MustRate("1", UnitPer1MTokens), Output: MustRate("1", UnitPer1MTokens)})
	_, err := fb.Cost(ptARN, bedrockkit.Usage{InputTokens: 10})
	var ue *UnknownModelError
	if !errors.As(err, &ue) || !ue.Provisioned || !strings.Contains(err.Error(), "WithProvisionedModel") {
		t.Fatalf("unknown provisioned ARN: %v", err)
	}
	if _, err := c.WithProvisionedModel(ProvisionedModel{ARN: "anthropic.claude-instant-v1", BaseModel: "anthropic.claude-instant-v1", ModelUnits: 1, Commitment: CommitMonth}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("not an ARN: %v", err)
	}
	if _, err := c.WithProvisionedModel(ProvisionedModel{ARN: ptARN, BaseModel: "amazon.nova-lite-v1:0", ModelUnits: 1, Commitment: CommitMonth}); !errors.Is(err, ErrUnpublished) {
		t.Errorf("no published price and no quote: %v", err)
	}
	pc, err := c.WithProvisionedModel(ProvisionedModel{ARN: ptARN, BaseModel: "anthropic.claude-instant-v1", ModelUnits: 2, Commitment: CommitSixMonths})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Cost(ptARN, bedrockkit.Usage{InputTokens: 1}); err == nil {
		t.Error("WithProvisionedModel changed the original catalog")
	}
	m := NewMeter(MeterOptions{Catalog: pc})
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("ok"),
		Usage: bedrockkit.Usage{InputTokens: 1000, OutputTokens: 2000}}})
	// A budget of one nano-dollar admits it: the call costs nothing more.
	b := NewBudget(ScopeRun, "r", NanoDollar)
	_, err = metered(m, ptARN, sm).Generate(WithBudget(context.Background(), b),
		&bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}, MaxTokens: 100})
	if err != nil {
		t.Fatal(err)
	}
	e := m.Snapshot().Total()
	if e.Calls != 1 || e.InputTokens != 1000 || e.OutputTokens != 2000 || e.Cost.Total != 0 || e.Unpriced != 0 {
		t.Errorf("provisioned call metered as %+v", e)
	}
	bill, err := pc.Cost(ptARN, bedrockkit.Usage{InputTokens: 5, OutputTokens: 5})
	if err != nil || !bill.Committed || bill.Total != 0 {
		t.Errorf("bill %+v %v", bill, err)
	}
	// Its capacity: 2 units x $22.00 x 730 h.
	cost, err := pc.ProvisionedCost(ptARN, HoursPerMonth)
	if err != nil || cost != MustMoney("32120") {
		t.Errorf("ProvisionedCost = %v %v, want $32,120", cost, err)
	}
	// Your own quote replaces the published price.
	q, err := c.WithProvisionedModel(ProvisionedModel{ARN: ptARN, BaseModel: "amazon.nova-lite-v1:0", ModelUnits: 1, Commitment: CommitMonth, HourlyPerUnit: MustMoney("10")})
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := q.ProvisionedCost(ptARN, 10); err != nil || cost != MustMoney("100") {
		t.Errorf("quoted cost %v %v", cost, err)
	}
}

func TestPlanCapacity(t *testing.T) {
	c := Default()
	// 100M input + 20M output tokens a day on Claude Instant: $80 + $48 a
	// day on demand, $3,894.67 a month (730 h); one model unit costs
	// $28,908 (1 month) or $16,060 (6 months) a month.
	w := Workload{ModelID: "anthropic.claude-instant-v1", Usage: bedrockkit.Usage{InputTokens: 100_000_000, OutputTokens: 20_000_000}, Period: 24 * time.Hour}
	p, err := c.PlanCapacity(w, CapacityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Monthly.InputTokens != 3_041_666_666 || p.Monthly.OutputTokens != 608_333_333 {
		t.Errorf("monthly usage %+v", p.Monthly)
	}
	// 3,041,666,666 x $0.80/M + 608,333,333 x $2.40/M, each line rounded once.
	if !p.OnDemand.Known || p.OnDemand.Cost != MustMoney("3893.3333320") {
		t.Errorf("on-demand %+v", p.OnDemand)
	}
	if p.Batch.Known || !strings.Contains(p.Batch.Reason, "no batch price") {
		t.Errorf("batch %+v", p.Batch)
	}
	if len(p.Provisioned) != 3 {
		t.Fatalf("%d provisioned quotes", len(p.Provisioned))
	}
	none, month, six := p.Provisioned[0], p.Provisioned[1], p.Provisioned[2]
	if none.Known || !strings.Contains(none.Reason, "no published none-commitment") {
		t.Errorf("no commitment: %+v", none)
	}
	if !month.Known || month.Cost != MustMoney("28908") || month.Savings != p.OnDemand.Cost-month.Cost || month.Savings >= 0 {
		t.Errorf("1 month: %+v", month)
	}
	if !six.Known || six.Cost != MustMoney("16060") || six.BreakEven != six.Cost {
		t.Errorf("6 months: %+v", six)
	}
	if name, cost, ok := p.Best(); !ok || name != "on-demand" || cost != p.OnDemand.Cost {
		t.Errorf("best %s %v %v", name, cost, ok)
	}
	// Ten times the volume: the 6-month term wins, and by how much.
	w.Usage = bedrockkit.Usage{InputTokens: 1_000_000_000, OutputTokens: 200_000_000}
	p, err = c.PlanCapacity(w, CapacityOptions{TokensPerMinutePerUnit: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	six = p.Provisioned[2]
	if six.Savings <= 0 || six.Savings != p.OnDemand.Cost-six.Cost {
		t.Errorf("at 10x: on-demand %v, 6 months %v, savings %v", p.OnDemand.Cost, six.Cost, six.Savings)
	}
	if name, _, _ := p.Best(); name != "provisioned 6m" {
		t.Errorf("best at 10x: %s", name)
	}
	// 1.2B tokens a day is 833,333 a minute: one unit of 100,000 does not carry it.
	if p.TokensPerMinute != 833_333 || six.Carries != "no" {
		t.Errorf("rate %d, carries %q", p.TokensPerMinute, six.Carries)
	}
	// The bank assistant's model: no published provisioned price.
	p, err = c.PlanCapacity(Workload{ModelID: "us.amazon.nova-lite-v1:0", Usage: bedrockkit.Usage{InputTokens: 1000, OutputTokens: 100}, Period: time.Hour}, CapacityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.OnDemand.Known || !p.Batch.Known || p.Batch.Cost*2 != p.OnDemand.Cost {
		t.Errorf("nova lite on-demand %+v batch %+v", p.OnDemand, p.Batch)
	}
	for _, pq := range p.Provisioned {
		if pq.Known || pq.Reason == "" {
			t.Errorf("nova lite %s: %+v", pq.Commitment, pq)
		}
	}
	// A custom model's base: only provisioned prices.
	p, err = c.PlanCapacity(Workload{ModelID: "amazon.titan-text-express-v1", Usage: bedrockkit.Usage{InputTokens: 1}, Period: time.Hour}, CapacityOptions{ModelUnits: 2})
	if err != nil || p.OnDemand.Known || !p.Provisioned[0].Known || p.Provisioned[0].Cost != MustMoney("29930") {
		t.Errorf("titan express: %+v %v", p, err)
	}
	// Nothing known at all, or nonsense: errors.
	if _, err := c.PlanCapacity(Workload{ModelID: "example.none-v1:0", Period: time.Hour}, CapacityOptions{}); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("unknown model: %v", err)
	}
	if _, err := c.PlanCapacity(Workload{ModelID: "anthropic.claude-instant-v1"}, CapacityOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("no period: %v", err)
	}
	if _, err := c.PlanCapacity(Workload{ModelID: "anthropic.claude-instant-v1", Period: time.Nanosecond, Usage: bedrockkit.Usage{InputTokens: 1 << 62}}, CapacityOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("overflow: %v", err)
	}
}

func TestSnapshotWorkload(t *testing.T) {
	m := NewMeter(MeterOptions{})
	step := func() bedrockkittest.Step {
		return bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("ok"), Usage: bedrockkit.Usage{InputTokens: 10, OutputTokens: 5}}}
	}
	sm := bedrockkittest.NewScriptedModel(step(), step(), step())
	model := metered(m, "us.amazon.nova-lite-v1:0", sm)
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}, MaxTokens: 10}
	for _, tenant := range []string{"a", "b", "a"} {
		if _, err := model.Generate(WithTenant(context.Background(), tenant), req); err != nil {
			t.Fatal(err)
		}
	}
	w := m.Snapshot().Workload("us.amazon.nova-lite-v1:0", time.Minute)
	if w.Calls != 3 || w.Usage.InputTokens != 30 || w.Usage.OutputTokens != 15 || w.Period != time.Minute {
		t.Errorf("workload %+v", w)
	}
	if w := m.Snapshot().Workload("other", time.Minute); w.Calls != 0 {
		t.Errorf("other model: %+v", w)
	}
}

func TestServicesAndSessionCost(t *testing.T) {
	c := Default()
	// One vCPU-hour and two GB-hours: $0.0895 + $0.0189.
	got, err := c.RuntimeCost(RuntimeUsage{CPU: time.Hour, MemoryGBSeconds: 7200})
	if err != nil || got != MustMoney("0.1084") {
		t.Errorf("RuntimeCost = %v %v", got, err)
	}
	// Per second, one-second minimum: 1 ms of CPU is billed as a second.
	sec, _ := c.RuntimeCost(RuntimeUsage{CPU: time.Second})
	if ms, _ := c.RuntimeCost(RuntimeUsage{CPU: time.Millisecond}); ms != sec || sec == 0 {
		t.Errorf("1 ms %v, 1 s %v", ms, sec)
	}
	if _, err := c.RuntimeCost(RuntimeUsage{CPU: -1}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("negative: %v", err)
	}
	// OpenSearch Serverless: 2 OCUs x 730 h x $0.24 = $350.40, plus 1 GiB at $0.024.
	est, err := c.KnowledgeBaseMonthly(BackendOpenSearchServerless, KnowledgeBaseSize{StoreBytes: 1 << 30}, KnowledgeBaseOptions{})
	if err != nil || !est.Known || est.Compute != MustMoney("350.40") || est.Storage != MustMoney("0.024") || est.Total != MustMoney("350.424") {
		t.Errorf("opensearch %+v %v", est, err)
	}
	half, _ := c.KnowledgeBaseMonthly(BackendOpenSearchServerless, KnowledgeBaseSize{}, KnowledgeBaseOptions{OCUs: 0.5})
	if half.Compute != MustMoney("87.60") {
		t.Errorf("half OCU: %v", half.Compute)
	}
	if s := (KnowledgeBaseSize{Chunks: 1000, Dimensions: 1024, TextBytes: 500}); s.Bytes() != 1000*1024*4+500 {
		t.Errorf("estimated bytes %d", s.Bytes())
	}
	for _, b := range []VectorBackend{BackendLocalIndex, BackendChromem, BackendPgvector, "s3-vectors"} {
		est, err := c.KnowledgeBaseMonthly(b, KnowledgeBaseSize{Chunks: 10}, KnowledgeBaseOptions{})
		if err != nil || est.Known || est.Reason == "" {
			t.Errorf("%s: %+v %v", b, est, err)
		}
	}
	if _, err := c.KnowledgeBaseMonthly(BackendOpenSearchServerless, KnowledgeBaseSize{Chunks: -1}, KnowledgeBaseOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("negative size: %v", err)
	}
	// Embedding a sync's tokens: 2M Titan V2 tokens at $0.02/M.
	if b, err := c.EmbeddingCost("amazon.titan-embed-text-v2:0", 2_000_000); err != nil || b.Total != MustMoney("0.04") {
		t.Errorf("embedding cost %v %v", b.Total, err)
	}

	// A session: two model calls, 2,000 gateway requests, a minute of CPU.
	m := NewMeter(MeterOptions{})
	step := func() bedrockkittest.Step {
		return bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("ok"), Usage: bedrockkit.Usage{InputTokens: 1_000_000, OutputTokens: 100_000}}}
	}
	model := metered(m, "us.amazon.nova-lite-v1:0", bedrockkittest.NewScriptedModel(step(), step(), step()))
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}, MaxTokens: 10}
	for _, s := range []string{"s1", "s1", "s2"} {
		if _, err := model.Generate(WithSession(context.Background(), s), req); err != nil {
			t.Fatal(err)
		}
	}
	sc, err := m.SessionCost("s1", SessionExtras{GatewayRequests: 2000, Runtime: RuntimeUsage{CPU: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	// Model: 2 x ($0.06 + $0.024); tools: 2 x $0.005; runtime: 60 s of $0.0895/h.
	if sc.Calls != 2 || sc.Model.Total != MustMoney("0.168") || sc.Tools != MustMoney("0.01") || sc.Runtime != MustMoney("0.001491667") {
		t.Errorf("session cost %+v", sc)
	}
	if sc.Total != sc.Model.Total+sc.Tools+sc.Runtime {
		t.Errorf("total %v", sc.Total)
	}
	bare, err := m.SessionCost("s2", SessionExtras{})
	if err != nil || bare.Total != MustMoney("0.084") || bare.Runtime != 0 {
		t.Errorf("bare session %+v %v", bare, err)
	}
}
