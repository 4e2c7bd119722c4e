package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	chromem "github.com/philippgille/chromem-go"

	"github.com/bedrockkit/bedrockkit/internal/simd"
	"github.com/bedrockkit/bedrockkit/kb"
	kbchromem "github.com/bedrockkit/bedrockkit/kb/chromem"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func init() { commands["vector"] = runVector }

// runVector measures the embedded index (exact, int8, HNSW), chromem-go
// v0.7.0 used directly, and a plain SIMD scan over contiguous memory (the
// floor), on the same data in one run. The last line holds the metrics of
// the last size/dimension case. "exact" is the index as a user gets it by
// default (Quantization Auto: an int8 screen with error-bounded float32
// rescoring, identical results); the plain float32 scan is measured too and
// its ratios printed on a "#" line. hnsw_vs_exact compares HNSW with that
// default exact index; int8_bytes_ratio is the Int8 index's memory per
// vector over a float32 index's (4*dim+4 bytes).
func runVector(args []string) error {
	fs := flag.NewFlagSet("vector", flag.ContinueOnError)
	nFlag := fs.String("n", "100000", "collection sizes, comma separated (e.g. 10000,100000)")
	dimFlag := fs.String("dim", "384", "dimensions, comma separated (e.g. 384,1024)")
	queries := fs.Int("queries", 50, "timed queries per engine")
	noChromem := fs.Bool("no-chromem", false, "skip chromem-go")
	ef := fs.Int("ef", 0, "HNSW EfSearch (0: the index default)")
	m := fs.Int("m", 0, "HNSW M (0: the index default)")
	efc := fs.Int("efc", 0, "HNSW EfConstruction (0: the index default)")
	seed := fs.Uint64("seed", 1, "data seed")
	exactMode := fs.String("exact", "auto", "configuration measured as the exact index: auto (the default: int8-screened float32 scan, identical results), float32 (plain scan) or int8 (floats on disk)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ns, err := intList(*nFlag)
	if err != nil {
		return err
	}
	dims, err := intList(*dimFlag)
	if err != nil {
		return err
	}
	modes := map[string]localindex.Quantization{"auto": localindex.Auto, "float32": localindex.Float32, "int8": localindex.Int8}
	mode, ok := modes[*exactMode]
	if !ok {
		return fmt.Errorf("-exact must be auto, float32 or int8, not %q", *exactMode)
	}
	fmt.Printf("# vector bench: GOMAXPROCS=%d simd=%v queries=%d\n", runtime.GOMAXPROCS(0), simd.Accelerated(), *queries)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "engine\tdata\tn\tdim\tp50_ms\tp95_ms\trecall@10\tinsert/s\tbytes/vec\t")
	var last string
	for _, n := range ns {
		for _, dim := range dims {
			c := &vcase{n: n, dim: dim, q: *queries, seed: *seed, chromem: !*noChromem, tw: tw, exactMode: mode, exactName: *exactMode,
				hnsw: localindex.HNSWOptions{M: *m, EfConstruction: *efc, EfSearch: *ef}}
			line, err := c.run()
			if err != nil {
				return err
			}
			last = line
			tw.Flush()
			for _, n := range c.notes {
				fmt.Println(n)
			}
		}
	}
	tw.Flush()
	fmt.Println(last)
	return nil
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad number %q in %q", f, s)
		}
		out = append(out, v)
	}
	return out, nil
}

type vcase struct {
	n, dim, q int
	seed      uint64
	chromem   bool
	hnsw      localindex.HNSWOptions
	tw        *tabwriter.Writer
	f32       float64                        // recall of the in-memory Float32 index
	backend   struct{ recall, rate float64 } // our chromem-go backend (kb/chromem)
	exactMode localindex.Quantization        // configuration of the durable exact index
	exactName string
	notes     []string // printed after the table
}

type timing struct{ p50, p95 time.Duration }

func (t timing) ms() (string, string) {
	return fmt.Sprintf("%.3f", t.p50.Seconds()*1000), fmt.Sprintf("%.3f", t.p95.Seconds()*1000)
}

