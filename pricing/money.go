package pricing

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// Money is an amount of US dollars in nano-dollars (1e-9 USD): Money(1_000_000_000)
// is one dollar. Integer arithmetic keeps sums exact; the range is about ±9.2
// billion dollars. A micro-cent (1e-8 USD) is 10 nano-dollars.
type Money int64

// Common amounts.
const (
	NanoDollar Money = 1
	MicroCent  Money = 10
	Cent       Money = 10_000_000
	Dollar     Money = 1_000_000_000
)

// Dollars returns m as a float64 number of dollars, for display and metrics.
// Use Money itself for arithmetic: the float loses exactness.
func (m Money) Dollars() float64 { return float64(m) / float64(Dollar) }

// String formats m as dollars with at least two decimals and as many more as
// needed to be exact: "$45.00", "$0.000000035", "-$1.50".
func (m Money) String() string {
	return formatMoney(m, true)
}

// MarshalText encodes m as an exact decimal number of dollars without the
// "$" sign ("45.00"), so JSON and CSV exports stay exact.
func (m Money) MarshalText() ([]byte, error) { return []byte(formatMoney(m, false)), nil }

// UnmarshalText parses what MarshalText or String produce.
func (m *Money) UnmarshalText(b []byte) error {
	v, err := ParseMoney(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

func formatMoney(m Money, sign bool) string {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = -u // two's complement; correct for MinInt64 too
	}
	s := formatDecimal(u, 9, 2)
	switch {
	case neg && sign:
		return "-$" + s
	case neg:
		return "-" + s
	case sign:
		return "$" + s
	}
	return s
}

// formatDecimal writes v / 10^scale with at least minFrac fractional digits
// and no trailing zeros beyond them.
func formatDecimal(v uint64, scale, minFrac int) string {
	p := pow10[scale]
	ip, fp := v/p, v%p
	frac := strconv.FormatUint(fp, 10)
	frac = strings.Repeat("0", scale-len(frac)) + frac
	frac = strings.TrimRight(frac, "0")
	for len(frac) < minFrac {
		frac += "0"
	}
	if frac == "" {
		return strconv.FormatUint(ip, 10)
	}
	return strconv.FormatUint(ip, 10) + "." + frac
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// errDecimal is wrapped by every decimal parsing error.
var errDecimal = errors.New("invalid decimal")

// parseDecimal parses a non-negative decimal such as "0.035" or "$45" into an
// integer count of 10^-scale units. It fails rather than round when s has
// more fractional digits than scale (other than trailing zeros) or overflows.
func parseDecimal(s string, scale int) (uint64, error) {
	orig := s
	s = strings.TrimPrefix(strings.TrimSpace(s), "$")
	ip, fp, hasDot := strings.Cut(s, ".")
	if ip == "" && fp == "" || hasDot && fp == "" && ip == "" {
		return 0, fmt.Errorf("%w %q: want digits such as 0.035", errDecimal, orig)
	}
	if ip == "" {
		ip = "0"
	}
	for _, part := range []string{ip, fp} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, fmt.Errorf("%w %q: want digits such as 0.035", errDecimal, orig)
			}
		}
	}
	fp = strings.TrimRight(fp, "0")
	if len(fp) > scale {
		return 0, fmt.Errorf("%w %q: more than %d decimal places", errDecimal, orig, scale)
	}
	ipv, err := strconv.ParseUint(ip, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w %q: too large", errDecimal, orig)
	}
	var fpv uint64
	if fp != "" {
		fpv, _ = strconv.ParseUint(fp, 10, 64) // at most 19 digits: fits
		fpv *= pow10[scale-len(fp)]
	}
	hi, lo := bits.Mul64(ipv, pow10[scale])
	sum, carry := bits.Add64(lo, fpv, 0)
	if hi != 0 || carry != 0 || sum > math.MaxInt64 {
		return 0, fmt.Errorf("%w %q: too large", errDecimal, orig)
	}
	return sum, nil
}

