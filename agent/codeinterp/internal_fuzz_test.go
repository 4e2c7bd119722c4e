package codeinterp

import (
	"strings"
	"testing"
)

// FuzzCodeInterpPaths checks the file-space path mapping: a cleaned path is
// relative, never climbs out of the root, and cleaning is idempotent.
func FuzzCodeInterpPaths(f *testing.F) {
	for _, s := range []string{"a.csv", "./a.csv", "/data/../../etc/passwd", "..", "a//b/./c", `..\..\x`, "\x00", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		c, err := cleanPath(p)
		if err != nil {
			return
		}
		if c == "" || strings.HasPrefix(c, "/") || c == ".." || strings.HasPrefix(c, "../") || strings.Contains(c, "/../") {
			t.Fatalf("cleanPath(%q) = %q escapes the root", p, c)
		}
		if again, err := cleanPath(c); err != nil || again != c {
			t.Fatalf("cleanPath is not idempotent: %q -> %q -> %q (%v)", p, c, again, err)
		}
	})
}

// FuzzCodeInterpRegexpCheck runs the backtracking check and the JSON depth
// scan on arbitrary text: neither may panic, and the known catastrophic
// shapes stay refused when wrapped in anything.
func FuzzCodeInterpRegexpCheck(f *testing.F) {
	for _, s := range []string{"(a+)+$", `\B(?=(\d{3})+(?!\d))`, "[(]+", `\(a+\)+`, "((a|b)c)*", "(?<n>x{1,3})+", "{", "(", ")"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = checkRegexp(s)
		_ = jsonDepth(s)
		if checkRegexp("(?:"+s+")") == "" && !strings.ContainsAny(s, `\[`) && checkRegexp("(a+)+"+s) == "" && strings.Count(s, "(") == strings.Count(s, ")") {
			t.Fatalf("(a+)+ followed by %q was accepted", s)
		}
	})
}
