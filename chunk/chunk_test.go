package chunk

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
)

func TestValidation(t *testing.T) {
	ctx := context.Background()
	doc := ParsedDocument{Text: "text"}
	bad := []Chunker{
		FixedSize{MaxTokens: -1}, FixedSize{OverlapPercent: 100}, FixedSize{OverlapPercent: -1},
		Hierarchical{ParentMaxTokens: 9000}, Hierarchical{ChildMaxTokens: 2000}, Hierarchical{ChildMaxTokens: 10, OverlapTokens: 10},
		Recursive{MaxTokens: 10, OverlapTokens: 10}, Default{MaxTokens: -5},
	}
	for _, c := range bad {
		_, err := c.Chunk(ctx, doc)
		if !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%#v: got %v, want ErrInvalidInput", c, err)
		}
	}
	_, err := Default{}.Chunk(ctx, ParsedDocument{Text: "ok \xffbad"})
	var ue *InvalidUTF8Error
	if !errors.As(err, &ue) || ue.Offset != 3 || !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	if _, err := (Default{}).Chunk(ctx, ParsedDocument{Text: "abc", Pages: []int{0, 5}}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("bad pages: %v", err)
	}
}

func TestSentencesSurviveAbbreviationsDecimalsURLs(t *testing.T) {
	text := "Dr. Smith paid 3.50 dollars at https://shop.example.com/a.html today. E.g. this is one sentence. Next sentence here."
	var got []string
	b := boundaries(nil, text, 0, len(text), true)
	prev := 0
	for _, x := range b {
		if x.level >= lvSentence {
			got = append(got, text[prev:trimRight(text, prev, int(x.pos))])
			prev = int(x.pos)
		}
	}
	got = append(got, text[prev:])
	want := []string{"Dr. Smith paid 3.50 dollars at https://shop.example.com/a.html today.", "E.g. this is one sentence.", "Next sentence here."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sentences\n got %q\nwant %q", got, want)
	}
}

func TestPagesHeadingsMetadata(t *testing.T) {
	text := "# Guide\n\nIntro text.\n\n## Install\n\nRun the installer. It is quick.\n\n## Use\n\nOpen the app."
	p2 := strings.Index(text, "## Use")
	meta := map[string]any{"source": "guide.md"}
	cs, err := Recursive{Markdown: true}.Chunk(context.Background(), ParsedDocument{Text: text, Pages: []int{0, p2}, Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		text, path string
		page       int
	}{
		{"# Guide\n\nIntro text.", "Guide", 1},
		{"## Install\n\nRun the installer. It is quick.", "Guide/Install", 1},
		{"## Use\n\nOpen the app.", "Guide/Use", 2},
	}
	if len(cs) != len(want) {
		t.Fatalf("%d chunks: %+v", len(cs), cs)
	}
	for i, w := range want {
		c := cs[i]
		if c.Text != w.text || strings.Join(c.Headings, "/") != w.path || c.Page != w.page || c.Metadata["source"] != "guide.md" {
			t.Errorf("chunk %d: %q %v page %d", i, c.Text, c.Headings, c.Page)
		}
		if text[c.Start:c.End] != c.Text {
			t.Errorf("chunk %d: offsets", i)
		}
	}
}

func TestMarkdownKeepsCodeWhole(t *testing.T) {
	code := "```go\nfunc f() {\n\n\treturn\n}\n```"
	text := "Some intro words here.\n\n" + code + "\n\nAfter the code."
	cs, err := Recursive{MaxTokens: 20, Markdown: true}.Chunk(context.Background(), ParsedDocument{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range cs {
		if strings.Contains(c.Text, code) {
			found = true
		}
	}
	if !found {
		t.Fatalf("fenced code split although it fits: %+v", cs)
	}
	check(t, ParsedDocument{Text: text}, cs, nil, 20, 0)
}

func TestFixedSizeOverlap(t *testing.T) {
	text := strings.Repeat("alpha beta gamma delta epsilon. ", 50)
	cs, err := FixedSize{MaxTokens: 40, OverlapPercent: 25}.Chunk(context.Background(), ParsedDocument{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	check(t, ParsedDocument{Text: text}, cs, nil, 40, 10)
	withOverlap := 0
	for _, c := range cs[1:] {
		if c.Overlap > 0 {
			withOverlap++
		}
	}
	if withOverlap != len(cs)-1 {
		t.Fatalf("%d of %d chunks have an overlap", withOverlap, len(cs)-1)
	}
}

func TestExactSpanCounts(t *testing.T) {
	// counter.exact must equal a fresh count for any span ending after a
	// non-space character.
	for _, text := range seeds {
		for _, tk := range []Tokenizer{CL100K(), O200K()} {
			c := newCounter(text, tk, boundaries(nil, text, 0, len(text), true), false)
			for a := 0; a < len(text); a += 11 {
				for b := a + 1; b <= len(text) && b < a+150; b += 7 {
					if !isBoundaryRune(text, a) || !isBoundaryRune(text, b) {
						continue
					}
					e := trimRight(text, a, b)
					if got, want := c.exact(a, e), tk.Count(text[a:e]); got != want {
						t.Fatalf("exact(%d,%d) of %q = %d, want %d", a, e, text[a:e], got, want)
					}
				}
			}
		}
	}
}

func isBoundaryRune(s string, i int) bool { return i >= len(s) || (s[i]&0xC0) != 0x80 }

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []Chunker{Default{}, FixedSize{}, Hierarchical{}, Recursive{}, None{}} {
		if _, err := c.Chunk(ctx, ParsedDocument{Text: "x"}); !errors.Is(err, context.Canceled) {
			t.Errorf("%T: %v", c, err)
		}
	}
}

func TestMarkdownSetextHeadings(t *testing.T) {
	text := "Guide\n=====\n\nIntro text.\n\nInstall\nsteps\n-------\n\nRun it.\n\n---\n\nA paragraph, then a rule above.\n\n- item\n---\n"
	cs, err := Recursive{Markdown: true}.Chunk(context.Background(), ParsedDocument{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, strings.Join(c.Headings, "/")+": "+c.Text)
	}
	want := []string{
		"Guide: Guide\n=====\n\nIntro text.",
		"Guide/Install steps: Install\nsteps\n-------\n\nRun it.\n\n---\n\nA paragraph, then a rule above.\n\n- item\n---",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	check(t, ParsedDocument{Text: text}, cs, nil, DefaultMaxTokens, 0)
}
