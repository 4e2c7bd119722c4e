package tokenizer

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
	"github.com/pkoukk/tiktoken-go-loader/assets"
)

var refOnce sync.Once

// reference returns tiktoken-go's encoder for name, loaded offline.
func reference(t testing.TB, name string) *tiktoken.Tiktoken {
	refOnce.Do(func() { tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader()) })
	tk, err := tiktoken.GetEncoding(name)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

var samples = []string{
	"", "a", " ", "  ", "\n", "\r\n", " \n ", "hello world", "Hello, World!",
	"I'm sure you'll've done it, THEY'RE here. 'S 'sam don't",
	"x = 12345678 + 3.14159; // π ≈ 3.14",
	"   leading and trailing   ", "tabs\tand\t\tspaces  \t\n\n\nnewlines\r\n\r\n",
	"naïve café résumé — “quotes” ‘single’ … ellipsis",
	"e\u0301 combining é, Z\u0351\u036e\u0325algo",
	"日本語のテキスト、句読点。中文文本！한국어 텍스트?",
	"emoji 👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇩🇪",
	"URL https://example.com/path?q=1&b=2#frag and e-mail a.b@c.de",
	"func main() {\n\tfmt.Println(\"hi\")\n}\n",
	"ALLCAPS CamelCaseWord iPhone McDONALD's ΣΊΣΥΦΟΣ ǅungla",
	"١٢٣٤٥ ٦٧ arabic digits and Ⅻ roman numerals ½ fractions",
	"\u00a0nbsp\u3000ideographic\u2028line sep\u0085nel",
	"////// ***** ----- ===== \n\n\n\t\t  }}}}",
	"'''''' \"\"\" '' 'll 'LL 'Re 'vE",
	"a/b/c\n/d\r/\n// comment //",
	strings.Repeat("abcdefghij", 40),
	strings.Repeat("0123456789", 20) + strings.Repeat(" ", 100) + "x",
}

func corpus(t testing.TB, max int) []string {
	out := slices.Clone(samples)
	root := filepath.Join(runtime.GOROOT(), "src", "strings")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Logf("no GOROOT sources: %v", err)
		return out
	}
	total := 0
	for _, e := range ents {
		if total > max {
			break
		}
		b, err := os.ReadFile(filepath.Join(root, e.Name()))
		if err != nil || !utf8.Valid(b) {
			continue
		}
		out = append(out, string(b))
		total += len(b)
	}
	return out
}

func TestCountEqualsTiktoken(t *testing.T) {
	max := 600_000
	if testing.Short() {
		max = 100_000
	}
	docs := corpus(t, max)
	for _, enc := range []*Encoding{CL100K(), O200K()} {
		ref := reference(t, enc.Name())
		for i, d := range docs {
			want := ref.Encode(d, nil, nil)
			got := enc.Encode(nil, d)
			if !slices.Equal(got, want) {
				t.Errorf("%s doc %d (%q...): tokens differ\n got %v\nwant %v", enc.Name(), i, head(d), head2(got), head2(want))
				continue
			}
			if n := enc.Count(d); n != len(want) {
				t.Errorf("%s doc %d: Count=%d, want %d", enc.Name(), i, n, len(want))
			}
			if dec := enc.Decode(got); dec != d {
				t.Errorf("%s doc %d: Decode does not round-trip", enc.Name(), i)
			}
		}
	}
}

func head(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

func head2(v []int) []int {
	if len(v) > 30 {
		return v[:30]
	}
	return v
}

// TestPiecesAddUp checks that token counts of spans between pre-token
// boundaries add up when the span ends after a non-space character (a cut
// right after white space can change how that white space is split): package
// chunk relies on it and always trims white space from chunk ends.
func TestPiecesAddUp(t *testing.T) {
	for _, enc := range []*Encoding{CL100K(), O200K()} {
		for _, d := range corpus(t, 50_000) {
			var ends, toks []int
			enc.Pieces(d, func(end, n int) { ends = append(ends, end); toks = append(toks, n) })
			for a := 0; a < len(ends); a += 7 {
				start := 0
				if a > 0 {
					start = ends[a-1]
				}
				sum := 0
				for b := a; b < len(ends) && b < a+40; b++ {
					sum += toks[b]
					if r, _ := utf8.DecodeLastRuneInString(d[:ends[b]]); b%5 == 0 && !unicode.IsSpace(r) {
						if n := enc.Count(d[start:ends[b]]); n != sum {
							t.Fatalf("%s: Count(%q)=%d, pieces sum %d", enc.Name(), d[start:ends[b]], n, sum)
						}
					}
				}
			}
		}
	}
}

func FuzzCountEqualsTiktoken(f *testing.F) {
	for _, s := range samples {
		f.Add(s)
	}
	cl := reference(f, "cl100k_base")
	o2 := reference(f, "o200k_base")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.Contains(s, "<|") {
			return
		}
		if got, want := CL100K().Encode(nil, s), cl.Encode(s, nil, nil); !slices.Equal(got, want) {
			t.Fatalf("cl100k %q: got %v want %v", s, got, want)
		}
		if got, want := O200K().Encode(nil, s), o2.Encode(s, nil, nil); !slices.Equal(got, want) {
			t.Fatalf("o200k %q: got %v want %v", s, got, want)
		}
	})
}

func TestInvalidUTF8(t *testing.T) {
	s := "ok \xff\xfe bad \xc3"
	if n := CL100K().Count(s); n <= 0 {
		t.Fatalf("Count=%d", n)
	}
	if dec := CL100K().Decode(CL100K().Encode(nil, s)); dec != s {
		t.Fatalf("round trip %q", dec)
	}
}

