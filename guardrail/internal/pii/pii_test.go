package pii

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidators(t *testing.T) {
	checks := []struct {
		name string
		ok   bool
	}{
		{"luhn visa", Luhn("4111111111111111")},
		{"luhn bad", !Luhn("4111111111111112")},
		{"iban gb", IBAN("GB82 WEST 1234 5698 7654 32")},
		{"iban de", IBAN("DE89370400440532013000")},
		{"iban bad check", !IBAN("GB82WEST12345698765433")},
		{"iban bad length", !IBAN("GB82WEST123456987654")},
		{"ssn", SSN("123456780") && !SSN("666123456") && !SSN("000123456") && !SSN("912345678") && !SSN("123004567") && !SSN("123450000")},
		{"itin", ITIN("912701234") && !ITIN("912401234")},
		{"aba", ABARouting("011000015") && ABARouting("121000358") && !ABARouting("011000016")},
		{"vin", VIN("1M8GDM9AXKP042788") && !VIN("1M8GDM9A1KP042788")},
		{"nhs", NHS("9434765919") && !NHS("9434765918")},
		{"ip", IP("192.168.1.20") && IP("2001:db8::1") && !IP("999.1.1.1")},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s failed", c.name)
		}
	}
	// Cross-check the IBAN remainder arithmetic with math/big.
	if bigMod97("3214282912345698765432161182") != 1 {
		t.Errorf("reference mod-97 broken")
	}
}

func all() *Detector {
	return New([]Type{"ADDRESS", "AGE", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "CA_HEALTH_NUMBER", "CA_SOCIAL_INSURANCE_NUMBER",
		"CREDIT_DEBIT_CARD_CVV", "CREDIT_DEBIT_CARD_EXPIRY", "CREDIT_DEBIT_CARD_NUMBER", "DRIVER_ID", "EMAIL",
		"INTERNATIONAL_BANK_ACCOUNT_NUMBER", "IP_ADDRESS", "LICENSE_PLATE", "MAC_ADDRESS", "NAME", "PASSWORD", "PHONE", "PIN",
		"SWIFT_CODE", "UK_NATIONAL_HEALTH_SERVICE_NUMBER", "UK_NATIONAL_INSURANCE_NUMBER", "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER",
		"URL", "USERNAME", "US_BANK_ACCOUNT_NUMBER", "US_BANK_ROUTING_NUMBER", "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
		"US_PASSPORT_NUMBER", "US_SOCIAL_SECURITY_NUMBER", "VEHICLE_IDENTIFICATION_NUMBER"})
}

