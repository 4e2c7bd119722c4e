package normalize

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/runenames"
)

func TestFullClasses(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Hello World", "hello world"},
		{"ｈｅｌｌｏ", "hello"},                // fullwidth (NFKC)
		{"he\u200bll\u200do", "hello"},    // zero-width
		{"\u202ehello\u202c", "hello"},    // bidi override
		{"hеllо", "hello"},                // Cyrillic е and о
		{"ηεllο", "nello"},                // Greek look-alikes
		{"h3ll0", "hello"},                // leet
		{"sh!t", "shit"},                  // leet symbol inside a word
		{"hello!", "hello!"},              // sentence punctuation kept
		{"$100", "$100"},                  // numbers kept
		{"s.p.a.c.e.d", "spaced"},         // separators
		{"s p a c e d out", "spaced out"}, // spaced letters
		{"a  \t\n b", "a b"},              // whitespace collapse
		{"café naïve", "cafe naive"},      // diacritics
		{"e.g. fine", "e.g. fine"},        // two letters are not folded
		{"ᴅᴀɴɢᴇʀ", "danger"},              // small caps
		{"Ｉｇｎｏｒｅ ａｌｌ", "ignore all"},      // fullwidth words
	}
	for _, c := range cases {
		got := Full(c.in).String()
		if got != c.want {
			t.Errorf("Full(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestBasic(t *testing.T) {
	in := "Call ５５５-０１２３\u200b now"
	got := Basic(in).String()
	if got != "Call 555-0123 now" {
		t.Fatalf("Basic = %q", got)
	}
}

func TestSpanMapsBack(t *testing.T) {
	in := "say b\u200ba\u200bd.w.o.r.d now"
	n := Full(in)
	i := strings.Index(n.String(), "word")
	if i < 0 {
		t.Fatalf("folded %q lacks word", n.String())
	}
	s, e := n.Span(i, i+4)
	if in[s:e] != "w.o.r.d" {
		t.Fatalf("span maps to %q", in[s:e])
	}
	j := strings.Index(n.String(), "bad")
	s, e = n.Span(j, j+3)
	if in[s:e] != "b\u200ba\u200bd" {
		t.Fatalf("span maps to %q", in[s:e])
	}
}

func checkInvariants(t *testing.T, in string) {
	t.Helper()
	for _, f := range []func(string) *Text{Full, Basic} {
		n := f(in)
		out := n.String()
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 output %q for %q", out, in)
		}
		for i := 0; i < n.Len(); i++ {
			s, e := n.Span(i, i+1)
			if s < 0 || e > len(in) || s >= e {
				t.Fatalf("bad span %d..%d for byte %d of %q (input %q)", s, e, i, out, in)
			}
		}
		if i, j := n.Span(0, n.Len()); n.Len() > 0 && (i > j) {
			t.Fatalf("span order")
		}
	}
	once := Full(in).String()
	twice := Full(once).String()
	if once != twice {
		t.Fatalf("Full not idempotent for %q: %q then %q", in, once, twice)
	}
	b1 := Basic(in).String()
	if b2 := Basic(b1).String(); b1 != b2 {
		t.Fatalf("Basic not idempotent for %q: %q then %q", in, b1, b2)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "Hello", "h3ll0 w0rld", "s.p.a.c.e", "ｈｅｌｌｏ", "he\u200bllo", "hеllо", "$1a", "a.1.b", "x$ a b c",
		"café", "İstanbul", "ﬁne ﬀ", "e\u0301", "1 2 3", "sh!t!", "\u202e abc", "|||a", "ǅ", "ΣΑΣ", "a\u0000b",
		"١٢٣\u2011٤٥\u2013६७८०", "jаne@exаmple.com", "ЅЅN Анна иван", "𝟏𝟐𝟑", "4111\u00b71111", "a\u2215b", "Ꭺ\u0301ꮪ",
		"¼", "A\u200b\u030c", "\u32c3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkInvariants(t, s)
		checkFoldedClasses(t, s)
	})
}

func BenchmarkFull4K(b *testing.B) {
	s := strings.Repeat("The quick brown fox jumps over the lazy dog; call me at 555-0123. ", 64)[:4096]
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Full(s)
	}
}

