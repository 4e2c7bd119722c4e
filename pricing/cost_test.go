package pricing

import (
	"errors"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
)

// The product brief's worked example.
func TestCostClaude3Sonnet45Dollars(t *testing.T) {
	b, err := Cost("anthropic.claude-3-sonnet-20240229-v1:0", bedrockkit.Usage{InputTokens: 5_000_000, OutputTokens: 2_000_000})
	if err != nil {
		t.Fatal(err)
	}
	if b.Input != 15*Dollar || b.Output != 30*Dollar || b.Total != 45*Dollar {
		t.Fatalf("got input %v output %v total %v; want $15.00 $30.00 $45.00", b.Input, b.Output, b.Total)
	}
	if got := b.Total.String(); got != "$45.00" {
		t.Fatalf("String() = %q, want $45.00", got)
	}
	if b.PriceID != "anthropic.claude-3-sonnet-20240229-v1:0" || b.Fallback {
		t.Fatalf("priced by %q (fallback %v)", b.PriceID, b.Fallback)
	}
}

func TestCostTable(t *testing.T) {
	const (
		sonnet45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
		haiku3   = "anthropic.claude-3-haiku-20240307-v1:0"
		micro    = "amazon.nova-micro-v1:0"
		novaPro  = "amazon.nova-pro-v1:0"
		llama8   = "meta.llama3-1-8b-instruct-v1:0"
		sonnet3  = "anthropic.claude-3-sonnet-20240229-v1:0"
	)
	M := MustMoney
	tests := []struct {
		name  string
		model string
		u     bedrockkit.Usage
		terms Terms
		want  Breakdown
	}{
		{"global sonnet 4.5 cache read 0.1x", "global." + sonnet45, bedrockkit.Usage{CacheReadTokens: 1_000_000}, Terms{},
			Breakdown{CacheRead: M("0.30"), Total: M("0.30")}},
		{"global sonnet 4.5 cache write 5m 1.25x", "global." + sonnet45, bedrockkit.Usage{CacheWriteTokens: 1_000_000}, Terms{},
			Breakdown{CacheWrite: M("3.75"), Total: M("3.75")}},
		{"global sonnet 4.5 cache write 1h 2x", "global." + sonnet45, bedrockkit.Usage{CacheWriteTokens: 1_000_000}, Terms{CacheWriteTTL: bedrockkit.CacheTTL1h},
			Breakdown{CacheWrite: M("6.00"), Total: M("6.00")}},
		{"regional sonnet 4.5 is +10%", "us." + sonnet45, bedrockkit.Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000, CacheReadTokens: 1_000_000, CacheWriteTokens: 1_000_000}, Terms{},
			Breakdown{Input: M("3.30"), Output: M("16.50"), CacheRead: M("0.33"), CacheWrite: M("4.125"), Total: M("24.255")}},
		{"all four classes", "global." + sonnet45, bedrockkit.Usage{InputTokens: 2000, OutputTokens: 500, CacheReadTokens: 10000, CacheWriteTokens: 3000}, Terms{},
			Breakdown{Input: M("0.006"), Output: M("0.0075"), CacheRead: M("0.003"), CacheWrite: M("0.01125"), Total: M("0.02775")}},
		{"single token nova micro is exact", micro, bedrockkit.Usage{InputTokens: 1, OutputTokens: 1}, Terms{},
			Breakdown{Input: M("0.000000035"), Output: M("0.00000014"), Total: M("0.000000175")}},
		{"nova pro cached input $0.20/1M", novaPro, bedrockkit.Usage{CacheReadTokens: 1_000_000, CacheWriteTokens: 1_000_000}, Terms{},
			Breakdown{CacheRead: M("0.20"), CacheWrite: M("0.80"), Total: M("1.00")}},
		{"haiku 3 single token is exact", haiku3, bedrockkit.Usage{InputTokens: 1}, Terms{},
			Breakdown{Input: M("0.00000025"), Total: M("0.00000025")}},
		{"batch sonnet 4.5 is half", "global." + sonnet45, bedrockkit.Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000}, Terms{Batch: true},
			Breakdown{Input: M("1.50"), Output: M("7.50"), Total: M("9.00")}},
		{"batch keeps cache rates", "global." + sonnet45, bedrockkit.Usage{InputTokens: 1_000_000, CacheReadTokens: 1_000_000}, Terms{Batch: true},
			Breakdown{Input: M("1.50"), CacheRead: M("0.30"), Total: M("1.80")}},
		{"batch llama 3.1 8B quoted", llama8, bedrockkit.Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000}, Terms{Batch: true},
			Breakdown{Input: M("0.11"), Output: M("0.11"), Total: M("0.22")}},
		{"batch per-1K row", sonnet3, bedrockkit.Usage{InputTokens: 5_000_000, OutputTokens: 2_000_000}, Terms{Batch: true},
			Breakdown{Input: M("7.50"), Output: M("15.00"), Total: M("22.50")}},
		{"embedding tokens", "amazon.titan-embed-text-v2:0", bedrockkit.Usage{InputTokens: 1_000_000}, Terms{},
			Breakdown{Input: M("0.02"), Total: M("0.02")}},
		{"zero usage is zero", haiku3, bedrockkit.Usage{}, Terms{}, Breakdown{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Default().CostWith(tc.model, tc.u, tc.terms)
			if err != nil {
				t.Fatal(err)
			}
			if b.Breakdown != tc.want {
				t.Fatalf("got %+v\nwant %+v", b.Breakdown, tc.want)
			}
			if sum := b.Input + b.Output + b.CacheRead + b.CacheWrite; sum != b.Total {
				t.Fatalf("lines sum to %v, total %v", sum, b.Total)
			}
		})
	}
}

