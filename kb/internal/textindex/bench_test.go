package textindex

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// benchCorpus generates n abstract-like records (Zipf-distributed words,
// some gene-like names) so the benchmarks need no data files.
func benchCorpus(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.1, 1, 20000)
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for j := 0; j < 200; j++ {
			w := z.Uint64()
			if w%97 == 0 {
				fmt.Fprintf(&b, "FOXO%da ", w%10)
			} else {
				fmt.Fprintf(&b, "w%d ", w)
			}
		}
		out[i] = b.String()
	}
	return out
}

func benchIndex(b *testing.B, p Params, docs []string) *Index {
	b.Helper()
	ix := New(p)
	for i, d := range docs {
		ix.Add(fmt.Sprint(i), fmt.Sprint(i), d, map[string]any{HeadingsKey: []any{"Title w1 w2"}})
	}
	return ix
}

var benchParams = map[string]Params{"bm25": {PhraseWeight: -1, HeadingWeight: -1}, "default": {}}

func BenchmarkAdd(b *testing.B) {
	docs := benchCorpus(1000)
	for _, name := range []string{"bm25", "default"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				benchIndex(b, benchParams[name], docs)
			}
		})
	}
}

func BenchmarkSearch(b *testing.B) {
	docs := benchCorpus(5000)
	queries := []string{"w3 w17 w250 FOXO3a w9", "w1 w2 w3 w4 w5 w6 w7 w8", "w1234 w77 w5"}
	for _, name := range []string{"bm25", "default"} {
		ix := benchIndex(b, benchParams[name], docs)
		b.Run(name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				ix.Search(queries[i%len(queries)], 100, nil)
				i++
			}
		})
	}
}

// BenchmarkHeld reports the heap an index of 10,000 records holds, per
// record (B/record): the keyword index lives in memory for every chunk of
// a knowledge base whose store does not search text itself.
func BenchmarkHeld(b *testing.B) {
	docs := benchCorpus(10000)
	for _, name := range []string{"bm25", "default"} {
		b.Run(name, func(b *testing.B) {
			reportHeld(b, len(docs), func() *Index { return benchIndex(b, benchParams[name], docs) })
		})
	}
}

// BenchmarkHeldCorpus is BenchmarkHeld over a real corpus: the BEIR-format
// corpus.jsonl named by BEDROCKKIT_CORPUS (e.g. the SciFact one under
// ../shared/data), each record's text as one record. Skipped when unset.
func BenchmarkHeldCorpus(b *testing.B) {
	path := os.Getenv("BEDROCKKIT_CORPUS")
	if path == "" {
		b.Skip("set BEDROCKKIT_CORPUS to a corpus.jsonl")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var docs []string
	for line := range strings.SplitSeq(string(data), "\n") {
		var d struct{ Text string }
		if json.Unmarshal([]byte(line), &d) == nil && d.Text != "" {
			docs = append(docs, d.Text)
		}
	}
	reportHeld(b, len(docs), func() *Index {
		ix := New(Params{})
		for i, d := range docs {
			ix.Add(strconv.Itoa(i), strconv.Itoa(i), d, nil)
		}
		return ix
	})
}

// reportHeld reports the live heap an index of n records made by build
// holds, per record (B/record).
func reportHeld(b *testing.B, n int, build func() *Index) {
	var held float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ix := build()
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
		runtime.KeepAlive(ix)
	}
	b.ReportMetric(held, "B/record")
}

// BenchmarkReplace replaces one record of an index of 50,000 (a modified
// document's re-sync): its postings leave the lists of every term and
// phrase it has, common ones included.
func BenchmarkReplace(b *testing.B) {
	docs := benchCorpus(50000)
	ix := benchIndex(b, Params{}, docs)
	i := 0
	for b.Loop() {
		id := strconv.Itoa(i % len(docs))
		ix.RemoveDocument(id)
		ix.Add(id, id, docs[(i+1)%len(docs)], nil)
		i += 7919
	}
}
