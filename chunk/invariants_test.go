package chunk

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// seeds are shared by the fuzz targets: prose, Markdown, code, CJK,
// combining marks, emoji, URLs, decimals, abbreviations, pathological runs.
var seeds = []string{
	"",
	"   \n\t  ",
	"Hello.",
	"Dr. Smith paid $3.50 for e.g. apples. Then he left! Did he? Yes… see https://example.com/a.b?c=d. The end.",
	"# Title\n\nIntro paragraph. Second sentence.\n\n## Part A\n\n- item one\n- item two\n\n```go\nfunc main() {\n\n\tprintln(\"x\")\n}\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n### Deep\n\ntext",
	"package main\n\nimport \"fmt\"\n\n// Main prints.\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n",
	"日本語の文章です。二つ目の文です！三つ目？中文句子。",
	"e\u0301e\u0301e\u0301 Z\u0351\u036e\u0325\u0351\u036e\u0325a \u0301 leading mark",
	"👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦 🇫🇷🇩🇪🇫🇷 👍🏽👍🏽",
	strings.Repeat("a", 3000),
	strings.Repeat("word ", 400),
	strings.Repeat("Sentence number one is here. ", 80),
	"line1\r\nline2\r\n\r\nline3 \u00a0nbsp\u3000ideographic",
	"J. R. R. Tolkien wrote it. U.S. law applies. Version 1.2.3 was released. It costs 4.5 dollars.",
}

// check verifies the invariants every strategy promises.
func check(t *testing.T, doc ParsedDocument, chunks []Chunk, tk Tokenizer, max, overlap int) {
	t.Helper()
	text := doc.Text
	if tk == nil {
		tk = CL100K()
	}
	covered := make([]bool, len(text))
	prevEnd := map[int]int{0: 0, 1: 0}
	prevStart := map[int]int{0: -1, 1: -1}
	for i, c := range chunks {
		o := c.Start - c.Overlap
		if c.Overlap < 0 || o < 0 || c.Start >= c.End || c.End > len(text) {
			t.Fatalf("chunk %d: bad offsets Start=%d End=%d Overlap=%d (len %d)", i, c.Start, c.End, c.Overlap, len(text))
		}
		if c.Text != text[o:c.End] {
			t.Fatalf("chunk %d: Text %q != text[%d:%d] %q", i, c.Text, o, c.End, text[o:c.End])
		}
		for _, p := range []int{o, c.Start, c.End} {
			if p < len(text) && !utf8.RuneStart(text[p]) {
				t.Fatalf("chunk %d: offset %d splits a UTF-8 sequence", i, p)
			}
			if !isGraphemeBoundary(text, p) {
				t.Fatalf("chunk %d: offset %d splits a grapheme cluster in %q", i, p, text)
			}
		}
		if c.Start < prevEnd[c.Level] {
			t.Fatalf("chunk %d: Start %d before previous End %d", i, c.Start, prevEnd[c.Level])
		}
		if c.Overlap > 0 {
			if o < prevStart[c.Level] {
				t.Fatalf("chunk %d: overlap starts at %d, before the previous chunk's start %d", i, o, prevStart[c.Level])
			}
			if n := tk.Count(text[o:trimRight(text, o, c.Start)]); n > overlap {
				t.Fatalf("chunk %d: overlap has %d tokens, more than %d", i, n, overlap)
			}
		}
		prevEnd[c.Level], prevStart[c.Level] = c.End, c.Start
		if n := tk.Count(c.Text); n != c.Tokens {
			t.Fatalf("chunk %d: Tokens=%d but Count=%d", i, c.Tokens, n)
		}
		lim := max
		if c.Level == 1 {
			lim = 1 << 30 // parents are checked by the caller
		}
		if c.Tokens > lim && !(c.Overlap == 0 && uniseg.GraphemeClusterCount(c.Text) == 1) {
			t.Fatalf("chunk %d: %d tokens, more than %d: %q", i, c.Tokens, lim, c.Text)
		}
		if c.Level == 0 {
			for p := c.Start; p < c.End; p++ {
				covered[p] = true
			}
		}
	}
	for p := 0; p < len(text); {
		sp, w := spaceAt(text, p)
		if !sp && !covered[p] {
			t.Fatalf("byte %d (%q) of %q is in no chunk", p, text[p:p+w], text)
		}
		p += w
	}
}

