package pii

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// writeDigits writes the ASCII digit string d in the decimal digits of the
// script whose zero is zero ('0' for ASCII).
func writeDigits(d string, zero rune) string {
	var b strings.Builder
	for _, c := range d {
		if c >= '0' && c <= '9' {
			b.WriteRune(zero + c - '0')
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// digitScripts are the zeros of some decimal digit sets (Unicode Nd).
var digitScripts = map[string]rune{
	"ASCII": '0', "Arabic-Indic": '\u0660', "Eastern Arabic-Indic": '\u06F0', "Devanagari": '\u0966',
	"Bengali": '\u09E6', "Thai": '\u0E50', "Fullwidth": '\uFF10', "Mathematical bold": '\U0001D7CE', "N'Ko": '\u07C0',
}

// groupSeps are ways to write the separator between digit groups.
var groupSeps = map[string]string{
	"hyphen": "-", "en dash": "\u2013", "em dash": "\u2014", "U+2011": "\u2011", "figure dash": "\u2012",
	"minus": "\u2212", "small hyphen": "\uFE63", "fullwidth hyphen": "\uFF0D", "dot": ".", "slash": "/",
	"underscore": "_", "space": " ", "no-break space": "\u00A0", "thin space": "\u2009", "middle dot": "\u00B7",
	"spaced hyphen": " - ", "spaced en dash": " \u2013 ", "zero-width + hyphen": "\u200B-",
}

func group(d string, sizes []int, sep string) string {
	var parts []string
	for _, n := range sizes {
		parts = append(parts, d[:n])
		d = d[n:]
	}
	return strings.Join(parts, sep)
}

func spaced(d, sep string) string { return strings.Join(strings.Split(d, ""), sep) }

func found(t *testing.T, d *Detector, text, want string, typ Type) {
	t.Helper()
	for _, e := range detect(d, text) {
		if text[e.Start:e.End] == want && (e.Type == typ || containsType(e.Alts, typ)) {
			return
		}
	}
	t.Errorf("%q: want %s %q, got %+v", text, typ, want, detect(d, text))
}

func containsType(ts []Type, t Type) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// TestNumbersHoweverWritten: an SSN or a card number is found whatever the
// digits' script, the dash or separator between groups, or a separator
// between every digit; with and without context words.
func TestNumbersHoweverWritten(t *testing.T) {
	d := all()
	ssns := []string{"123456780", "078051121", "536224891"}
	cards := []string{"4111111111111111", "5500005555555559", "378282246310005"}
	for _, zero := range digitScripts {
		for sepName, sep := range groupSeps {
			for _, ssn := range ssns {
				v := writeDigits(group(ssn, []int{3, 2, 4}, sep), zero)
				found(t, d, "SSN: "+v+".", v, "US_SOCIAL_SECURITY_NUMBER")
				found(t, d, "on file: "+v+" thanks", v, "US_SOCIAL_SECURITY_NUMBER")
			}
			for _, card := range cards {
				sizes := []int{4, 4, 4, 4}
				if len(card) == 15 {
					sizes = []int{4, 6, 5}
				}
				v := writeDigits(group(card, sizes, sep), zero)
				found(t, d, "pay with "+v+" today", v, "CREDIT_DEBIT_CARD_NUMBER")
			}
			_ = sepName
		}
		for _, sep := range []string{" ", "  ", "-", ".", "\u2013", " \u00B7 ", "_"} {
			v := writeDigits(spaced(ssns[0], sep), zero)
			found(t, d, "my ssn is "+v, v, "US_SOCIAL_SECURITY_NUMBER")
			found(t, d, "it is "+v+" ok", v, "US_SOCIAL_SECURITY_NUMBER")
			c := writeDigits(spaced(cards[0], sep), zero)
			found(t, d, "card "+c, c, "CREDIT_DEBIT_CARD_NUMBER")
		}
		v := writeDigits(ssns[0], zero)
		found(t, d, "SSN "+v, v, "US_SOCIAL_SECURITY_NUMBER")
	}
}

// TestNumbersWrittenOneAfterAnother: several numbers in one run of digit
// groups are each found.
func TestNumbersWrittenOneAfterAnother(t *testing.T) {
	d := all()
	text := "SSNs 123-45-6780 536-22-4891 and cards 4111 1111 1111 1111 5500 0055 5555 5559"
	for _, want := range []struct {
		s string
		t Type
	}{{"123-45-6780", "US_SOCIAL_SECURITY_NUMBER"}, {"536-22-4891", "US_SOCIAL_SECURITY_NUMBER"},
		{"4111 1111 1111 1111", "CREDIT_DEBIT_CARD_NUMBER"}, {"5500 0055 5555 5559", "CREDIT_DEBIT_CARD_NUMBER"}} {
		found(t, d, text, want.s, want.t)
	}
	// A date is no entity, nor are its parts.
	if es := detect(d, "Born 2019-05-06 here"); len(es) > 0 {
		t.Errorf("date: %+v", es)
	}
}

// TestLookalikeEmails: addresses written with Cyrillic, Greek or other
// look-alike letters, and internationalised ones, are found whole.
func TestLookalikeEmails(t *testing.T) {
	d := all()
	for _, e := range []string{
		"j\u0430ne@ex\u0430mple.com",                                           // Cyrillic а
		"\u0458\u0430ne@\u0435\u0445\u0430m\u0440l\u0435.\u0441\u043em",        // mostly Cyrillic
		"j\u03b1ne@example.com",                                                // Greek alpha
		"\u0578\u0585\u0570@gmail.com",                                         // Armenian
		"\u0438\u0432\u0430\u043d@\u043f\u043e\u0447\u0442\u0430.\u0440\u0444", // Russian IDN
		"m\u00fcller@b\u00fccher.de",                                           // Latin with diacritics
		"JANE@EXAMPLE.COM",
	} {
		found(t, d, "write to "+e+" please", e, "EMAIL")
	}
}

// TestContextWordsInLookalikes: context words written with look-alike
// letters still confirm a number.
func TestContextWordsInLookalikes(t *testing.T) {
	d := all()
	found(t, d, "\u0405\u0405N 123456780", "123456780", "US_SOCIAL_SECURITY_NUMBER") // Cyrillic Ѕ
	found(t, d, "r\u043euting 011000015", "011000015", "US_BANK_ROUTING_NUMBER")     // Cyrillic о
	found(t, d, "\u0440assword: hunter2!", "hunter2!", "PASSWORD")                   // Cyrillic р
}

// TestAmbiguousNumbersListAlternatives: a number taken as a phone or an
// account on context words lists the validated types it also fits, so the
// caller can apply the stricter action.
func TestAmbiguousNumbersListAlternatives(t *testing.T) {
	d := all()
	for _, c := range []struct {
		text, match string
		alt         Type
	}{
		{"my number 123456780", "123456780", "US_SOCIAL_SECURITY_NUMBER"},
		{"call 123456780 now", "123456780", "US_SOCIAL_SECURITY_NUMBER"},
		{"account 123456780", "123456780", "US_SOCIAL_SECURITY_NUMBER"},
		{"call me: 912-70-1234", "912-70-1234", "PHONE"},
	} {
		es := detect(d, c.text)
		ok := false
		for _, e := range es {
			if c.text[e.Start:e.End] == c.match && (e.Type == c.alt || containsType(e.Alts, c.alt)) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%q: want %q to fit %s, got %+v", c.text, c.match, c.alt, es)
		}
	}
	// A phone layout is no SSN.
	for _, e := range detect(d, "call (555) 123-456 or 555 123 456") {
		if e.Type == "US_SOCIAL_SECURITY_NUMBER" || containsType(e.Alts, "US_SOCIAL_SECURITY_NUMBER") {
			t.Errorf("phone layout taken as an SSN: %+v", e)
		}
	}
	// With phones off, a phone-shaped SSN is still an SSN.
	ssnOnly := New([]Type{"US_SOCIAL_SECURITY_NUMBER"})
	if es := detect(ssnOnly, "my number 123456780"); len(es) != 1 || es[0].Type != "US_SOCIAL_SECURITY_NUMBER" {
		t.Errorf("SSN only: %+v", es)
	}
}

// hostilePatterns are repeated to build inputs that made scanners
// quadratic (each start rescanning the rest) or that stress each scanner.
var hostilePatterns = []string{
	"(", "+(", "( ", "1-", "1 ", "1  ", "1:", "a:", "::", "1.", "a.", "a.com.", "x.com", "com.", "1.com.", "@", "a@",
	"a@a.", "@a.com", "password", "password:", "passwordpassword ", "username is ", "Bob ", "Bob x ", "Mr Bob Lee ",
	"12 Main Street ", "1 A ", "A 1 ", "Apt 1 ", "https://", "www.", "http://a", "1x", "9", "(1", "1)", "1-2-", "+1 ",
	"a\n", "Aa Bb Cc Dd Ee ", "0123456789", "ab12", "GB82", "AKIA", "e", "\u00e9", "\u0501", "\u0661", "\u2013", "1\u2013",
	"4111 ", "123-45-6780 ", "00:1a:", "1.2.3.4.", "ssn 1", "P.O. Box 1 ", "x.co/", "a-", "_1", "1_", "Aé ",
}

// TestScanIsLinear counts the scanners' units of work (every byte a scanner
// visits is counted) on each hostile pattern at two sizes: four times the
// text must cost at most about four times the work, and a bounded amount
// per byte (a number's context window is 48 bytes, so a text of one-digit
// numbers costs about a hundred units per byte). No clock is read.
func TestScanIsLinear(t *testing.T) {
	d := all()
	const small = 4 << 10
	maxPerByte := 0.0
	for _, p := range hostilePatterns {
		in1 := strings.Repeat(p, small/len(p)+1)
		in4 := strings.Repeat(p, 4*small/len(p)+1)
		_, w1, err1 := d.detect(context.Background(), in1)
		_, w4, err4 := d.detect(context.Background(), in4)
		if err1 != nil || err4 != nil {
			t.Fatal(err1, err4)
		}
		ratio := float64(w4) / float64(max(w1, 1))
		perByte := float64(w4) / float64(len(in4))
		maxPerByte = max(maxPerByte, perByte)
		if ratio > 4.6 || perByte > 160 {
			t.Errorf("pattern %q: work %d at %d bytes, %d at %d bytes (x%.2f, %.1f per byte)", p, w1, len(in1), w4, len(in4), ratio, perByte)
		}
	}
	t.Logf("at most %.1f units of work per byte", maxPerByte)
}

// countingCtx is a context that is done after its Err has been asked limit
// times: it stands for a deadline that passes mid-scan, without a clock.
type countingCtx struct {
	context.Context
	polls, limit int64
}

func (c *countingCtx) Err() error {
	if atomic.AddInt64(&c.polls, 1) > c.limit {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *countingCtx) Done() <-chan struct{} { return nil }

// TestDetectStopsWhenCancelled: once the context is done the scan stops
// within one polling interval of work and returns the context's error.
func TestDetectStopsWhenCancelled(t *testing.T) {
	d := all()
	text := strings.Repeat("Call Bob Lee at (555) 123-4567 or bob@example.com; SSN 123-45-6780. ((((((((", 20000)
	for _, limit := range []int64{1, 3, 10} {
		ctx := &countingCtx{Context: context.Background(), limit: limit}
		es, work, err := d.detect(ctx, text)
		if !errors.Is(err, context.DeadlineExceeded) || es != nil {
			t.Fatalf("limit %d: err=%v, %d entities", limit, err, len(es))
		}
		if max := int(limit+1)*pollEvery + 4096; work > max {
			t.Fatalf("limit %d: %d units of work done, want at most %d", limit, work, max)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Detect(ctx, text); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	// A real deadline on a large input.
	ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := d.Detect(ctx, strings.Repeat(text, 4)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
}

// FuzzNumberLayouts: a valid SSN or card, written in any digit script with
// any of the separators, after a context word, is always found with the
// span of exactly its characters.
func FuzzNumberLayouts(f *testing.F) {
	f.Add(uint64(123456780), uint8(0), uint8(0), false)
	f.Add(uint64(4111111111111111), uint8(3), uint8(5), true)
	f.Add(uint64(536224891), uint8(7), uint8(11), false)
	scripts := []rune{'0', '\u0660', '\u06F0', '\u0966', '\u09E6', '\u0E50', '\uFF10', '\u1040', '\u0AE6'}
	seps := []string{"-", "\u2013", "\u2011", "\u2014", "\u2212", ".", "/", "_", " ", "\u00A0", " - ", "\u00B7", "\u2009"}
	d := all()
	f.Fuzz(func(t *testing.T, n uint64, script, sep uint8, spacedOut bool) {
		z, sp := scripts[int(script)%len(scripts)], seps[int(sep)%len(seps)]
		ssn := fmt.Sprintf("%09d", n%1e9)
		if SSN(ssn) && !ITIN(ssn) {
			v := group(ssn, []int{3, 2, 4}, sp)
			if spacedOut {
				v = spaced(ssn, sp)
			}
			v = writeDigits(v, z)
			found(t, d, "SSN "+v+".", v, "US_SOCIAL_SECURITY_NUMBER")
		}
		card := fmt.Sprintf("%016d", n%1e16)
		if Luhn(card) && card[0] >= '1' && card[0] <= '6' {
			v := group(card, []int{4, 4, 4, 4}, sp)
			if spacedOut {
				v = spaced(card, sp)
			}
			v = writeDigits(v, z)
			found(t, d, "card "+v+".", v, "CREDIT_DEBIT_CARD_NUMBER")
		}
	})
}

// BenchmarkDetectHostile128K scans 128 KB of each of a few hostile patterns.
func BenchmarkDetectHostile128K(b *testing.B) {
	d := all()
	for _, p := range []string{"(", "1 ", "a.com.", "password", "Bob ", "1:"} {
		s := strings.Repeat(p, (128<<10)/len(p))
		b.Run(fmt.Sprintf("%q", p), func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				detect(d, s)
			}
		})
	}
}
