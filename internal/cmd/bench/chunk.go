package main

// The chunk suite: bedrockkit's chunk package against langchaingo v0.1.14's
// TokenSplitter (cl100k, 300 tokens) and RecursiveCharacter (1,000
// characters) on a ~20 MB corpus of Go source, Markdown, HTML and licence
// text read from the local Go installation, plus a full-corpus check that our
// cl100k encoder produces exactly tiktoken-go's tokens. Recursive chunking is
// compared at the same size and unit as langchaingo: 1,000 code points, and
// 300 cl100k tokens (RecursiveCharacter given a tiktoken-go LenFunc). Rounds
// interleave every splitter so that load from other processes on a shared
// machine falls on both sides.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
	"github.com/tmc/langchaingo/textsplitter"

	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/internal/tokenizer"
)

func init() { commands["chunk"] = runChunk }

type chunkResult struct {
	name   string
	secs   float64
	allocs uint64
	sizes  []int // chunk sizes in the run's unit
	unit   string
}

func runChunk(args []string) error {
	fl := flag.NewFlagSet("chunk", flag.ContinueOnError)
	mb := fl.Float64("mb", 20, "corpus size in MB, read from $(go env GOROOT)")
	runs := fl.Int("runs", 3, "timed runs per splitter; medians are reported")
	match := fl.String("match", "", "only run splitters whose name matches this regular expression (ratios of skipped pairs print as 0)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	only, err := regexp.Compile(*match)
	if err != nil {
		return err
	}
	docs, total, err := chunkCorpus(int(*mb * 1e6))
	if err != nil {
		return err
	}
	kinds := map[string]int{}
	for _, d := range docs {
		kinds[d.kind] += len(d.text)
	}
	fmt.Printf("corpus: %d files, %.1f MB (go %.1f MB, markdown %.1f MB, html %.1f MB, licence/text %.1f MB) from %s\n",
		len(docs), float64(total)/1e6, float64(kinds["go"])/1e6, float64(kinds["md"])/1e6, float64(kinds["html"])/1e6, float64(kinds["txt"])/1e6, runtime.GOROOT())

	tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
	tk, err := tiktoken.GetEncoding("cl100k_base")
	if err != nil {
		return err
	}
	enc := tokenizer.CL100K()
	if err := enc.Load(); err != nil {
		return err
	}
	cl := chunk.CL100K()
	ctx := context.Background()

	// 1. Exact token equality on the whole corpus, and the encoders' speed.
	equal, mismatches := true, 0
	var refSecs, ourSecs []float64
	var exactTotal, estTotal int
	var estAbsErr float64
	for r := 0; r < max(1, *runs); r++ {
		var refCounts []int
		t0 := time.Now()
		for _, d := range docs {
			refCounts = append(refCounts, len(tk.Encode(d.text, nil, nil)))
		}
		refSecs = append(refSecs, time.Since(t0).Seconds())
		t0 = time.Now()
		ours := make([]int, len(docs))
		for i, d := range docs {
			ours[i] = enc.Count(d.text)
		}
		ourSecs = append(ourSecs, time.Since(t0).Seconds())
		if r == 0 {
			for i, d := range docs {
				if ours[i] != refCounts[i] {
					equal = false
					mismatches++
					if mismatches <= 3 {
						fmt.Printf("MISMATCH %s: ours %d, tiktoken-go %d\n", d.path, ours[i], refCounts[i])
					}
				}
				est := chunk.Estimate.Count(d.text)
				exactTotal += ours[i]
				estTotal += est
				if ours[i] > 0 {
					estAbsErr += math.Abs(float64(est-ours[i])) / float64(ours[i]) * float64(len(d.text))
				}
			}
		}
	}
	// Full token-ID equality on the whole corpus (not only counts).
	idsEqual := true
	for _, d := range docs {
		if !slices.Equal(enc.Encode(nil, d.text), tk.Encode(d.text, nil, nil)) {
			idsEqual = false
			break
		}
	}
	equal = equal && idsEqual
	mbps := func(secs float64) float64 { return float64(total) / 1e6 / secs }
	fmt.Printf("\nencoders (cl100k_base, whole corpus, %d tokens): tiktoken-go %.1f MB/s, ours %.1f MB/s (%.1fx); counts equal on %d/%d files, token ids equal: %v\n",
		exactTotal, mbps(median(refSecs)), mbps(median(ourSecs)), median(refSecs)/median(ourSecs), len(docs)-mismatches, len(docs), idsEqual)
	fmt.Printf("estimator (chunk.Estimate): total %d vs exact %d (%+.1f%%), mean absolute error per file %.1f%% (byte-weighted)\n",
		estTotal, exactTotal, 100*float64(estTotal-exactTotal)/float64(exactTotal), 100*estAbsErr/float64(total))

	// 2. Splitters, compared like with like: the same chunk size in the same
	// unit and no overlap. Sizes in characters are code points for both
	// (langchaingo's default LenFunc is utf8.RuneCountInString, ours is
	// chunk.Characters). For token sizes langchaingo's RecursiveCharacter gets
	// a LenFunc counting cl100k tokens with tiktoken-go.
	tokenSplitter := textsplitter.NewTokenSplitter(textsplitter.WithChunkSize(300), textsplitter.WithChunkOverlap(0), textsplitter.WithEncodingName("cl100k_base"))
	recursive := textsplitter.NewRecursiveCharacter(textsplitter.WithChunkSize(1000), textsplitter.WithChunkOverlap(0))
	recursiveTok := textsplitter.NewRecursiveCharacter(textsplitter.WithChunkSize(300), textsplitter.WithChunkOverlap(0),
		textsplitter.WithLenFunc(func(s string) int { return len(tk.Encode(s, nil, nil)) }))
	countTokens := func(s string) int { return cl.Count(s) }
	countChars := utf8.RuneCountInString

	type splitter struct {
		name, unit string
		size       func(string) int
		split      func(text string) ([]string, error)
	}
	ourSplit := func(c chunk.Chunker) func(string) ([]string, error) {
		return func(text string) ([]string, error) {
			cs, err := c.Chunk(ctx, chunk.ParsedDocument{Text: text})
			out := make([]string, len(cs))
			for i, c := range cs {
				out[i] = c.Text
			}
			return out, err
		}
	}
	const (
		iTokenLC = iota
		iFixed
		iDefault
		iRecLC
		iRec
		iRecTokLC
		iRecTok
		iRecMD
	)
	splitters := []splitter{
		iTokenLC:  {"langchaingo TokenSplitter (cl100k, 300 tok)", "tokens", countTokens, tokenSplitter.SplitText},
		iFixed:    {"bedrockkit FixedSize (cl100k exact, 300 tok)", "tokens", countTokens, ourSplit(chunk.FixedSize{MaxTokens: 300})},
		iDefault:  {"bedrockkit Default (cl100k exact, 300 tok, sentences)", "tokens", countTokens, ourSplit(chunk.Default{})},
		iRecLC:    {"langchaingo RecursiveCharacter (1000 chars)", "chars", countChars, recursive.SplitText},
		iRec:      {"bedrockkit Recursive (1000 chars)", "chars", countChars, ourSplit(chunk.Recursive{MaxTokens: 1000, Tokenizer: chunk.Characters})},
		iRecTokLC: {"langchaingo RecursiveCharacter (tiktoken-go, 300 tok)", "tokens", countTokens, recursiveTok.SplitText},
		iRecTok:   {"bedrockkit Recursive (cl100k exact, 300 tok)", "tokens", countTokens, ourSplit(chunk.Recursive{})},
		iRecMD:    {"bedrockkit Recursive Markdown (cl100k, 300 tok)", "tokens", countTokens, ourSplit(chunk.Recursive{Markdown: true})},
	}
	// Runs are interleaved (every splitter once per round, the order
	// reversed every other round) so that load from other processes on a
	// shared machine falls on ours and theirs alike.
	secs := make([][]float64, len(splitters))
	allocs := make([][]float64, len(splitters))
	sizes := make([][]int, len(splitters))
	for r := 0; r < max(1, *runs); r++ {
		for k := range splitters {
			i := k
			if r%2 == 1 {
				i = len(splitters) - 1 - k
			}
			s := splitters[i]
			if !only.MatchString(s.name) {
				continue
			}
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			t0 := time.Now()
			var all [][]string
			for _, d := range docs {
				out, err := s.split(d.text)
				if err != nil {
					return fmt.Errorf("%s on %s: %w", s.name, d.path, err)
				}
				all = append(all, out)
			}
			secs[i] = append(secs[i], time.Since(t0).Seconds())
			runtime.ReadMemStats(&m1)
			allocs[i] = append(allocs[i], float64(m1.Mallocs-m0.Mallocs))
			if r == 0 {
				for _, out := range all {
					for _, c := range out {
						sizes[i] = append(sizes[i], s.size(c))
					}
				}
			}
		}
	}
	results := make([]chunkResult, len(splitters))
	for i, s := range splitters {
		if len(secs[i]) == 0 {
			secs[i] = []float64{math.NaN()}
			allocs[i] = []float64{0}
		}
		results[i] = chunkResult{name: s.name, secs: median(secs[i]), allocs: uint64(median(allocs[i])), sizes: sizes[i], unit: s.unit}
	}

	fmt.Printf("\n%-55s %9s %12s %8s %16s\n", fmt.Sprintf("splitter (medians of %d interleaved runs)", max(1, *runs)), "MB/s", "allocs", "chunks", "size p50/p95/max")
	for _, r := range results {
		if math.IsNaN(r.secs) {
			continue
		}
		sort.Ints(r.sizes)
		fmt.Printf("%-55s %9.1f %12d %8d %6d/%d/%d %s\n", r.name, mbps(r.secs), r.allocs, len(r.sizes),
			pct(r.sizes, 50), pct(r.sizes, 95), pct(r.sizes, 100), r.unit)
	}
	// Ratios: median over rounds of the per-round ratio (ours and theirs
	// measured back to back), next to the ratio of the medians.
	ratio := func(theirs, ours int) float64 {
		if len(secs[theirs]) != len(secs[ours]) {
			return 0
		}
		v := make([]float64, len(secs[ours]))
		for r := range v {
			v[r] = secs[theirs][r] / secs[ours][r]
		}
		if m := median(v); !math.IsNaN(m) {
			return m
		}
		return 0
	}
	tokenRatio := ratio(iTokenLC, iFixed)
	recRatio := ratio(iRecLC, iRec)
	recTokRatio := ratio(iRecTokLC, iRecTok)
	fmt.Printf("\nratios (median of per-round ratios): FixedSize vs TokenSplitter %.1fx (vs tiktoken-go's bare Encode, a bound for any splitter built on it: %.1fx)\n",
		tokenRatio, median(refSecs)/results[iFixed].secs)
	fmt.Printf("Recursive vs RecursiveCharacter: 1000 chars %.2fx (allocs %d vs %d); 300 cl100k tokens %.2fx (allocs %d vs %d)\n",
		recRatio, results[iRec].allocs, results[iRecLC].allocs, recTokRatio, results[iRecTok].allocs, results[iRecTokLC].allocs)
	fmt.Println("like with like: same chunk size and unit, no overlap, whole corpus, one Chunk/SplitText call per file. langchaingo splits at \"\\n\\n\", \"\\n\", \" \", \"\";")
	fmt.Println("  ours at blank lines, sentence ends, line breaks, white space, then grapheme clusters (a superset: sentences are an extra level), and returns offsets")
	fmt.Println("note: TokenSplitter.SplitText rebuilds its tiktoken encoder on every call (one call per file here)")
	fmt.Printf("token_mbps=%.1f token_vs_langchaingo=%.2f recursive_vs_langchaingo=%.2f tokens_equal=%v\n",
		mbps(results[iFixed].secs), tokenRatio, recRatio, equal)
	if !equal {
		return errors.New("token counts differ from tiktoken-go")
	}
	return nil
}

type corpusDoc struct{ path, kind, text string }

// chunkCorpus reads up to limit bytes of valid UTF-8 text from GOROOT:
// Markdown, HTML and licence/README files first (all of them), then Go
// source files, in a fixed order so every run sees the same corpus.
func chunkCorpus(limit int) ([]corpusDoc, int, error) {
	root := runtime.GOROOT()
	if root == "" {
		return nil, 0, errors.New("GOROOT not found; install Go")
	}
	var prose, code []corpusDoc
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if d.Name() == "testdata" || d.Name() == "pkg" && filepath.Dir(p) == root {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		kind := ""
		switch {
		case strings.HasSuffix(name, ".go"):
			kind = "go"
		case strings.HasSuffix(name, ".md"):
			kind = "md"
		case strings.HasSuffix(name, ".html"):
			kind = "html"
		case strings.HasPrefix(name, "LICENSE") || strings.HasPrefix(name, "README") || strings.HasPrefix(name, "PATENTS") || strings.HasSuffix(name, ".txt"):
			kind = "txt"
		default:
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > 2<<20 || info.Size() == 0 {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil || !utf8.Valid(b) {
			return nil
		}
		doc := corpusDoc{path: p, kind: kind, text: string(b)}
		if kind == "go" {
			code = append(code, doc)
		} else {
			prose = append(prose, doc)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	var docs []corpusDoc
	total := 0
	for _, d := range append(prose, code...) {
		if total >= limit {
			break
		}
		docs = append(docs, d)
		total += len(d.text)
	}
	return docs, total, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	return s[len(s)/2]
}

func pct(sorted []int, p int) int {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted) - 1) * p / 100
	return sorted[i]
}