// ParseMoney parses a dollar amount such as "45", "$45.00", "-$0.5" or
// "0.000000035". More than nine decimal places is an error (wrapping
// bedrockkit.ErrInvalidInput), never a silent rounding.
func ParseMoney(s string) (Money, error) {
	t := strings.TrimSpace(s)
	neg := strings.HasPrefix(t, "-")
	if neg {
		t = t[1:]
	}
	v, err := parseDecimal(t, 9)
	if err != nil {
		return 0, fmt.Errorf("pricing: parse money: %w: %w", err, bedrockkit.ErrInvalidInput)
	}
	if neg {
		return -Money(v), nil
	}
	return Money(v), nil
}

// MustMoney is ParseMoney for constants; it panics on a malformed amount.
func MustMoney(s string) Money {
	m, err := ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

// Rate is a price per unit (token or guardrail text unit), held exactly as
// nano-dollars per million units, so $0.035 per 1M tokens (3.5e-8 dollars a
// token) and $0.3125 per 1M are both exact. The zero Rate is "no price": a
// catalog row without a rate for a token class cannot price that class, which
// is an error, never a silent zero. Use Free for a price of zero.
type Rate struct {
	perM Money // nano-dollars per 1,000,000 units
	set  bool
}

// Free is a rate of zero that is set (a free policy or token class).
var Free = Rate{set: true}

// PerMillion returns the rate of m per 1,000,000 units. Negative amounts are
// invalid and give the zero (unset) Rate.
func PerMillion(m Money) Rate {
	if m < 0 {
		return Rate{}
	}
	return Rate{perM: m, set: true}
}

// ParseRate parses a decimal dollar price quoted per unit ("0.003" with
// UnitPer1KTokens is $3 per 1M tokens). It fails on prices too precise to hold
// exactly (finer than a nano-dollar per million units) or negative.
func ParseRate(price string, unit Unit) (Rate, error) {
	extra, ok := unit.extraDigits()
	if !ok {
		return Rate{}, fmt.Errorf("pricing: unknown price unit %q; use one of %q, %q, %q: %w", unit, UnitPer1MTokens, UnitPer1KTokens, UnitPer1KTextUnits, bedrockkit.ErrInvalidInput)
	}
	// A price p per quote unit is p*10^extra dollars per million units, which
	// is p*10^(9+extra) nano-dollars: parse at that scale.
	v, err := parseDecimal(price, 9+extra)
	if err != nil {
		return Rate{}, fmt.Errorf("pricing: parse price: %w: %w", err, bedrockkit.ErrInvalidInput)
	}
	return Rate{perM: Money(v), set: true}, nil
}

// MustRate is ParseRate for constants; it panics on a malformed price.
func MustRate(price string, unit Unit) Rate {
	r, err := ParseRate(price, unit)
	if err != nil {
		panic(err)
	}
	return r
}

// IsSet reports whether the rate is a price (possibly Free) rather than "no price".
func (r Rate) IsSet() bool { return r.set }

// PerMillion returns the price of 1,000,000 units.
func (r Rate) PerMillion() Money { return r.perM }

// String formats the rate as "$3.00/1M", or "unpriced" when it is not set.
func (r Rate) String() string {
	if !r.set {
		return "unpriced"
	}
	return r.perM.String() + "/1M"
}

// quote formats the rate as a decimal price per unit ("0.003" for $3/1M and
// UnitPer1KTokens).
func (r Rate) quote(unit Unit) string {
	extra, _ := unit.extraDigits()
	return formatDecimal(uint64(r.perM), 9+extra, 2)
}

// costOf returns n units at r, in units of 1e-15 dollars, as a 128-bit value.
func (r Rate) costOf(n uint64) (hi, lo uint64) {
	return bits.Mul64(n, uint64(r.perM))
}

// roundMillionths divides the 128-bit value (hi, lo) by 1,000,000 rounding
// half up, and reports overflow of Money.
func roundMillionths(hi, lo uint64) (Money, bool) {
	const d = 1_000_000
	if hi >= d {
		return 0, false
	}
	q, rem := bits.Div64(hi, lo, d)
	if rem >= d/2 {
		q++
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	return Money(q), true
}
