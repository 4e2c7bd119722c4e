package normalize

import (
	"strings"
	"testing"
	"unicode/utf8"
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
			if s < 0 || e > len(in) || s > e {
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
		"café", "İstanbul", "ﬁne ﬀ", "e\u0301", "1 2 3", "sh!t!", "\u202e abc", "|||a", "ǅ", "ΣΑΣ", "a\u0000b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkInvariants(t, s)
	})
}

func BenchmarkFull4K(b *testing.B) {
	s := strings.Repeat("The quick brown fox jumps over the lazy dog; call me at 555-0123. ", 64)[:4096]
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Full(s)
	}
}
