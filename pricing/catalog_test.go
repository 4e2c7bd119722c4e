package pricing

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
)

func TestDefaultCatalogIsValid(t *testing.T) {
	c := Default()
	if c.Version() != SchemaVersion || c.AsOf() == "" {
		t.Fatalf("version %d as of %q", c.Version(), c.AsOf())
	}
	seen := map[string]bool{}
	for _, r := range c.Rows() {
		if r.Source == "" {
			t.Errorf("%s: no source", r.ID())
		}
		if r.Kind == KindText && !r.Output.IsSet() {
			t.Errorf("%s: text model without output price", r.ID())
		}
		if r.Unverified && r.Note == "" {
			t.Errorf("%s: unverified without a note saying why", r.ID())
		}
		key := r.ID() + map[bool]string{true: "/global", false: "/regional"}[r.Global] + "/" + r.Variant().String()
		if seen[key] {
			t.Errorf("duplicate row %s", key)
		}
		seen[key] = true
	}
	// Models the issue asks for.
	for _, id := range []string{
		"anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0",
		"anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-3-5-sonnet-20241022-v2:0",
		"anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic.claude-sonnet-4-20250514-v1:0",
		"anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-opus-4-1-20250805-v1:0",
		"anthropic.claude-opus-4-5-20251101-v1:0", "meta.llama3-1-70b-instruct-v1:0",
		"mistral.mistral-large-2402-v1:0", "amazon.nova-micro-v1:0", "amazon.nova-lite-v1:0",
		"amazon.nova-pro-v1:0", "amazon.titan-embed-text-v2:0", "cohere.embed-english-v3",
		string(PolicyContentFilter), string(PolicyDeniedTopics), string(PolicySensitiveInfo), string(PolicyContextualGrounding),
	} {
		if _, err := c.Lookup(id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	// Claude cache rules hold wherever the table prices caching for Claude.
	for _, r := range c.Rows() {
		if !strings.HasPrefix(r.ID(), "anthropic.") || !r.CacheRead.IsSet() {
			continue
		}
		in := r.Input.PerMillion()
		if r.CacheRead.PerMillion()*10 != in || r.CacheWrite5m.PerMillion()*4 != in*5 {
			t.Errorf("%s: cache read %v write %v for input %v; want 0.10x and 1.25x", r.ID(), r.CacheRead, r.CacheWrite5m, r.Input)
		}
		if r.CacheWrite1h.IsSet() && r.CacheWrite1h.PerMillion() != 2*in {
			t.Errorf("%s: 1h write %v, want 2x input", r.ID(), r.CacheWrite1h)
		}
	}
}

func TestLookupResolvesProfilesAndARNs(t *testing.T) {
	c := Default()
	tests := []struct {
		id     string
		want   string // canonical row ID
		global bool
	}{
		{"anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0", false},
		{"us.anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0", false},
		{"eu.anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic.claude-3-7-sonnet-20250219-v1:0", false},
		{"apac.amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0", false},
		{"global.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0", true},
		{"us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0", false},
		{"global.anthropic.claude-sonnet-4-6", "anthropic.claude-sonnet-4-5-20250929-v1:0", true},
		{"  US.Anthropic.Claude-3-Haiku-20240307-v1:0 ", "anthropic.claude-3-haiku-20240307-v1:0", false},
		{"anthropic.claude-3-haiku-20240307-v1:0:200k", "anthropic.claude-3-haiku-20240307-v1:0", false},
		{"anthropic.claude-3-haiku-20240307-v1", "anthropic.claude-3-haiku-20240307-v1:0", false},
		{"arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0", "amazon.nova-micro-v1:0", false},
		{"arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-haiku-4-5-20251001-v1:0", false},
		{"arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-opus-4-5-20251101-v1:0", "anthropic.claude-opus-4-5-20251101-v1:0", true},
		// No global row for Claude 3.7: the regional price is used.
		{"global.anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic.claude-3-7-sonnet-20250219-v1:0", false},
	}
	for _, tc := range tests {
		p, err := c.Lookup(tc.id)
		if err != nil {
			t.Errorf("%q: %v", tc.id, err)
			continue
		}
		if p.ID() != tc.want || p.Global != tc.global {
			t.Errorf("%q: row %s global=%v, want %s global=%v", tc.id, p.ID(), p.Global, tc.want, tc.global)
		}
	}
	for _, id := range []string{
		"", "anthropic", "us.", "acme.model", "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
		"arn:aws:bedrock:us-east-1::foundation-model/", "anthropic.claude-3", // a prefix of a real ID is not a match
		// Custom models are billed through Provisioned Throughput, not at base rates.
		"arn:aws:bedrock:us-east-1:123456789012:custom-model/anthropic.claude-3-haiku-20240307-v1:0/abc",
	} {
		if _, err := c.Lookup(id); !errors.Is(err, ErrUnknownModel) {
			t.Errorf("%q: want ErrUnknownModel, got %v", id, err)
		}
	}
}

func TestOverrideNegotiatedPriceAndApplicationProfile(t *testing.T) {
	const arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
	base := Default()
	c, err := base.Override(
		Row{IDs: []string{"anthropic.claude-3-haiku-20240307-v1:0"}, Name: "negotiated", Kind: KindText, Unit: UnitPer1MTokens,
			Input: MustRate("0.20", UnitPer1MTokens), Output: MustRate("1.00", UnitPer1MTokens), Source: "our contract"},
		Row{IDs: []string{arn}, Kind: KindText, Unit: UnitPer1MTokens,
			Input: MustRate("0.80", UnitPer1MTokens), Output: MustRate("4", UnitPer1MTokens), Source: "maps to Claude 3.5 Haiku"},
	)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Cost("us.anthropic.claude-3-haiku-20240307-v1:0", bedrockkit.Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000})
	if err != nil || b.Total != MustMoney("1.20") {
		t.Fatalf("negotiated: %v %v", b.Total, err)
	}
	b, err = c.Cost(arn, bedrockkit.Usage{InputTokens: 1_000_000})
	if err != nil || b.Total != MustMoney("0.80") {
		t.Fatalf("application profile: %v %v", b.Total, err)
	}
	// The original catalog is unchanged.
	b, _ = base.Cost("anthropic.claude-3-haiku-20240307-v1:0", bedrockkit.Usage{InputTokens: 1_000_000})
	if b.Total != MustMoney("0.25") {
		t.Fatalf("Override changed its receiver: %v", b.Total)
	}
	if len(c.Rows()) != len(base.Rows())+1 {
		t.Fatalf("rows %d, want %d (one replaced, one added)", len(c.Rows()), len(base.Rows())+1)
	}
	if _, err := base.Override(Row{IDs: []string{"x"}, Kind: KindText, Unit: "per token", Input: Free}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("bad unit: %v", err)
	}
}

func TestRegionScopedRows(t *testing.T) {
	c, err := Default().Override(Row{IDs: []string{"amazon.nova-micro-v1:0"}, Kind: KindText, Unit: UnitPer1MTokens,
		Input: MustRate("0.05", UnitPer1MTokens), Output: MustRate("0.20", UnitPer1MTokens), Regions: []string{"ap-south-1"}, Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.LookupRegion("amazon.nova-micro-v1:0", "ap-south-1")
	if p.Input != MustRate("0.05", UnitPer1MTokens) {
		t.Fatalf("ap-south-1 row not chosen: %v", p.Input)
	}
	p, _ = c.Lookup("arn:aws:bedrock:ap-south-1::foundation-model/amazon.nova-micro-v1:0")
	if p.Input != MustRate("0.05", UnitPer1MTokens) {
		t.Fatalf("ARN region not used: %v", p.Input)
	}
	p, _ = c.LookupRegion("amazon.nova-micro-v1:0", "us-east-1")
	if p.Input != MustRate("0.035", UnitPer1MTokens) {
		t.Fatalf("any-region row not chosen: %v", p.Input)
	}
}

func TestCatalogJSONRoundTrip(t *testing.T) {
	data, err := json.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	a, b := Default().Rows(), c.Rows()
	if len(a) != len(b) {
		t.Fatalf("%d rows, want %d", len(b), len(a))
	}
	for i := range a {
		ja, _ := json.Marshal(rowToJSON(a[i]))
		jb, _ := json.Marshal(rowToJSON(b[i]))
		if !bytes.Equal(ja, jb) {
			t.Fatalf("row %d differs:\n%s\n%s", i, ja, jb)
		}
	}
	// The per-1K row keeps its unit and quote.
	if !bytes.Contains(data, []byte(`"input":"0.003"`)) {
		t.Fatal("Claude 3 Sonnet per-1K quote lost")
	}
}

func TestParseRejects(t *testing.T) {
	row := `{"ids":["m"],"kind":"text","unit":"1M tokens","input":"1","scope":"regional","source":"s","as_of":""}`
	for name, doc := range map[string]string{
		"version":      `{"schema_version":2,"as_of":"2026-01-01","currency":"USD","models":[]}`,
		"date":         `{"schema_version":1,"as_of":"soon","currency":"USD","models":[]}`,
		"currency":     `{"schema_version":1,"as_of":"2026-01-01","currency":"EUR","models":[]}`,
		"unknownField": `{"schema_version":1,"as_of":"2026-01-01","currency":"USD","models":[],"x":1}`,
		"precision":    `{"schema_version":1,"as_of":"2026-01-01","currency":"USD","models":[` + strings.Replace(row, `"input":"1"`, `"input":"0.0000000001"`, 1) + `]}`,
		"noSource":     `{"schema_version":1,"as_of":"2026-01-01","currency":"USD","models":[` + strings.Replace(row, `"source":"s"`, `"source":""`, 1) + `]}`,
		"scope":        `{"schema_version":1,"as_of":"2026-01-01","currency":"USD","models":[` + strings.Replace(row, `"regional"`, `"planet"`, 1) + `]}`,
		"noInput":      `{"schema_version":1,"as_of":"2026-01-01","currency":"USD","models":[` + strings.Replace(row, `"input":"1",`, ``, 1) + `]}`,
		"negative":     `{"schema_version":1,"as_of":"2026-01-01","currency":"USD","models":[` + strings.Replace(row, `"input":"1"`, `"input":"-1"`, 1) + `]}`,
		"derived":      `{"schema_version":1,"as_of":"2026-01-01","currency":"USD","models":[` + strings.Replace(row, `"as_of":""`, `"as_of":"","derived":["price"]`, 1) + `]}`,
	} {
		if _, err := Parse([]byte(doc)); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%s: want ErrInvalidInput, got %v", name, err)
		}
	}
	ok := `{"schema_version":1,"as_of":"2026-01-01","currency":"USD","models":[` + row + `]}`
	if _, err := Parse([]byte(ok)); err != nil {
		t.Fatalf("valid table: %v", err)
	}
}
