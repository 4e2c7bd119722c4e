package chunk

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzOpportunities checks that the lazy packer's backward and forward
// searches find exactly the opportunities, with the same levels, as the
// eager boundaries pass.
func FuzzOpportunities(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add("a\u3000\u3000b 。x。 y\n \n\tz. Next")
	f.Add("\u00a0a  \n\n  b\u0301 c")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		want := boundaries(nil, s, 0, len(s), true)
		// Backward, from the end.
		var got []boundary
		for q := len(s); ; {
			x, lv := lastOpp(s, 0, q)
			if x < 0 {
				break
			}
			got = append([]boundary{{int32(x), lv}}, got...)
			q = x - 1
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q:\nlastOpp    %v\nboundaries %v", s, got, want)
		}
		// Forward, from every opportunity and the start.
		prev := 0
		for _, b := range append(want, boundary{pos: -1}) {
			x := nextOpp(s, prev, len(s), len(s))
			if x != int(b.pos) {
				t.Fatalf("%q: nextOpp(%d) = %d, want %d", s, prev, x, b.pos)
			}
			prev = x
		}
	})
}

// chunkBoth runs c with lazy packing and with the eager packer.
func chunkBoth(t *testing.T, c Chunker, text string) (lazy, eager []Chunk) {
	t.Helper()
	var err error
	lazy, err = c.Chunk(context.Background(), ParsedDocument{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	eagerOnly = true
	defer func() { eagerOnly = false }()
	eager, err = c.Chunk(context.Background(), ParsedDocument{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return lazy, eager
}

// FuzzLazyPacking checks the invariants of lazily packed chunks for the
// Characters tokenizer and, for cl100k (whose approximate counts are the
// same in both packers), that lazy and eager packing agree.
func FuzzLazyPacking(f *testing.F) {
	fuzzStrategy(f, func(t *testing.T, text string, a, b uint8) {
		max := 1 + int(a)%64
		ov := int(b) % max
		for _, c := range []Chunker{
			Recursive{MaxTokens: max, OverlapTokens: ov},
			Default{MaxTokens: max},
			FixedSize{MaxTokens: max, OverlapPercent: int(b) % 100},
		} {
			overlap := 0
			switch c := c.(type) {
			case Recursive:
				overlap = c.OverlapTokens
			case FixedSize:
				overlap = c.MaxTokens * c.OverlapPercent / 100
			}
			lazy, eager := chunkBoth(t, c, text)
			check(t, ParsedDocument{Text: text}, lazy, nil, max, overlap)
			if !reflect.DeepEqual(lazy, eager) {
				t.Fatalf("%#v on %q:\nlazy  %+v\neager %+v", c, text, lazy, eager)
			}
			// Characters: sizes counted differently by the eager packer
			// (white space before the first word), so only the invariants.
			chars := 4 * max
			var cc Chunker
			switch c.(type) {
			case Recursive:
				cc = Recursive{MaxTokens: chars, OverlapTokens: ov * 4, Tokenizer: Characters}
				overlap = ov * 4
			case Default:
				cc = Default{MaxTokens: chars, Tokenizer: Characters}
				overlap = 0
			case FixedSize:
				cc = FixedSize{MaxTokens: chars, OverlapPercent: int(b) % 100, Tokenizer: Characters}
				overlap = chars * (int(b) % 100) / 100
			}
			cs, err := cc.Chunk(context.Background(), ParsedDocument{Text: text})
			if err != nil {
				t.Fatal(err)
			}
			check(t, ParsedDocument{Text: text}, cs, Characters, chars, overlap)
		}
	})
}

func TestLazyRecursivePrefersParagraphs(t *testing.T) {
	text := "First paragraph, one sentence. Two.\n\nSecond paragraph is here and it goes on for a while."
	cs, err := Recursive{MaxTokens: 70, Tokenizer: Characters}.Chunk(context.Background(), ParsedDocument{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Text != "First paragraph, one sentence. Two." {
		t.Fatalf("got %+v", cs)
	}
	check(t, ParsedDocument{Text: text}, cs, Characters, 70, 0)
}

// FuzzChooseRecursive checks the level-by-level search of the recursive
// policy against walking every opportunity.
func FuzzChooseRecursive(f *testing.F) {
	for _, s := range seeds {
		f.Add(s, uint16(7))
	}
	f.Add("pkg a, func F() int\npkg a, func G() int\npkg b, const C = 1\n", uint16(13))
	f.Add("one two.\nthree four five\nsix. seven\u3000eight", uint16(5))
	f.Add("x \u3000\n\u0301y. z", uint16(3))
	f.Fuzz(func(t *testing.T, s string, stride uint16) {
		if !utf8.ValidString(s) || len(s) == 0 {
			return
		}
		p := &packer{text: s}
		step := 1 + int(stride)%17
		for a := 0; a < len(s); a += 1 + len(s)/64 {
			for a < len(s) && !utf8.RuneStart(s[a]) {
				a++
			}
			for q := a + 1; q < len(s) && q < a+300; q += step {
				x, lv := lastOpp(s, a+1, q)
				if x < 0 {
					continue
				}
				if got, want := p.chooseRecursive(a, q, x, lv), p.chooseRecursiveSlow(a, q); got != want {
					t.Fatalf("%q (a=%d, q=%d): chooseRecursive %d, walking every opportunity %d", s, a, q, got, want)
				}
			}
		}
	})
}