func (c *vcase) row(engine, data string, t timing, recall float64, insertRate float64, bytes int) {
	p50, p95 := t.ms()
	rs, ir, bs := "-", "-", "-"
	if recall >= 0 {
		rs = fmt.Sprintf("%.3f", recall)
	}
	if insertRate > 0 {
		ir = fmt.Sprintf("%.0f", insertRate)
	}
	if bytes > 0 {
		bs = strconv.Itoa(bytes)
	}
	fmt.Fprintf(c.tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", engine, data, c.n, c.dim, p50, p95, rs, ir, bs)
}

// measureAll times several engines on the same queries. Engines take
// turns in blocks of up to 10 consecutive queries, so noise from other
// processes hits all of them alike while each engine still runs with its
// own data warm in cache (as it would serving a stream of queries). The
// first query of each block is an untimed warm-up, and garbage is
// collected between blocks, outside the timed calls. It returns each
// engine's p50/p95.
func measureAll(qs [][]float32, fns ...func(i int, q []float32) error) ([]timing, error) {
	const block = 10
	ds := make([][]time.Duration, len(fns))
	for lo := 0; lo < len(qs); lo += block {
		hi := min(lo+block, len(qs))
		for e, fn := range fns {
			runtime.GC()
			if err := fn(lo, qs[lo]); err != nil { // warm-up
				return nil, err
			}
			for i := lo; i < hi; i++ {
				start := time.Now()
				if err := fn(i, qs[i]); err != nil {
					return nil, err
				}
				ds[e] = append(ds[e], time.Since(start))
			}
		}
	}
	out := make([]timing, len(fns))
	for e, d := range ds {
		slices.Sort(d)
		out[e] = timing{p50: d[len(d)/2], p95: d[min(len(d)-1, len(d)*95/100)]}
	}
	return out, nil
}

func randomData(n, dim int, seed uint64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 11))
	out := make([][]float32, n)
	for i := range out {
		out[i] = unit(gauss(r, dim))
	}
	return out
}

// clusteredData draws n points around n/1000 (at least 20) random centres.
func clusteredData(n, dim int, seed uint64) ([][]float32, [][]float32) {
	r := rand.New(rand.NewPCG(seed, 12))
	centres := make([][]float32, max(20, n/1000))
	for i := range centres {
		centres[i] = unit(gauss(r, dim))
	}
	point := func() []float32 {
		c := centres[r.IntN(len(centres))]
		v := gauss(r, dim)
		for j := range v {
			v[j] = c[j] + v[j]*float32(0.6/math.Sqrt(float64(dim)))
		}
		return unit(v)
	}
	data := make([][]float32, n)
	for i := range data {
		data[i] = point()
	}
	qs := make([][]float32, 0)
	for range 1000 {
		qs = append(qs, point())
	}
	return data, qs
}

func gauss(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for j := range v {
		v[j] = float32(r.NormFloat64())
	}
	return v
}

func unit(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	inv := float32(1 / math.Sqrt(s))
	for j := range v {
		v[j] *= inv
	}
	return v
}

// floorScan is the reference: a plain SIMD scan over one contiguous array,
// split across workers goroutines, keeping a top-k per worker. keep, when
// set, filters rows.
func floorScan(flat []float32, dim int, q []float32, k, workers int, keep func(int) bool) []int {
	n := len(flat) / dim
	type sc struct {
		s float32
		i int
	}
	tops := make([][]sc, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			top := make([]sc, 0, k+1)
			for i := lo; i < hi; i++ {
				if keep != nil && !keep(i) {
					continue
				}
				s := simd.Dot(q, flat[i*dim:(i+1)*dim])
				if len(top) == k && s <= top[k-1].s {
					continue
				}
				j := len(top)
				top = append(top, sc{s, i})
				for j > 0 && top[j-1].s < s {
					top[j] = top[j-1]
					j--
				}
				top[j] = sc{s, i}
				if len(top) > k {
					top = top[:k]
				}
			}
			tops[w] = top
		}()
	}
	wg.Wait()
	var all []sc
	for _, t := range tops {
		all = append(all, t...)
	}
	slices.SortFunc(all, func(a, b sc) int {
		if a.s > b.s {
			return -1
		}
		if a.s < b.s {
			return 1
		}
		return a.i - b.i
	})
	out := make([]int, 0, k)
	for _, a := range all[:min(k, len(all))] {
		out = append(out, a.i)
	}
	return out
}