// checkFoldedClasses: whatever the input, no non-ASCII decimal digit or dash
// survives either folding, and Basic never turns a letter into a digit.
func checkFoldedClasses(t *testing.T, in string) {
	t.Helper()
	for name, n := range map[string]*Text{"Full": Full(in), "Basic": Basic(in)} {
		for _, r := range n.String() {
			if r >= utf8.RuneSelf && (unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pd, r)) {
				t.Fatalf("%s(%q) = %q keeps %U", name, in, n.String(), r)
			}
		}
	}
	b := Basic(in)
	out := b.String()
	for i := 0; i < len(out); {
		r, sz := utf8.DecodeRuneInString(out[i:])
		if r >= '0' && r <= '9' {
			s, e := b.Span(i, i+sz)
			src, _ := utf8.DecodeRuneInString(in[s:e])
			if unicode.IsLetter(src) {
				t.Fatalf("Basic turned %q into digit %q", in[s:e], r)
			}
		}
		i += sz
	}
}

// TestDigitValueMatchesUnicodeNames checks DigitValue against the character
// names of the Unicode database for every decimal digit: the name of a digit
// of value v ends in the English word for v (ARABIC-INDIC DIGIT THREE).
func TestDigitValueMatchesUnicodeNames(t *testing.T) {
	words := []string{"ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"}
	checked := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		v, ok := DigitValue(r)
		if ok != unicode.Is(unicode.Nd, r) {
			t.Fatalf("DigitValue(%U) ok=%v, but Nd=%v", r, ok, unicode.Is(unicode.Nd, r))
		}
		if !ok {
			continue
		}
		name := runenames.Name(r)
		if name == "" {
			continue // newer than the names table
		}
		if !strings.HasSuffix(name, " "+words[v]) {
			t.Fatalf("DigitValue(%U %s) = %d", r, name, v)
		}
		checked++
	}
	if checked < 600 {
		t.Fatalf("only %d digits checked", checked)
	}
}

// TestBasicFoldsHowNumbersAreWritten: the PII view reads digits of every
// script, every dash and dot-like separator the same way, and folds
// look-alike letters in mixed tokens, with spans mapping back.
func TestBasicFoldsHowNumbersAreWritten(t *testing.T) {
	cases := []struct{ in, want string }{
		{"123\u201345\u20136780", "123-45-6780"},                 // en dash
		{"123\u201145\u20116780", "123-45-6780"},                 // non-breaking hyphen
		{"123\u201245\u20146780\u2212", "123-45-6780-"},          // figure dash, em dash, minus
		{"123\ufe6345\uff0d6780", "123-45-6780"},                 // small and fullwidth hyphen-minus
		{"\u0661\u0662\u0663-\u0664\u0665", "123-45"},            // Arabic-Indic
		{"\u06f1\u06f2\u06f3", "123"},                            // Eastern Arabic-Indic
		{"\u0967\u0968\u0969", "123"},                            // Devanagari
		{"\u09e7\u0be8\u0e53\u1041", "1231"},                     // Bengali, Tamil, Thai, Myanmar
		{"4111\u00b71111\u20221111", "4111.1111.1111"},           // middle dot, bullet
		{"12\u221534", "12/34"},                                  // division slash
		{"j\u0430ne@ex\u0430mple.com", "jane@example.com"},       // Cyrillic а in an ASCII token
		{"\u0455\u0455\u0578: 1", "ssn: 1"},                      // all look-alikes (Cyrillic ѕ, Armenian ո)
		{"\u0405SN", "SSN"},                                      // capital keeps its case
		{"\u0418\u0432\u0430\u043d", "\u0418\u0432\u0430\u043d"}, // a Russian word is left alone
		{"\u0437\u0430 1", "\u0437\u0430 1"},                     // no letter becomes a digit
	}
	for _, c := range cases {
		n := Basic(c.in)
		if got := n.String(); got != c.want {
			t.Errorf("Basic(%q) = %q, want %q", c.in, got, c.want)
		}
		if s, e := n.Span(0, n.Len()); s != 0 || e != len(c.in) {
			t.Errorf("Basic(%q): whole span maps to %d..%d", c.in, s, e)
		}
	}
	if got := Full("Pay \u0661\u0662\u0663\u2013\u0664 now").String(); got != "pay 123-4 now" {
		t.Errorf("Full digits and dashes: %q", got)
	}
	if got := Full("\u0570\u0585\u0578\u0565").String(); !strings.HasPrefix(got, "hon") {
		t.Errorf("Full Armenian look-alikes: %q", got)
	}
}
