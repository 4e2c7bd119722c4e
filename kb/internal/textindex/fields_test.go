package textindex

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestSubwords(t *testing.T) {
	for in, want := range map[string][]string{
		"FOXO3a":                  {"foxo", "3"}, // "a" is a stop word
		"IL6":                     {"il", "6"},
		"miRNAs":                  {"mi", "rna"},
		"p16INK4a":                {"p", "16", "ink", "4"},
		"ScPif1p":                 {"sc", "pif", "1", "p"},
		"RNAs":                    nil, // upper to lower is no boundary
		"Foxo":                    nil,
		"cells":                   nil,
		"3.5":                     nil, // the '.' inside a number joins
		"the":                     nil, // a stop word
		"α7nAChR":                 {"α", "7", "n", "ach", "r"},
		strings.Repeat("ab1", 17): nil, // over 48 runes
	} {
		if got := Subwords(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Subwords(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Subwords(strings.Repeat("a1", 24)); len(got) > maxSubwords {
		t.Errorf("%d subwords, want at most %d", len(got), maxSubwords)
	}
}

// A query naming a gene as "IL6" or "FOXO3a" finds the documents writing
// "IL-6" and "FOXO"; before subwords it found neither.
func TestSearchMeetsSubwords(t *testing.T) {
	ix := New(Params{})
	ix.Add("a", "a", "Serum IL-6 concentrations in sepsis", nil)
	ix.Add("b", "b", "FOXO transcription factors in ageing", nil)
	ix.Add("c", "c", "Unrelated text about weather", nil)
	for q, want := range map[string]string{"IL6 in sepsis": "a", "FOXO3a and longevity": "b"} {
		if h := ix.Search(q, 3, nil); len(h) == 0 || h[0].ID != want {
			t.Errorf("Search(%q) = %+v, want %s first", q, h, want)
		}
	}
}

// Of two records with the same terms, the one holding the query's words
// next to each other (stop words skipped) ranks first.
func TestSearchPrefersAdjacentTerms(t *testing.T) {
	ix := New(Params{})
	ix.Add("apart", "apart", "failure of the kidney was rare; the heart was fine", nil)
	ix.Add("adjacent", "adjacent", "heart failure of the kidney was rare; the heart was fine", nil)
	ix.Add("near", "near", "the heart of the failure: kidney was rare, was fine", nil)
	h := ix.Search("heart failure", 3, nil)
	if len(h) != 3 || h[0].ID != "adjacent" {
		t.Fatalf("hits = %+v, want adjacent first", h)
	}
	// Without phrases the two tie on term frequencies and lengths.
	off := New(Params{PhraseWeight: -1})
	off.Add("x", "x", "heart failure kidney", nil)
	off.Add("y", "y", "failure heart kidney", nil)
	if h := off.Search("heart failure", 2, nil); h[0].Score != h[1].Score {
		t.Fatalf("PhraseWeight -1 still scores phrases: %+v", h)
	}
}

// A term in the heading path counts as a second field: with equal text, the
// record whose heading names the query ranks first, and a term only in the
// heading still matches.
func TestSearchWeighsHeadings(t *testing.T) {
	ix := New(Params{})
	ix.Add("plain", "plain", "statins lower cholesterol", map[string]any{HeadingsKey: []any{"Drugs"}})
	ix.Add("headed", "headed", "statins lower cholesterol", map[string]any{HeadingsKey: []any{"Statins", "Effects"}})
	ix.Add("only", "only", "they lower cholesterol", map[string]any{HeadingsKey: []string{"Statins"}})
	h := ix.Search("statins", 3, nil)
	if len(h) != 3 || h[0].ID != "headed" {
		t.Fatalf("hits = %+v, want headed first and all three", h)
	}
	off := New(Params{HeadingWeight: -1})
	off.Add("only", "only", "they lower cholesterol", map[string]any{HeadingsKey: []any{"Statins"}})
	if h := off.Search("statins", 3, nil); len(h) != 0 {
		t.Fatalf("HeadingWeight -1 still indexes headings: %+v", h)
	}
}

// Removing and replacing records leaves no posting behind, for terms,
// subwords, phrases and heading terms alike.
func TestRemoveLeavesNoPostings(t *testing.T) {
	ix := New(Params{})
	for i := range 50 {
		meta := map[string]any{HeadingsKey: []any{fmt.Sprintf("Section %d IL6", i)}}
		ix.Add(fmt.Sprintf("d%d#0", i), fmt.Sprintf("d%d", i), fmt.Sprintf("FOXO3a heart failure record %d", i), meta)
		ix.Add(fmt.Sprintf("d%d#1", i), fmt.Sprintf("d%d", i), "second chunk p16INK4a", nil)
	}
	ix.Add("d0#0", "d0", "replaced text", nil)
	for i := range 50 {
		ix.RemoveDocument(fmt.Sprintf("d%d", i))
	}
	if ix.Len() != 0 || ix.terms.len() != 0 || ix.phrases.len() != 0 || ix.total != 0 || ix.htotal != 0 || len(ix.byDoc) != 0 {
		t.Fatalf("after removing everything: len=%d postings=%d phrases=%d total=%d htotal=%d docs=%d",
			ix.Len(), ix.terms.len(), ix.phrases.len(), ix.total, ix.htotal, len(ix.byDoc))
	}
}

// A hostile heading path is bounded, and odd metadata shapes are ignored.
func TestHeadingTextBounded(t *testing.T) {
	long := make([]any, 1000)
	for i := range long {
		long[i] = strings.Repeat("x", 100)
	}
	if n := len(headingText(map[string]any{HeadingsKey: long})); n > maxHeadingBytes {
		t.Fatalf("heading text of %d bytes", n)
	}
	for _, v := range []any{nil, 42, []any{1, nil, map[string]any{}}, map[string]any{"a": "b"}} {
		if s := headingText(map[string]any{HeadingsKey: v}); s != "" {
			t.Fatalf("headingText(%v) = %q", v, s)
		}
	}
}

func FuzzSubwords(f *testing.F) {
	for _, s := range []string{"FOXO3a", "p16INK4a", "ǅemal1", "\xff1a", "A1b2C3d4E5f6G7h8I9", "ÉcoLE42"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parts := Subwords(s)
		if len(parts) > maxSubwords {
			t.Fatalf("%d subwords", len(parts))
		}
		own := Term(s)
		seen := map[string]bool{}
		for _, p := range parts {
			if p == "" || p == own || seen[p] {
				t.Fatalf("bad subword %q of %q (own %q, %q)", p, s, own, parts)
			}
			seen[p] = true
		}
	})
}
