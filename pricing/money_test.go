package pricing

import (
	"errors"
	"testing"

	"github.com/bedrockkit/bedrockkit"
)

func TestMoneyString(t *testing.T) {
	for m, want := range map[Money]string{
		0: "$0.00", 45 * Dollar: "$45.00", 35: "$0.000000035", Cent: "$0.01", -Dollar / 2: "-$0.50",
		MustMoney("1234.5"): "$1234.50", MicroCent: "$0.00000001", -1 << 63: "-$9223372036.854775808",
	} {
		if got := m.String(); got != want {
			t.Errorf("%d: %q, want %q", int64(m), got, want)
		}
	}
}

func TestParseMoney(t *testing.T) {
	for s, want := range map[string]Money{"45": 45 * Dollar, "$45.00": 45 * Dollar, "0.000000035": 35, "-$0.5": -Dollar / 2, ".5": Dollar / 2, "1.100000000000": MustMoney("1.1")} {
		got, err := ParseMoney(s)
		if err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "$", ".", "1.2.3", "abc", "1e3", "0.0000000001", "99999999999", "--1", "+1"} {
		if _, err := ParseMoney(s); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%q: want ErrInvalidInput, got %v", s, err)
		}
	}
}

func TestRate(t *testing.T) {
	if r := MustRate("0.003", UnitPer1KTokens); r.PerMillion() != 3*Dollar || r.String() != "$3.00/1M" {
		t.Fatalf("per 1K: %v", r)
	}
	if r := MustRate("0.15", UnitPer1KTextUnits); r.PerMillion() != 150*Dollar {
		t.Fatalf("per 1K text units: %v", r)
	}
	if (Rate{}).IsSet() || !Free.IsSet() || (Rate{}).String() != "unpriced" {
		t.Fatal("unset / free rates")
	}
	if PerMillion(-1).IsSet() {
		t.Fatal("negative rate accepted")
	}
	if _, err := ParseRate("0.000000000001", UnitPer1MTokens); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("too precise: %v", err)
	}
	if _, err := ParseRate("0.000000000001", UnitPer1KTokens); err != nil {
		t.Fatalf("1e-12 per 1K is a nano-dollar per 1M: %v", err)
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"45", "$45.00", "-$0.5", "0.000000035", "", ".", "1e3", "9223372036.854775807", "9223372036.854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			return
		}
		back, err := ParseMoney(m.String())
		if err != nil || back != m {
			t.Fatalf("%q -> %v -> %v %v", s, m, back, err)
		}
		txt, _ := m.MarshalText()
		var u Money
		if err := u.UnmarshalText(txt); err != nil || u != m {
			t.Fatalf("text round trip %q: %v %v", txt, u, err)
		}
	})
}

func FuzzParseModelRef(f *testing.F) {
	for _, s := range []string{"anthropic.claude-3-haiku-20240307-v1:0", "us.amazon.nova-pro-v1:0", "global.x", "arn:aws:bedrock:us-east-1::foundation-model/a.b:0",
		"arn:aws:bedrock:us-east-1:1:application-inference-profile/x", "arn:", "us.", ""} {
		f.Add(s)
	}
	c := Default()
	f.Fuzz(func(t *testing.T, s string) {
		ref := parseModelRef(s)
		if len(ref.base) > len(ref.id) {
			t.Fatalf("base %q longer than id %q", ref.base, ref.id)
		}
		p, err := c.Lookup(s)
		if err == nil && p.ID() == "" {
			t.Fatalf("%q: row without ID", s)
		}
		if err != nil && !errors.Is(err, ErrUnknownModel) {
			t.Fatalf("%q: unexpected error %v", s, err)
		}
	})
}

func FuzzParseCatalog(f *testing.F) {
	f.Add(embeddedPrices)
	f.Add([]byte(`{"schema_version":1,"as_of":"2026-01-01","currency":"USD","models":[{"ids":["m"],"kind":"text","unit":"1K tokens","input":"0.001","scope":"global","source":"s","as_of":"2026"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if !errors.Is(err, bedrockkit.ErrInvalidInput) {
				t.Fatalf("error does not wrap ErrInvalidInput: %v", err)
			}
			return
		}
		out, err := c.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("re-parse of marshalled catalog: %v", err)
		}
	})
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"0.003", "3", "0.000000000001", "$1.25", "", "-1", "1e3", "18446744073.709551615"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, perK bool) {
		unit := UnitPer1MTokens
		if perK {
			unit = UnitPer1KTokens
		}
		r, err := ParseRate(s, unit)
		if err != nil {
			if !errors.Is(err, bedrockkit.ErrInvalidInput) {
				t.Fatalf("%q: error does not wrap ErrInvalidInput: %v", s, err)
			}
			return
		}
		back, err := ParseRate(r.quote(unit), unit)
		if err != nil || back != r {
			t.Fatalf("%q -> %v -> %q -> %v %v", s, r, r.quote(unit), back, err)
		}
	})
}