func fuzzStrategy(f *testing.F, run func(t *testing.T, text string, a, b uint8)) {
	for i, s := range seeds {
		f.Add(s, uint8(i*7), uint8(i*13))
	}
	f.Fuzz(func(t *testing.T, text string, a, b uint8) {
		if !utf8.ValidString(text) {
			_, err := Default{}.Chunk(context.Background(), ParsedDocument{Text: text})
			if err == nil {
				t.Fatal("invalid UTF-8 accepted")
			}
			return
		}
		run(t, text, a, b)
	})
}

func FuzzDefault(f *testing.F) {
	fuzzStrategy(f, func(t *testing.T, text string, a, _ uint8) {
		max := 1 + int(a)%64
		cs, err := Default{MaxTokens: max}.Chunk(context.Background(), ParsedDocument{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		check(t, ParsedDocument{Text: text}, cs, nil, max, 0)
	})
}

func FuzzFixedSize(f *testing.F) {
	fuzzStrategy(f, func(t *testing.T, text string, a, b uint8) {
		s := FixedSize{MaxTokens: 1 + int(a)%64, OverlapPercent: int(b) % 100}
		for _, tk := range []Tokenizer{nil, O200K(), Characters, Estimate} {
			s.Tokenizer = tk
			cs, err := s.Chunk(context.Background(), ParsedDocument{Text: text})
			if err != nil {
				t.Fatal(err)
			}
			check(t, ParsedDocument{Text: text}, cs, tk, s.MaxTokens, s.MaxTokens*s.OverlapPercent/100)
		}
	})
}

func FuzzHierarchical(f *testing.F) {
	fuzzStrategy(f, func(t *testing.T, text string, a, b uint8) {
		child := 1 + int(a)%32
		s := Hierarchical{ParentMaxTokens: child * (1 + int(b)%4), ChildMaxTokens: child, OverlapTokens: int(b) % child}
		cs, err := s.Chunk(context.Background(), ParsedDocument{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		check(t, ParsedDocument{Text: text}, cs, nil, child, s.OverlapTokens)
		for i, c := range cs {
			if c.Level == 1 {
				if c.Parent != -1 || c.Tokens > s.ParentMaxTokens && uniseg.GraphemeClusterCount(c.Text) > 1 {
					t.Fatalf("parent %d: %+v", i, c)
				}
				continue
			}
			p := cs[c.Parent]
			if p.Level != 1 || c.Start < p.Start || c.End > p.End || c.Start-c.Overlap < p.Start {
				t.Fatalf("child %d [%d,%d) outside parent [%d,%d)", i, c.Start, c.End, p.Start, p.End)
			}
		}
	})
}

func FuzzRecursive(f *testing.F) {
	fuzzStrategy(f, func(t *testing.T, text string, a, b uint8) {
		max := 1 + int(a)%64
		s := Recursive{MaxTokens: max, OverlapTokens: int(b) % max, Markdown: b%2 == 0}
		cs, err := s.Chunk(context.Background(), ParsedDocument{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		check(t, ParsedDocument{Text: text}, cs, nil, max, s.OverlapTokens)
	})
}

func FuzzNone(f *testing.F) {
	fuzzStrategy(f, func(t *testing.T, text string, _, _ uint8) {
		cs, err := None{}.Chunk(context.Background(), ParsedDocument{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) > 1 {
			t.Fatalf("%d chunks", len(cs))
		}
		check(t, ParsedDocument{Text: text}, cs, nil, 1<<30, 0)
	})
}