func TestDetectExamples(t *testing.T) {
	cases := []struct {
		text, want string
		typ        Type
	}{
		{"mail me at jane.doe+x@example.co.uk today", "jane.doe+x@example.co.uk", "EMAIL"},
		{"card 4111 1111 1111 1111 exp", "4111 1111 1111 1111", "CREDIT_DEBIT_CARD_NUMBER"},
		{"my ssn is 123-45-6780.", "123-45-6780", "US_SOCIAL_SECURITY_NUMBER"},
		{"IBAN: GB82 WEST 1234 5698 7654 32, thanks", "GB82 WEST 1234 5698 7654 32", "INTERNATIONAL_BANK_ACCOUNT_NUMBER"},
		{"server 10.0.0.12 is down", "10.0.0.12", "IP_ADDRESS"},
		{"v6 2001:db8::8a2e:370:7334 ok", "2001:db8::8a2e:370:7334", "IP_ADDRESS"},
		{"call (555) 123-4567 now", "(555) 123-4567", "PHONE"},
		{"see https://example.com/a?b=c.", "https://example.com/a?b=c", "URL"},
		{"routing number 011000015", "011000015", "US_BANK_ROUTING_NUMBER"},
		{"VIN 1M8GDM9AXKP042788", "1M8GDM9AXKP042788", "VEHICLE_IDENTIFICATION_NUMBER"},
		{"key AKIAIOSFODNN7EXAMPLE in logs", "AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY"},
		{"mac 00:1A:2b:3c:4D:5e", "00:1A:2b:3c:4D:5e", "MAC_ADDRESS"},
		{"password: hunter2!", "hunter2!", "PASSWORD"},
		{"NINO AB123456C", "AB123456C", "UK_NATIONAL_INSURANCE_NUMBER"},
		{"My name is Maria Kowalski and I code", "Maria Kowalski", "NAME"},
		{"She lives at 221 Baker Street, London", "221 Baker Street, London", "ADDRESS"},
		{"I am 42 years old", "42", "AGE"},
		{"Ｍａｉｌ ｊｏｅ@ｅｘａｍｐｌｅ.ｃｏｍ", "ｊｏｅ@ｅｘａｍｐｌｅ.ｃｏｍ", "EMAIL"},
		{"call 555\u200b-123-4567 now", "555\u200b-123-4567", "PHONE"},
	}
	d := all()
	for _, c := range cases {
		found := false
		for _, e := range detect(d, c.text) {
			if e.Type == c.typ && c.text[e.Start:e.End] == c.want {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: want %s %q, got %+v", c.text, c.typ, c.want, detect(d, c.text))
		}
	}
}

func TestNoFalsePositives(t *testing.T) {
	d := all()
	for _, s := range []string{
		"The meeting is on 2024-05-06 at 10:30.",
		"Version 1.2.3 fixed 42 bugs in 2019.",
		"It costs $1,299.99 and weighs 3.5 kg.",
		"the quick brown fox jumps over the lazy dog",
	} {
		if es := detect(d, s); len(es) > 0 {
			t.Errorf("%q: unexpected %+v", s, es)
		}
	}
}

// TestSSNShapeIsNotAPhone: a number in the SSN layout that the SSN rules
// reject (123-45-6789 is a well-known invalid example) must not be masked as
// a phone number instead; with phone context words it still is one.
func TestSSNShapeIsNotAPhone(t *testing.T) {
	d := all()
	for _, e := range detect(d, "My SSN is 123-45-6789.") {
		if e.Type == "PHONE" {
			t.Fatalf("SSN-shaped number detected as %+v", e)
		}
	}
	found := false
	for _, e := range detect(d, "Call my mobile 123-45-6789 tonight.") {
		found = found || e.Type == "PHONE"
	}
	if !found {
		t.Fatal("a 3-2-4 number with phone context should still be a phone")
	}
}

func FuzzDetect(f *testing.F) {
	for _, s := range []string{"", "jane@example.com 4111111111111111", "GB82 WEST 1234 5698 7654 32", "(555) 123-4567x12",
		"1234 Main Street\nApt. 5\nSpringfield, IL 62704", "ｊｏｅ@ｅｘａｍｐｌｅ.ｃｏｍ", "a@b", "@@..", "P.O. Box 12", "2001:db8::1", "\xff\xfe@x.io"} {
		f.Add(s)
	}
	for _, p := range hostilePatterns {
		f.Add(strings.Repeat(p, 40))
	}
	f.Add("SSN \u0661\u0662\u0663\u2013\u0664\u0665\u2013\u0666\u0667\u0668\u0660 j\u0430ne@ex\u0430mple.com")
	f.Add("call 1 2 3 4 5 6 7 8 0 or 4111.1111.1111.1111 123-45-6780 536-22-4891")
	d := all()
	f.Fuzz(func(t *testing.T, s string) {
		prev := 0
		es, err := d.Detect(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Start < prev || e.End > len(s) || e.Start >= e.End {
				t.Fatalf("bad entity %+v in %q", e, s)
			}
			prev = e.End
			if strings.TrimSpace(s[e.Start:e.End]) == "" {
				t.Fatalf("blank entity %+v in %q", e, s)
			}
			// Offsets map back to whole characters of the original.
			if utf8.ValidString(s) && !utf8.ValidString(s[e.Start:e.End]) {
				t.Fatalf("entity %+v cuts a character in %q", e, s)
			}
			for _, a := range e.Alts {
				if a == e.Type || !d.on[a] {
					t.Fatalf("entity %+v lists a bad alternative", e)
				}
			}
		}
	})
}

func BenchmarkDetect4K(b *testing.B) {
	s := strings.Repeat("Contact Maria Kowalski at maria@example.com or (555) 123-4567; she lives at 221 Baker Street. ", 50)[:4096]
	d := all()
	for b.Loop() {
		detect(d, s)
	}
}

// detect runs d without a deadline.
func detect(d *Detector, s string) []Entity {
	es, err := d.Detect(context.Background(), s)
	if err != nil {
		panic(err)
	}
	return es
}