func BenchmarkCount(b *testing.B) {
	docs := corpus(b, 1<<20)
	n := 0
	for _, d := range docs {
		n += len(d)
	}
	CL100K().mustLoad()
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range docs {
			CL100K().Count(d)
		}
	}
}

// countUncached is Count without the word cache.
func countUncached(e *Encoding, text string) int {
	n := 0
	for i := 0; i < len(text); {
		j := e.next(text, i)
		n += e.pieceCount(text[i:j])
		i = j
	}
	return n
}

func TestWordCacheAgrees(t *testing.T) {
	// Many distinct words, repeated, so that slots are both hit and evicted.
	var b strings.Builder
	for r := 0; r < 3; r++ {
		for i := 0; i < 20000; i++ {
			fmt.Fprintf(&b, " identifier%dx camelCase%d 数字%d", i*7919%100003, i%977, i%13)
		}
	}
	text := b.String()
	for _, e := range []*Encoding{CL100K(), O200K()} {
		if got, want := e.Count(text), countUncached(e, text); got != want {
			t.Fatalf("%s: cached count %d, uncached %d", e.Name(), got, want)
		}
	}
}

func BenchmarkCountUncached(b *testing.B) {
	docs := corpus(b, 1<<20)
	n := 0
	for _, d := range docs {
		n += len(d)
	}
	CL100K().mustLoad()
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range docs {
			countUncached(CL100K(), d)
		}
	}
}

// mergeLong must split exactly as merge does; pieces are drawn from text
// that exercises many merges (repeats, mixed scripts, digits, emoji).
func TestMergeLongEqualsMerge(t *testing.T) {
	inputs := []string{
		strings.Repeat("a", 1000), strings.Repeat("ab", 700), strings.Repeat("😀", 300),
		strings.Repeat("Zyzzyva", 90), strings.Repeat("абв", 200), strings.Repeat("中文字", 150),
		strings.Repeat("0123456789", 60), strings.Repeat(" ", 600), strings.Repeat("!?", 400),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aeiounstrlAEBZ éüß中😀-_.0")
	for range 200 {
		b := make([]rune, 257+rng.IntN(700))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		inputs = append(inputs, string(b))
	}
	for _, e := range []*Encoding{CL100K(), O200K()} {
		e.mustLoad()
		for _, in := range inputs {
			want := e.merge(in, make([]part, 0, len(in)+1))
			got := e.mergeLong(in)
			if len(got) != len(want) {
				t.Fatalf("%s: %d parts, want %d, for %.40q", e.Name(), len(got), len(want), in)
			}
			for i := range got {
				if got[i].start != want[i].start {
					t.Fatalf("%s: part %d starts at %d, want %d, for %.40q", e.Name(), i, got[i].start, want[i].start, in)
				}
			}
		}
	}
}

// A single pre-token as long as a document is counted in n log n: 200,000
// repeated letters were minutes with the quadratic merge. The count must
// also match the encoding (tokens decode back to the input).
func TestLongPieceCount(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, in := range []string{strings.Repeat("a", 200_000), strings.Repeat("😀", 50_000)} {
			for _, e := range []*Encoding{CL100K(), O200K()} {
				toks := e.Encode(nil, in)
				if got := e.Count(in); got != len(toks) {
					t.Errorf("%s: Count %d, Encode %d tokens", e.Name(), got, len(toks))
				}
				if e.Decode(toks) != in {
					t.Errorf("%s: tokens do not decode to the input", e.Name())
				}
			}
		}
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("counting 200,000 repeated letters did not finish in 2 minutes")
	}
}

// TestCompactRanksMatchTiktokenFiles checks the embedded compact rank files
// (written by internal/genranks) against the .tiktoken files they were made
// from, token for token: a stale or damaged file would change every count.
func TestCompactRanksMatchTiktokenFiles(t *testing.T) {
	for _, e := range []*Encoding{CL100K(), O200K()} {
		if err := e.Load(); err != nil {
			t.Fatal(err)
		}
		data, err := assets.Assets.ReadFile(e.name + ".tiktoken")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) != len(e.ranks) {
			t.Fatalf("%s: %d ranks embedded, %d in the .tiktoken file", e.name, len(e.ranks), len(lines))
		}
		for _, line := range lines {
			b64, rank, _ := strings.Cut(line, " ")
			tok, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				t.Fatal(err)
			}
			want, err := strconv.Atoi(rank)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := e.ranks[string(tok)]; !ok || int(got) != want || e.decoder[want] != string(tok) {
				t.Fatalf("%s: token %q has rank %d (present %v), want %d", e.name, tok, got, ok, want)
			}
		}
	}
}

// BenchmarkLoad is the one-time cost of making an encoding ready: parsing
// the embedded compact ranks, against tiktoken-go parsing its .tiktoken file
// (the offline loader, no download) in the same run.
func BenchmarkLoad(b *testing.B) {
	for _, name := range []string{"cl100k_base", "o200k_base"} {
		b.Run("bedrockkit/"+name, func(b *testing.B) {
			for range b.N {
				if _, _, err := parseRanks(name + ".ranks"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("tiktoken-go/"+name, func(b *testing.B) {
			loader := tiktoken_loader.NewOfflineLoader()
			for range b.N {
				if _, err := loader.LoadTiktokenBpe(name + ".tiktoken"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
