package classify

import (
	"strings"
	"testing"
)

func TestSpellKind(t *testing.T) {
	for _, c := range []struct {
		w     string
		kind  uint32 // a kind the word must be read with; 0: not read
		split int
	}{
		{"thraet", kindNegative, 0}, // swapped
		{"klil", kindThreat, 0},     // swapped, four letters
		{"vermn", kindNegative, 0},  // dropped
		{"disgustng", kindNegative, 0},
		{"sccum", 0, 0},                 // four letters + 1: too short to read an added letter
		{"murderrer", 0, 0},             // two letters off
		{"exterrminate", kindThreat, 0}, // doubled
		{"manybitches", kindSlur, 4},    // run together
		{"massivescumbags", kindNegative, 7},
		{"ihate", kindNegative, 1},
		{"hatewomen", kindNegative | kindIdentity, 4},
		{"mulsims", kindIdentity, 0},
		{"fukc", kindProfane, 0},
		// English words that are one letter from a lexicon word, or
		// split into two: left alone.
		{"treat", 0, 0}, {"best", 0, 0}, {"beats", 0, 0}, {"therapist", 0, 0}, {"money", 0, 0},
		{"heat", 0, 0}, {"laughter", 0, 0}, {"mormons", 0, 0}, {"ills", 0, 0},
		// Not letters, too long, too short.
		{"k1ll", 0, 0}, {strings.Repeat("a", 30), 0, 0}, {"kil", 0, 0}, {"", 0, 0},
	} {
		k, split := spellKind(c.w)
		if c.kind == 0 && k != 0 || c.kind != 0 && k&c.kind != c.kind || split != c.split {
			t.Errorf("spellKind(%q) = %b, %d; want kind %b, split %d", c.w, k, split, c.kind, c.split)
		}
	}
}

func FuzzSpellKind(f *testing.F) {
	for _, s := range []string{"thraet", "manybitches", "therapist", "", "a", "zzzzzzzzzzzzzzzzzzzzzzzz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, w string) {
		k, split := spellKind(w)
		if split < 0 || split > len(w) || split > 0 && (split == len(w) || k == 0) {
			t.Fatalf("spellKind(%q) = %b, %d", w, k, split)
		}
		if k&^fuzzyKinds != 0 {
			t.Fatalf("spellKind(%q) read kinds %b outside %b", w, k, fuzzyKinds)
		}
	})
}
