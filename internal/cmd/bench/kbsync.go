package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func init() { commands["kbsync"] = runKBSync }

// runKBSync syncs a generated corpus into a durable localindex through
// kb.KnowledgeBase.Sync (the public API) and reports throughput and
// memory: documents of about -words words (Bedrock's default chunking
// makes about 300-token chunks of them) are generated as the source lists
// them, never held together; the embedder is a fast deterministic one
// (hash-seeded random unit vectors), so the measurement is kb's pipeline
// and the store, not a model. It prints progress every 30 s, the peak
// resident memory, the resident memory left after Sync (what the store and
// knowledge base hold) and per chunk, then re-syncs the unchanged corpus
// (fingerprints only, no embedding).
func runKBSync(args []string) error {
	fs := flag.NewFlagSet("kbsync", flag.ContinueOnError)
	chunks := fs.Int("chunks", 1000000, "chunks to make (about; documents = chunks / per-doc)")
	perDoc := fs.Int("per-doc", 10, "chunks per document (about)")
	dim := fs.Int("dim", 384, "embedding dimensions")
	noSync := fs.Bool("nosync", true, "localindex Options.NoSync (no fsync per write)")
	memFlag := fs.String("mem", "", "memory budget, e.g. 14GiB (default: 75% of MemAvailable)")
	concurrency := fs.Int("concurrency", 0, "kb Options.Concurrency (0: default)")
	batch := fs.Int("batch", 0, "kb Options.BatchSize (0: default)")
	memProfile := fs.String("memprofile", "", "write a heap profile after the first Sync to this file")
	quant := fs.String("quantization", "auto", "localindex Quantization: auto, float32 or int8 (int8 keeps the float32 vectors on disk)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the first Sync to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	budget, err := memBudget(*memFlag)
	if err != nil {
		return err
	}
	q, ok := map[string]localindex.Quantization{"auto": localindex.Auto, "float32": localindex.Float32, "int8": localindex.Int8}[*quant]
	if !ok {
		return fmt.Errorf("kbsync: -quantization %q: use auto, float32 or int8", *quant)
	}
	debug.SetMemoryLimit(budget * 9 / 10)
	wd := startWatchdog(budget)
	defer wd.stop()
	tmp, err := os.MkdirTemp("", "bedrockkit-bench-kbsync")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ctx := context.Background()
	docs := max(1, *chunks / *perDoc)
	// About 300 tokens a chunk at about 1.3 tokens a word.
	words := *perDoc * 230
	fmt.Printf("# kbsync bench: %d documents x ~%d words (~%d chunks), dim %d, quantization %s, NoSync=%v, GOMAXPROCS=%d, budget %.1f GiB, load %s\n",
		docs, words, *chunks, *dim, *quant, *noSync, runtime.GOMAXPROCS(0), gib(budget), loadAvg())
	freeMemory()
	base := residentBytes()
	wd.resetPeak()
	store, err := localindex.Open(localindex.Options{Dir: filepath.Join(tmp, "ix"), NoSync: *noSync, Dimensions: *dim, Quantization: q})
	if err != nil {
		return err
	}
	defer store.Close()
	emb := &hashEmbedder{dim: *dim}
	k, err := kb.New(kb.Options{Store: store, Embedder: emb, EmbedderID: "bench-hash", Concurrency: *concurrency, BatchSize: *batch})
	if err != nil {
		return err
	}
	src := &genSource{docs: docs, words: words}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
	}
	start := time.Now()
	last := start
	var progress kb.SyncProgress
	rep, err := k.Sync(ctx, src, kb.SyncOptions{Progress: func(p kb.SyncProgress) {
		progress = p
		if time.Since(last) > 30*time.Second {
			last = time.Now()
			el := time.Since(start).Seconds()
			fmt.Printf("#   ... %d documents done, %d chunks in %.0f s (%.0f chunks/s), resident %.2f GiB, peak %.2f GiB, load %s\n",
				p.Done, p.Chunks, el, float64(p.Chunks)/el, gib(residentBytes()), gib(wd.peak()), loadAvg())
		}
	}})
	el := time.Since(start)
	pprof.StopCPUProfile()
	if err != nil {
		return fmt.Errorf("sync after %d chunks: %w", progress.Chunks, err)
	}
	peak := wd.peak()
	freeMemory()
	after := residentBytes()
	if *memProfile != "" {
		f, err := os.Create(*memProfile)
		if err != nil {
			return err
		}
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	fmt.Printf("sync: %d documents (%d new, %d failed), %d chunks, %d embed calls in %.1f s: %.0f chunks/s, %.0f documents/s\n",
		rep.Scanned, rep.New, rep.Failed, rep.Chunks, rep.EmbedCalls, el.Seconds(), float64(rep.Chunks)/el.Seconds(), float64(rep.Scanned)/el.Seconds())
	fmt.Printf("memory: peak %.2f GiB during Sync, %.2f GiB held after it (%.0f B per chunk: the store's records, text and vectors, and kb's state); %.2f GiB before\n",
		gib(peak), gib(after), float64(after-base)/float64(max(1, rep.Chunks)), gib(base))
	// A second Sync of the unchanged source: fingerprints only.
	start = time.Now()
	rep2, err := k.Sync(ctx, src)
	if err != nil {
		return err
	}
	resync := time.Since(start)
	fmt.Printf("re-sync unchanged: %d documents, %d unchanged, %d chunks embedded, %.1f s\n", rep2.Scanned, rep2.Unchanged, rep2.Chunks, resync.Seconds())
	// A knowledge base opened over the store (a restarted service) builds
	// its keyword index from the stored records on first use.
	k2, err := kb.New(kb.Options{Store: store, Embedder: emb, EmbedderID: "bench-hash"})
	if err != nil {
		return err
	}
	start = time.Now()
	hits, err := k2.Retrieve(ctx, "refund invoice payment", kb.RetrieveOptions{SearchType: kb.Keyword})
	if err != nil {
		return err
	}
	firstSearch := time.Since(start)
	fmt.Printf("reopen: first keyword search %.1f s (%d hits; builds the keyword index from the store)\n", firstSearch.Seconds(), len(hits))
	fmt.Printf("chunks=%d chunks_per_s=%.0f peak_gib=%.2f held_gib=%.2f held_bytes_per_chunk=%.0f resync_s=%.1f reopen_first_search_s=%.1f\n",
		rep.Chunks, float64(rep.Chunks)/el.Seconds(), gib(peak), gib(after), float64(after-base)/float64(max(1, rep.Chunks)), resync.Seconds(), firstSearch.Seconds())
	return nil
}

// genSource lists docs generated text documents; each is produced when
// opened, from its number.
type genSource struct{ docs, words int }

func (s *genSource) Items(ctx context.Context) iter.Seq2[kb.SourceItem, error] {
	return func(yield func(kb.SourceItem, error) bool) {
		for i := range s.docs {
			if ctx.Err() != nil {
				yield(kb.SourceItem{}, ctx.Err())
				return
			}
			name := fmt.Sprintf("doc-%07d.txt", i)
			it := kb.SourceItem{URI: "gen:" + name, Name: name, Size: -1, Metadata: map[string]any{"shard": float64(i % 16)},
				Open: func(context.Context) (io.ReadCloser, error) {
					return io.NopCloser(bytes.NewReader(genText(i, s.words))), nil
				}}
			if !yield(it, nil) {
				return
			}
		}
	}
}

var genWords = strings.Fields(`the a of to and in is for on that with as by this be are from at or an it
index vector search query embedding knowledge base document chunk retrieval model agent tool memory
policy customer account payment invoice refund order delivery service support region latency cost`)

// genText is document i: words drawn from a small vocabulary, with
// numbered sentences so chunks differ.
func genText(i, words int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 99))
	var b strings.Builder
	for w := range words {
		if w%15 == 0 {
			if w > 0 {
				b.WriteString(". ")
			}
			b.WriteString("Item " + strconv.Itoa(i) + "-" + strconv.Itoa(w) + " ")
		}
		b.WriteString(genWords[r.IntN(len(genWords))])
		b.WriteByte(' ')
	}
	b.WriteString(".\n")
	return []byte(b.String())
}

// hashEmbedder embeds a text as a random unit vector seeded by its hash.
type hashEmbedder struct {
	dim   int
	calls atomic.Int64
}

func (e *hashEmbedder) Dimensions() int { return e.dim }

func (e *hashEmbedder) Embed(ctx context.Context, texts []string, _ bedrockkit.Purpose) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(texts) == 0 {
		return nil, errors.New("bench: no texts")
	}
	e.calls.Add(1)
	out := make([][]float32, len(texts))
	for i, t := range texts {
		h := fnv.New64a()
		h.Write([]byte(t))
		r := rand.New(rand.NewPCG(h.Sum64(), 1))
		v := make([]float32, e.dim)
		var s float64
		for j := range v {
			x := r.NormFloat64()
			v[j] = float32(x)
			s += x * x
		}
		inv := float32(1 / math.Sqrt(s))
		for j := range v {
			v[j] *= inv
		}
		out[i] = v
	}
	return out, nil
}