func TestRoundingHalfUp(t *testing.T) {
	// Claude 3.5 Haiku has no odd rates; build one: $0.3125/1M = 312.5 n$/token.
	r := Row{IDs: []string{"x"}, Kind: KindText, Unit: UnitPer1MTokens, Input: MustRate("0.3125", UnitPer1MTokens)}
	for _, tc := range []struct {
		n    int
		want Money
	}{{1, 313}, {2, 625}, {3, 938}, {1_000_000, MustMoney("0.3125")}} {
		b, err := r.Cost(bedrockkit.Usage{InputTokens: tc.n}, Terms{})
		if err != nil {
			t.Fatal(err)
		}
		if b.Total != tc.want {
			t.Errorf("%d tokens: %d n$, want %d", tc.n, b.Total, tc.want)
		}
	}
}

func TestCostErrors(t *testing.T) {
	_, err := Cost("acme.unknown-model-v1:0", bedrockkit.Usage{InputTokens: 1})
	if !errors.Is(err, ErrUnknownModel) {
		t.Fatalf("unknown model: %v", err)
	}
	var ue *UnknownModelError
	if !errors.As(err, &ue) || ue.Resolved != "acme.unknown-model-v1:0" {
		t.Fatalf("want *UnknownModelError, got %#v", err)
	}
	// Claude 3 Haiku has no cache price in the table: an error, never zero.
	_, err = Cost("anthropic.claude-3-haiku-20240307-v1:0", bedrockkit.Usage{CacheReadTokens: 10})
	if !errors.Is(err, ErrUnpriced) {
		t.Fatalf("unpriced cache read: %v", err)
	}
	// No 1h cache write before Claude 4.5.
	_, err = Default().CostWith("anthropic.claude-3-7-sonnet-20250219-v1:0", bedrockkit.Usage{CacheWriteTokens: 10}, Terms{CacheWriteTTL: bedrockkit.CacheTTL1h})
	if !errors.Is(err, ErrUnpriced) {
		t.Fatalf("unpriced 1h write: %v", err)
	}
	// No batch price for Mistral.
	_, err = Default().CostWith("mistral.mistral-large-2402-v1:0", bedrockkit.Usage{InputTokens: 10}, Terms{Batch: true})
	if !errors.Is(err, ErrUnpriced) {
		t.Fatalf("unpriced batch: %v", err)
	}
	// Embeddings have no output price.
	_, err = Cost("amazon.titan-embed-text-v2:0", bedrockkit.Usage{OutputTokens: 1})
	if !errors.Is(err, ErrUnpriced) {
		t.Fatalf("embedding output: %v", err)
	}
	_, err = Cost("amazon.nova-micro-v1:0", bedrockkit.Usage{InputTokens: -1})
	if !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("negative tokens: %v", err)
	}
}