func flatten(data [][]float32) []float32 {
	dim := len(data[0])
	flat := make([]float32, len(data)*dim)
	for i, v := range data {
		copy(flat[i*dim:], v)
	}
	return flat
}

func recallOf(got []string, want []int) float64 {
	set := map[string]bool{}
	for _, w := range want {
		set[strconv.Itoa(w)] = true
	}
	n := 0
	for _, g := range got {
		if set[g] {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

func hitIDs(hits []kb.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

// loadIndex writes data in batches and returns the insert rate.
func loadIndex(ix kb.Store, data [][]float32) (float64, error) {
	const batch = 1000
	start := time.Now()
	recs := make([]kb.Record, 0, batch)
	for i, v := range data {
		recs = append(recs, kb.Record{ID: strconv.Itoa(i), DocumentID: strconv.Itoa(i / 10), Vector: v,
			Metadata: map[string]any{"group": float64(i % 100)}})
		if len(recs) == batch || i == len(data)-1 {
			if err := ix.Upsert(context.Background(), recs); err != nil {
				return 0, err
			}
			recs = recs[:0]
		}
	}
	return float64(len(data)) / time.Since(start).Seconds(), nil
}

func meanRecall(ix *localindex.Index, qs [][]float32, truth [][]int, f *kb.Filter) (float64, error) {
	var sum float64
	for i, q := range qs {
		hits, err := ix.Search(context.Background(), kb.Query{Vector: q, K: 10, Filter: f})
		if err != nil {
			return 0, err
		}
		sum += recallOf(hitIDs(hits), truth[i])
	}
	return sum / float64(len(qs)), nil
}

func (c *vcase) run() (string, error) {
	ctx := context.Background()
	workers := runtime.GOMAXPROCS(0)
	tmp, err := os.MkdirTemp("", "bedrockkit-bench-vector")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)

	// ---- Random normalized vectors: floor, exact, filtered, chromem-go.
	data := randomData(c.n, c.dim, c.seed)
	qs := randomData(c.q, c.dim, c.seed+100)
	flat := flatten(data)
	truth := make([][]int, len(qs))
	for i, q := range qs {
		truth[i] = floorScan(flat, c.dim, q, 10, workers, nil)
	}
	exactOpts := localindex.Options{Dir: tmp + "/exact", Quantization: c.exactMode}
	exact, err := localindex.Open(exactOpts)
	if err != nil {
		return "", err
	}
	rate, err := loadIndex(exact, data)
	if err != nil {
		return "", err
	}
	rec, err := meanRecall(exact, qs, truth, nil)
	if err != nil {
		return "", err
	}
	exactBytes := exact.BytesPerVector()

	// 1%-selective filter: the top-10 must be exactly the brute-force one.
	f := kb.Equals("group", 7)
	exactMatches := 0
	for _, q := range qs {
		hits, err := exact.Search(ctx, kb.Query{Vector: q, K: 10, Filter: &f})
		if err != nil {
			return "", err
		}
		want := floorScan(flat, c.dim, q, 10, workers, func(i int) bool { return i%100 == 7 })
		got := hitIDs(hits)
		ok := len(got) == len(want)
		for i := range want {
			if ok && got[i] != strconv.Itoa(want[i]) {
				ok = false
			}
		}
		if ok {
			exactMatches++
		}
	}
	filtered := float64(exactMatches) / float64(len(qs))

	// Float32 in memory: the plain exact scan without the int8 screen.
	q8, err := localindex.Open(localindex.Options{Quantization: localindex.Float32})
	if err != nil {
		return "", err
	}
	if _, err := loadIndex(q8, data); err != nil {
		return "", err
	}
	f32rec, err := meanRecall(q8, qs, truth, nil)
	if err != nil {
		return "", err
	}
	c.f32 = f32rec

	fns := []func(int, []float32) error{
		func(_ int, q []float32) error { floorScan(flat, c.dim, q, 10, workers, nil); return nil },
		func(_ int, q []float32) error { floorScan(flat, c.dim, q, 10, 1, nil); return nil },
		func(_ int, q []float32) error {
			_, err := exact.Search(ctx, kb.Query{Vector: q, K: 10})
			return err
		},
		func(_ int, q []float32) error {
			_, err := exact.Search(ctx, kb.Query{Vector: q, K: 10, Filter: &f})
			return err
		},
		func(_ int, q []float32) error {
			_, err := q8.Search(ctx, kb.Query{Vector: q, K: 10})
			return err
		},
	}
	var crec, crate float64
	if c.chromem {
		query, r, err := c.chromemLoad(data)
		if err != nil {
			return "", err
		}
		crate = r
		var sum float64
		fns = append(fns, func(i int, q []float32) error {
			ids, err := query(q)
			if i >= 0 {
				sum += recallOf(ids, truth[i])
			}
			return err
		})
		// Our kb.Store over chromem-go: same data, same queries.
		backend, err := kbchromem.Open(kbchromem.Options{Dimensions: c.dim})
		if err != nil {
			return "", err
		}
		defer backend.Close()
		if c.backend.rate, err = loadIndex(backend, data); err != nil {
			return "", err
		}
		var bsum float64
		fns = append(fns, func(i int, q []float32) error {
			hits, err := backend.Search(ctx, kb.Query{Vector: q, K: 10})
			if err == nil {
				bsum += recallOf(hitIDs(hits), truth[i])
			}
			return err
		})
		ts, err := measureAll(qs, fns...)
		exact.Close()
		q8.Close()
		if err != nil {
			return "", err
		}
		blocks := (len(qs) + 9) / 10
		crec = sum / float64(len(qs)+blocks) // one warm-up call per block
		c.backend.recall = bsum / float64(len(qs)+blocks)
		return c.finishRandom(ts, rec, rate, exactBytes, filtered, crec, crate, data, flat, qs, tmp)
	}
	ts, err := measureAll(qs, fns...)
	exact.Close()
	q8.Close()
	if err != nil {
		return "", err
	}
	return c.finishRandom(ts, rec, rate, exactBytes, filtered, -1, 0, data, flat, qs, tmp)
}

func (c *vcase) finishRandom(ts []timing, rec, rate float64, exactBytes int, filtered, crec, crate float64, data [][]float32, flat []float32, qs [][]float32, tmp string) (string, error) {
	ctx := context.Background()
	workers := runtime.GOMAXPROCS(0)
	floor, exactT := ts[0], ts[2]
	c.row("floor-scan", "random", floor, 1, 0, 4*c.dim)
	c.row("floor-scan-1thread", "random", ts[1], 1, 0, 4*c.dim)
	c.row("exact("+c.exactName+",durable)", "random", exactT, rec, rate, exactBytes)
	c.row("exact+filter1%", "random", ts[3], filtered, 0, 0)
	c.row("exact(float32,mem)", "random", ts[4], c.f32, 0, 4*c.dim+4)
	chromemSpeedup := math.NaN()
	if len(ts) > 5 {
		c.row("chromem-go-raw", "random", ts[5], crec, crate, 0)
		chromemSpeedup = ts[5].p50.Seconds() / exactT.p50.Seconds()
		c.notes = append(c.notes, fmt.Sprintf("# n=%d dim=%d plain float32 exact scan (Quantization Float32): vs_floor=%.2f vs_chromem=%.1f",
			c.n, c.dim, ts[4].p50.Seconds()/floor.p50.Seconds(), ts[5].p50.Seconds()/ts[4].p50.Seconds()))
	}
	if len(ts) > 6 {
		c.row("chromem-backend", "random", ts[6], c.backend.recall, c.backend.rate, 0)
	}
	data, flat = nil, nil
	runtime.GC()

	// ---- Clustered vectors: exact vs HNSW vs int8.
	cdata, cqs := clusteredData(c.n, c.dim, c.seed+1)
	cqs = cqs[:c.q]
	cflat := flatten(cdata)
	ctruth := make([][]int, len(cqs))
	for i, q := range cqs {
		ctruth[i] = floorScan(cflat, c.dim, q, 10, workers, nil)
	}
	cflat = nil

	cexact, _ := localindex.Open(localindex.Options{})
	defer cexact.Close()
	if _, err := loadIndex(cexact, cdata); err != nil {
		return "", err
	}
	crecall, _ := meanRecall(cexact, cqs, ctruth, nil)
	h := c.hnsw
	hopts := localindex.Options{Dir: tmp + "/hnsw", HNSW: &h}
	hix, err := localindex.Open(hopts)
	if err != nil {
		return "", err
	}
	defer func() { hix.Close() }()
	hrate, err := loadIndex(hix, cdata)
	if err != nil {
		return "", err
	}
	hrec, _ := meanRecall(hix, cqs, ctruth, nil)
	qix, err := localindex.Open(localindex.Options{Dir: tmp + "/int8", Quantization: localindex.Int8})
	if err != nil {
		return "", err
	}
	defer qix.Close()
	qrate, err := loadIndex(qix, cdata)
	if err != nil {
		return "", err
	}
	qrec, _ := meanRecall(qix, cqs, ctruth, nil)
	qBytes := qix.BytesPerVector()
	search := func(ix *localindex.Index) func(int, []float32) error {
		return func(_ int, q []float32) error {
			_, err := ix.Search(ctx, kb.Query{Vector: q, K: 10})
			return err
		}
	}
	cts, err := measureAll(cqs, search(cexact), search(hix), search(qix))
	if err != nil {
		return "", err
	}
	cexactT, hT, qT := cts[0], cts[1], cts[2]
	c.row("exact", "clustered", cexactT, crecall, 0, cexact.BytesPerVector())
	c.row("hnsw", "clustered", hT, hrec, hrate, 0)
	c.row("int8+rescore", "clustered", qT, qrec, qrate, qBytes)

	// Reopening the durable HNSW index: with the graph saved beside the
	// snapshot, then with the graph file removed (rebuilt from vectors).
	if err := hix.Close(); err != nil {
		return "", err
	}
	reopen := func() (time.Duration, bool, error) {
		start := time.Now()
		ix, err := localindex.Open(hopts)
		if err != nil {
			return 0, false, err
		}
		d := time.Since(start)
		loaded := ix.Recovery().GraphLoaded
		return d, loaded, ix.Close()
	}
	withGraph, loaded, err := reopen()
	if err != nil {
		return "", err
	}
	graphs, _ := filepath.Glob(filepath.Join(tmp, "hnsw", "graph-*.hnsw"))
	for _, g := range graphs {
		os.Remove(g)
	}
	rebuilt, _, err := reopen()
	if err != nil {
		return "", err
	}
	c.notes = append(c.notes, fmt.Sprintf("# n=%d dim=%d hnsw reopen: %.2fs with the saved graph (loaded=%v), %.2fs rebuilding it (%.1fx)",
		c.n, c.dim, withGraph.Seconds(), loaded, rebuilt.Seconds(), rebuilt.Seconds()/withGraph.Seconds()))

	return fmt.Sprintf("exact_vs_floor=%.2f exact_vs_chromem=%.1f filtered_top10_exact=%.2f hnsw_recall10=%.3f hnsw_vs_exact=%.1f int8_recall10=%.3f int8_bytes_ratio=%.3f",
		exactT.p50.Seconds()/floor.p50.Seconds(), chromemSpeedup, filtered, hrec,
		cexactT.p50.Seconds()/hT.p50.Seconds(), qrec, float64(qBytes)/float64(4*c.dim+4)), nil
}

// chromemLoad loads chromem-go in memory (its own exact search) and returns
// a query function and the insert rate.
func (c *vcase) chromemLoad(data [][]float32) (func(q []float32) ([]string, error), float64, error) {
	ctx := context.Background()
	db := chromem.NewDB()
	noEmbed := func(context.Context, string) ([]float32, error) {
		return nil, errors.New("bench: embeddings are precomputed")
	}
	col, err := db.CreateCollection("bench", nil, noEmbed)
	if err != nil {
		return nil, 0, err
	}
	docs := make([]chromem.Document, len(data))
	for i, v := range data {
		docs[i] = chromem.Document{ID: strconv.Itoa(i), Embedding: v, Content: "x",
			Metadata: map[string]string{"group": strconv.Itoa(i % 100)}}
	}
	start := time.Now()
	if err := col.AddDocuments(ctx, docs, runtime.GOMAXPROCS(0)); err != nil {
		return nil, 0, err
	}
	rate := float64(len(data)) / time.Since(start).Seconds()
	return func(q []float32) ([]string, error) {
		res, err := col.QueryEmbedding(ctx, q, 10, nil, nil)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(res))
		for j, r := range res {
			ids[j] = r.ID
		}
		return ids, nil
	}, rate, nil
}
