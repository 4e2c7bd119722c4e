package ahocorasick

import (
	"strings"
	"testing"
)

func naive(text string, pats []string) map[Match]bool {
	got := map[Match]bool{}
	for pi, p := range pats {
		if p == "" {
			continue
		}
		for i := 0; i+len(p) <= len(text); i++ {
			if text[i:i+len(p)] == p {
				got[Match{pi, i, i + len(p)}] = true
			}
		}
	}
	return got
}

func TestMatchesNaive(t *testing.T) {
	pats := []string{"he", "she", "his", "hers", "", "s"}
	text := "ushers and his shehe"
	m := New(pats)
	got := map[Match]bool{}
	m.FindAll(text, pats, func(x Match) { got[x] = true })
	want := naive(text, pats)
	if len(got) != len(want) {
		t.Fatalf("got %v want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Fatalf("missing %v", k)
		}
	}
	if !m.Contains(text, pats) || m.Contains("xyz", pats) {
		t.Fatal("Contains disagrees with FindAll")
	}
}

func FuzzMatcher(f *testing.F) {
	f.Add("abcabc", "abc,bca,c")
	f.Add("aaaa", "a,aa,aaa")
	f.Fuzz(func(t *testing.T, text, list string) {
		pats := strings.Split(list, ",")
		m := New(pats)
		got := map[Match]bool{}
		m.FindAll(text, pats, func(x Match) { got[x] = true })
		want := naive(text, pats)
		if len(got) != len(want) {
			t.Fatalf("got %d matches, want %d", len(got), len(want))
		}
		if m.Contains(text, pats) != (len(want) > 0) {
			t.Fatalf("Contains = %v with %d matches", !(len(want) > 0), len(want))
		}
		for k := range want {
			if !got[k] {
				t.Fatalf("missing %v", k)
			}
		}
	})
}