func TestFallback(t *testing.T) {
	c, err := Default().WithFallback(Row{Kind: KindText, Unit: UnitPer1MTokens, Input: MustRate("1", UnitPer1MTokens), Output: MustRate("2", UnitPer1MTokens)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Cost("acme.unknown", bedrockkit.Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Fallback || b.Total != 3*Dollar {
		t.Fatalf("fallback bill %+v", b)
	}
	// Known models are still priced by their row.
	b, err = c.Cost("amazon.nova-micro-v1:0", bedrockkit.Usage{InputTokens: 1_000_000})
	if err != nil || b.Fallback || b.Total != MustMoney("0.035") {
		t.Fatalf("known model with fallback catalog: %+v %v", b, err)
	}
}

func TestGuardrailCost(t *testing.T) {
	units := TextUnits(string(make([]byte, 2500))) // 2,500 characters: 3 units
	if units != 3 {
		t.Fatalf("TextUnits = %d, want 3", units)
	}
	b, err := Default().GuardrailCost(1000, PolicyContentFilter, PolicySensitiveInfo, PolicyWordFilter)
	if err != nil {
		t.Fatal(err)
	}
	// 1,000 units: $0.15 + $0.10 + $0.
	if b.Total != MustMoney("0.25") {
		t.Fatalf("guardrail cost %v, want $0.25", b.Total)
	}
	if TextUnits("") != 0 || TextUnits("é") != 1 || TextUnits(string(make([]rune, 1000))) != 1 {
		t.Fatal("TextUnits edge cases")
	}
}

// Bedrock offers prompt caching only for Claude and Nova (contract 1.3 and
// 5): cache tokens on a Llama or Mistral row are a misattributed usage, said
// so plainly, not a missing price.
func TestNoPromptCaching(t *testing.T) {
	for _, id := range []string{"meta.llama3-1-8b-instruct-v1:0", "us.meta.llama3-1-70b-instruct-v1:0", "mistral.mistral-7b-instruct-v0:2"} {
		for _, u := range []bedrockkit.Usage{{InputTokens: 100, CacheReadTokens: 50}, {InputTokens: 100, CacheWriteTokens: 50}} {
			_, err := Cost(id, u)
			if !errors.Is(err, ErrNoPromptCaching) || !errors.Is(err, bedrockkit.ErrUnsupported) || errors.Is(err, ErrUnpriced) {
				t.Errorf("%s %+v: err = %v, want ErrNoPromptCaching (not ErrUnpriced)", id, u, err)
			} else if !strings.Contains(err.Error(), "no prompt caching") {
				t.Errorf("%s: message %q does not say why", id, err)
			}
		}
		if b, err := Cost(id, bedrockkit.Usage{InputTokens: 1000, OutputTokens: 1000}); err != nil || b.Total <= 0 {
			t.Errorf("%s without cache tokens: %v, %v", id, b, err)
		}
	}
	// Models Bedrock does cache for are unaffected.
	if _, err := Cost("anthropic.claude-3-7-sonnet-20250219-v1:0", bedrockkit.Usage{CacheReadTokens: 10}); err != nil {
		t.Errorf("Claude cache read: %v", err)
	}

	// The flag survives a round trip, and contradicts cache rates.
	raw, err := Default().MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Lookup("meta.llama3-8b-instruct-v1:0")
	if err != nil || !p.NoPromptCaching {
		t.Fatalf("round trip lost no_prompt_caching: %+v, %v", p, err)
	}
	bad := strings.Replace(strings.ReplaceAll(string(raw), `"no_prompt_caching": true`, `"no_prompt_caching":true`),
		`"no_prompt_caching":true`, `"no_prompt_caching":true,"cache_read":"0.01"`, 1)
	if bad == string(raw) {
		t.Fatal("no row with no_prompt_caching in the marshalled table")
	}
	if _, err := Parse([]byte(bad)); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("row with no_prompt_caching and a cache rate: %v, want ErrInvalidInput", err)
	}

	// A caller whose account is billed for caching overrides the row.
	row := p.Row
	row.NoPromptCaching = false
	row.CacheRead, _ = ParseRate("0.02", UnitPer1MTokens)
	c, err = Default().Override(row)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Cost("meta.llama3-8b-instruct-v1:0", bedrockkit.Usage{CacheReadTokens: 10}); err != nil {
		t.Errorf("overridden row: %v", err)
	}
}
