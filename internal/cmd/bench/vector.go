package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	chromem "github.com/philippgille/chromem-go"

	"github.com/bedrockkit/bedrockkit/internal/simd"
	"github.com/bedrockkit/bedrockkit/kb"
	kbchromem "github.com/bedrockkit/bedrockkit/kb/chromem"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func init() { commands["vector"] = runVector }

// runVector measures the embedded index and its peers on the same data,
// one engine at a time, printing each engine's row as soon as it is done:
//
//   - floor-f32: a plain SIMD float32 scan over one contiguous array (all
//     cores); it also gives the ground truth.
//   - floor-int8: a plain scan of int8 codes (one byte a dimension and a
//     scale per vector, as the index keeps them), no rescoring: the least
//     an int8-screened exact search can cost.
//   - exact: localindex as a user gets it by default (Quantization Auto:
//     int8 screen, float32 rescoring of what the error bound cannot rule
//     out; results identical to float32), durable in a temporary Dir.
//   - exact+filter1%: the same index with a 1%-selective metadata filter.
//   - hnsw: localindex with HNSW, durable; built by batched Upserts (each
//     batch inserted in parallel on every core), then reopened once per
//     EfSearch value (the graph is read from disk), so open time is
//     measured too.
//   - pgvector: kb/pgvector over BEDROCKKIT_PG_DSN (skipped without it):
//     COPY load, HNSW build with the same M and EfConstruction, one row per
//     ef_search.
//   - chromem-go (raw) and kb/chromem: chromem-go's exact search (default
//     only up to 300,000 vectors: it scans every document per query).
//
// Data: unit vectors around n/1000 (at least 20) random centres, like
// embeddings of a corpus with topics; queries from the same mixture.
// Memory: the command refuses to start an engine whose estimated resident
// memory would pass -mem, and stops if resident memory passes it anyway.
// bytes/vec is the index's own accounting of its vector memory; rss/vec is
// the growth of the process's resident memory while the engine was loaded
// (records, maps, graph and all) per vector. The last line holds the
// metrics of the last case as name=value pairs.
func runVector(args []string) error {
	fs := flag.NewFlagSet("vector", flag.ContinueOnError)
	nFlag := fs.String("n", "100000", "collection sizes, comma separated (e.g. 100000,1000000)")
	dimFlag := fs.String("dim", "384", "dimensions, comma separated (e.g. 384,1024)")
	queries := fs.Int("queries", 100, "timed queries per engine")
	engines := fs.String("engines", "floor-f32,floor-int8,exact,hnsw,pgvector,chromem", "engines to run, comma separated")
	efFlag := fs.String("ef", "32,64,96,160,256,400", "HNSW EfSearch values, comma separated (one reopen and row each)")
	pgEfFlag := fs.String("pg-ef", "40,64,100,200,400", "pgvector hnsw.ef_search values, comma separated")
	m := fs.Int("m", 16, "HNSW M (pgvector gets the same)")
	efc := fs.Int("efc", 128, "HNSW EfConstruction (pgvector's ef_construction gets the same)")
	batch := fs.Int("batch", 1000, "records per Upsert")
	seed := fs.Uint64("seed", 1, "data seed")
	memFlag := fs.String("mem", "", "memory budget for this process, e.g. 14GiB (default: 75% of MemAvailable at start)")
	pgMem := fs.String("pg-maintenance-mem", "", "maintenance_work_mem for pgvector's index build (default: enough for the graph, at most 1/3 of the budget)")
	pgWorkers := fs.Int("pg-workers", runtime.GOMAXPROCS(0)-1, "max_parallel_maintenance_workers for pgvector's build (leader + workers = cores used)")
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
	efs, err := intList(*efFlag)
	if err != nil {
		return err
	}
	pgEfs, err := intList(*pgEfFlag)
	if err != nil {
		return err
	}
	budget, err := memBudget(*memFlag)
	if err != nil {
		return err
	}
	var pgMemBytes int64
	if *pgMem != "" {
		if pgMemBytes, err = parseBytes(*pgMem); err != nil {
			return err
		}
	}
	want := map[string]bool{}
	for _, e := range strings.Split(*engines, ",") {
		e = strings.TrimSpace(e)
		switch e {
		case "floor-f32", "floor-int8", "exact", "hnsw", "pgvector", "chromem":
			want[e] = true
		default:
			return fmt.Errorf("unknown engine %q (floor-f32, floor-int8, exact, hnsw, pgvector, chromem)", e)
		}
	}
	// The Go heap is kept under the budget (the GC works harder near
	// it); the watchdog stops the run if resident memory passes it anyway.
	debug.SetMemoryLimit(budget * 9 / 10)
	wd := startWatchdog(budget)
	defer wd.stop()

	fmt.Printf("# vector bench: GOMAXPROCS=%d simd=%v queries=%d memory budget %.1f GiB (MemAvailable %.1f GiB at start) load %s\n",
		runtime.GOMAXPROCS(0), simd.Accelerated(), *queries, gib(budget), gib(memAvailable()), loadAvg())
	var last string
	for _, n := range ns {
		for _, dim := range dims {
			c := &vcase{n: n, dim: dim, q: *queries, seed: *seed, batch: *batch, want: want, efs: efs, pgEfs: pgEfs,
				m: *m, efc: *efc, budget: budget, wd: wd, pgMem: pgMemBytes, pgWorkers: *pgWorkers,
				explicitChromem: strings.Contains(*engines, "chromem") && *engines != fs.Lookup("engines").DefValue}
			line, err := c.run()
			if err != nil {
				return err
			}
			last = line
		}
	}
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
	n, dim, q, batch int
	seed             uint64
	want             map[string]bool
	explicitChromem  bool
	efs, pgEfs       []int
	m, efc           int
	budget           int64
	wd               *watchdog
	pgMem            int64
	pgWorkers        int

	tmp       string
	flat      []float32 // the data, n x dim
	f32, i8   *eng      // the floor engines (i8 nil if it does not fit)
	hnswBuilt bool
	pg        *pgState
	qs        [][]float32
	truth     [][]int // float32 top-10 of each query
	ftrue     [][]int // float32 top-10 among i%100 == 7 (the filter)

	res map[string]vrow // rows by engine name, for the ratios
}

// vrow is one engine's measurements; a negative or zero field is not
// measured.
type vrow struct {
	engine      string
	rate        float64 // vectors per second loaded (built, for HNSW)
	open        time.Duration
	p50, p95    time.Duration
	recall      float64
	bytesPerVec int     // the index's own accounting
	rssPerVec   float64 // resident memory growth per vector
	peak        int64   // peak resident memory of the process while it ran
	note        string
	ref         time.Duration // p50 of the int8 floor timed alongside
}

func (c *vcase) header() {
	fmt.Printf("\n# n=%d dim=%d: data %.2f GiB as float32, %d queries, top-10\n", c.n, c.dim, gib(int64(c.n)*int64(c.dim)*4), c.q)
	fmt.Printf("%-22s %8s %5s %10s %7s %9s %9s %9s %9s %9s %8s %6s  %s\n",
		"engine", "n", "dim", "load/s", "open_s", "p50_ms", "p95_ms", "recall@10", "bytes/vec", "rss/vec", "peak_GiB", "load1", "note")
}

func (c *vcase) print(r vrow) {
	c.res[r.engine] = r
	f := func(v float64, format string) string {
		if v <= 0 || math.IsNaN(v) {
			return "-"
		}
		return fmt.Sprintf(format, v)
	}
	recall := "-"
	if r.recall >= 0 {
		recall = fmt.Sprintf("%.4f", r.recall)
	}
	fmt.Printf("%-22s %8d %5d %10s %7s %9s %9s %9s %9s %9s %8s %6s  %s\n", r.engine, c.n, c.dim,
		f(r.rate, "%.0f"), f(r.open.Seconds(), "%.2f"), f(r.p50.Seconds()*1000, "%.3f"), f(r.p95.Seconds()*1000, "%.3f"),
		recall, f(float64(r.bytesPerVec), "%.0f"), f(r.rssPerVec, "%.0f"), f(gib(r.peak), "%.2f"), loadAvg(), r.note)
}

// fits reports whether an engine estimated to need perVec bytes a vector
// (plus fixed bytes) can start within the budget; if not it prints a
// skipped row.
func (c *vcase) fits(engine string, perVec float64, fixed int64) bool {
	need := int64(perVec*float64(c.n)) + fixed
	if rss := residentBytes(); rss+need > c.budget*95/100 {
		c.print(vrow{engine: engine, recall: -1, note: fmt.Sprintf("skipped: needs about %.1f GiB more, %.1f GiB resident, budget %.1f GiB",
			gib(need), gib(rss), gib(c.budget))})
		return false
	}
	return true
}

func (c *vcase) run() (string, error) {
	c.res = map[string]vrow{}
	tmp, err := os.MkdirTemp("", "bedrockkit-bench-vector")
	if err != nil {
		return "", err
	}
	c.tmp = tmp
	defer os.RemoveAll(tmp)
	c.header()
	if !c.fits("data", float64(4*c.dim+16), 0) {
		return "", fmt.Errorf("the data alone does not fit the memory budget")
	}
	t0 := time.Now()
	c.flat, c.qs = clusteredFlat(c.n, c.dim, c.q, c.seed)
	c.groundTruth()
	fmt.Printf("# data and ground truth in %.1f s\n", time.Since(t0).Seconds())
	c.buildCodes()
	if c.want["exact"] {
		if err := c.exact(); err != nil {
			return "", err
		}
	} else if c.want["floor-f32"] || c.want["floor-int8"] {
		var engs []*eng
		if c.want["floor-f32"] {
			engs = append(engs, c.f32)
		}
		if c.want["floor-int8"] && c.i8 != nil {
			engs = append(engs, c.i8)
		}
		ts, err := c.measure(engs...)
		if err != nil {
			return "", err
		}
		for i, e := range engs {
			c.print(vrow{engine: e.name, p50: ts[i].p50, p95: ts[i].p95, recall: e.recall(len(c.qs)), note: e.note})
		}
	}
	if c.want["hnsw"] {
		if err := c.hnswBuild(); err != nil {
			return "", err
		}
	}
	if c.want["pgvector"] {
		if err := c.pgvector(); err != nil {
			return "", err
		}
	}
	if c.want["hnsw"] || c.pg != nil {
		if err := c.query(); err != nil {
			return "", err
		}
	}
	if c.pg != nil {
		c.pg.close()
	}
	if c.want["chromem"] {
		if c.n > 300000 && !c.explicitChromem {
			c.print(vrow{engine: "chromem-go", recall: -1, note: "skipped above 300,000 vectors (name it in -engines to run it)"})
		} else if err := c.chromem(); err != nil {
			return "", err
		}
	}
	return c.ratios(), nil
}

// ratios prints how the engines compare and returns the metrics line.
// Latencies measured in different phases are compared through the int8
// floor scan timed alongside each (other load on the machine slows both
// alike).
func (c *vcase) ratios() string {
	r := c.res
	ratio := func(a, b time.Duration) float64 {
		if a <= 0 || b <= 0 {
			return math.NaN()
		}
		return a.Seconds() / b.Seconds()
	}
	ex, f32, i8 := r["exact"], r["floor-f32"], r["floor-int8"]
	fmt.Printf("# n=%d dim=%d exact p50 vs int8 floor %.2fx, vs float32 floor %.2fx (timed together); exact recall %.4f\n",
		c.n, c.dim, ratio(ex.p50, i8.p50), ratio(ex.p50, f32.p50), ex.recall)
	var hrows, prows []vrow
	for _, ef := range c.efs {
		if h, ok := r[fmt.Sprintf("hnsw ef=%d", ef)]; ok && h.p50 > 0 {
			hrows = append(hrows, h)
		}
	}
	for _, ef := range c.pgEfs {
		if p, ok := r[fmt.Sprintf("pgvector ef=%d", ef)]; ok && p.p50 > 0 {
			prows = append(prows, p)
		}
	}
	// HNSW against exact: each over the int8 floor of its own phase.
	speedup := func(h vrow) float64 {
		return ratio(ex.p50, i8.p50) / ratio(h.p50, h.ref)
	}
	for _, h := range hrows {
		fmt.Printf("# %s: recall@10 %.4f, %.1fx faster than exact at p50 (normalised by the int8 floor timed with each)\n", h.engine, h.recall, speedup(h))
	}
	// Recall at matched latency (all timed together): for each pgvector
	// setting, the best recall localindex reaches within its p50, and the
	// other way.
	bestWithin := func(rows []vrow, p50 time.Duration) (vrow, bool) {
		var best vrow
		ok := false
		for _, r := range rows {
			if r.p50 <= p50 && (!ok || r.recall > best.recall) {
				best, ok = r, true
			}
		}
		return best, ok
	}
	for _, p := range prows {
		if h, ok := bestWithin(hrows, p.p50); ok {
			fmt.Printf("# matched latency: %s p50 %.2f ms recall %.4f | localindex within that p50: %s p50 %.2f ms recall %.4f\n",
				p.engine, p.p50.Seconds()*1000, p.recall, h.engine, h.p50.Seconds()*1000, h.recall)
		}
	}
	for _, h := range hrows {
		if p, ok := bestWithin(prows, h.p50); ok {
			fmt.Printf("# matched latency: %s p50 %.2f ms recall %.4f | pgvector within that p50: %s p50 %.2f ms recall %.4f\n",
				h.engine, h.p50.Seconds()*1000, h.recall, p.engine, p.p50.Seconds()*1000, p.recall)
		} else if len(prows) > 0 {
			fmt.Printf("# matched latency: %s p50 %.2f ms recall %.4f | no pgvector setting measured is that fast\n",
				h.engine, h.p50.Seconds()*1000, h.recall)
		}
	}
	hb, pb, ho := r["hnsw build"], r["pgvector build"], r["hnsw open"]
	if hb.rate > 0 && pb.rate > 0 {
		fmt.Printf("# HNSW build: localindex %.0f vectors/s (Upserts with log, snapshots and graph), pgvector %.0f vectors/s (CREATE INDEX alone): %.2fx\n",
			hb.rate, pb.rate, hb.rate/pb.rate)
	}
	h0 := vrow{}
	for _, h := range hrows {
		if h0.engine == "" || h.engine == "hnsw ef=96" {
			h0 = h
		}
	}
	return fmt.Sprintf("n=%d dim=%d exact_p50_ms=%.3f exact_vs_int8_floor=%.2f exact_vs_f32_floor=%.2f exact_recall10=%.4f hnsw_recall10=%.4f hnsw_p50_ms=%.3f hnsw_vs_exact=%.1f hnsw_build_per_s=%.0f pg_build_per_s=%.0f hnsw_open_s=%.2f exact_open_s=%.2f exact_rss_per_vec=%.0f hnsw_rss_per_vec=%.0f",
		c.n, c.dim, ex.p50.Seconds()*1000, ratio(ex.p50, i8.p50), ratio(ex.p50, f32.p50), ex.recall, h0.recall, h0.p50.Seconds()*1000,
		speedup(h0), hb.rate, pb.rate, ho.open.Seconds(), ex.open.Seconds(), ex.rssPerVec, hb.rssPerVec)
}

type timing struct{ p50, p95 time.Duration }

// eng is one engine's search for measure: it returns the IDs of the top
// 10, scored against truth. before, if set, runs (untimed) before each
// block of the engine's queries.
type eng struct {
	name   string
	note   string
	search func(q []float32) ([]string, error)
	truth  [][]int
	before func()
	sum    float64
}

func (e *eng) recall(n int) float64 { return e.sum / float64(n) }

// measure times several engines on the same queries, taking turns in
// blocks of up to 10 consecutive queries, so load from other processes
// hits all of them alike while each runs with its own data warm in cache.
// The first query of each block is an untimed warm-up, and garbage is
// collected between blocks, outside the timed calls.
func (c *vcase) measure(engs ...*eng) ([]timing, error) {
	const block = 10
	ds := make([][]time.Duration, len(engs))
	for _, e := range engs {
		e.sum = 0
	}
	for lo := 0; lo < len(c.qs); lo += block {
		hi := min(lo+block, len(c.qs))
		for k, e := range engs {
			runtime.GC()
			if e.before != nil {
				e.before()
			}
			if _, err := e.search(c.qs[lo]); err != nil { // warm-up
				return nil, fmt.Errorf("%s: %w", e.name, err)
			}
			for i := lo; i < hi; i++ {
				start := time.Now()
				ids, err := e.search(c.qs[i])
				d := time.Since(start)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", e.name, err)
				}
				ds[k] = append(ds[k], d)
				e.sum += recallOf(ids, e.truth[i])
			}
		}
	}
	out := make([]timing, len(engs))
	for k, d := range ds {
		slices.Sort(d)
		out[k] = timing{p50: d[len(d)/2], p95: d[min(len(d)-1, len(d)*95/100)]}
	}
	return out, nil
}

func intIDs(ids []int) []string {
	out := make([]string, len(ids))
	for i, v := range ids {
		out[i] = strconv.Itoa(v)
	}
	return out
}

// groundTruth computes each query's float32 top 10, overall and among
// the rows the filter keeps, and sets up the float32 floor engine.
func (c *vcase) groundTruth() {
	workers := runtime.GOMAXPROCS(0)
	c.truth = make([][]int, len(c.qs))
	c.ftrue = make([][]int, len(c.qs))
	keep := func(i int) bool { return i%100 == 7 }
	for i, q := range c.qs {
		c.truth[i] = floorScan(c.flat, c.dim, q, 10, workers, nil)
		c.ftrue[i] = floorScan(c.flat, c.dim, q, 10, workers, keep)
	}
	c.f32 = &eng{name: "floor-f32", truth: c.truth, note: "plain float32 SIMD scan, all cores", search: func(q []float32) ([]string, error) {
		return intIDs(floorScan(c.flat, c.dim, q, 10, workers, nil)), nil
	}}
}

// buildCodes quantises the data like the index does (per-vector scale,
// max |x| -> 127) for the int8 floor engine: a plain parallel scan of the
// codes, no rescoring. It is the reference timed alongside every engine.
func (c *vcase) buildCodes() {
	if !c.fits("floor-int8", float64(c.dim+4), 0) {
		return
	}
	codes := make([]int8, c.n*c.dim)
	scales := make([]float32, c.n)
	for i := range c.n {
		v := c.flat[i*c.dim : (i+1)*c.dim]
		var mx float32
		for _, x := range v {
			mx = max(mx, float32(math.Abs(float64(x))))
		}
		if mx == 0 {
			continue
		}
		s := mx / 127
		scales[i] = s
		for j, x := range v {
			codes[i*c.dim+j] = int8(math.Round(float64(x / s)))
		}
	}
	workers := runtime.GOMAXPROCS(0)
	c.i8 = &eng{name: "floor-int8", truth: c.truth, note: "int8 codes only, no rescoring, all cores", search: func(q []float32) ([]string, error) {
		return intIDs(topScan(c.n, workers, 10, func(i int) float32 {
			return simd.DotInt8(q, codes[i*c.dim:(i+1)*c.dim:(i+1)*c.dim]) * scales[i]
		})), nil
	}}
}

// refs returns the int8 floor engine in a list (empty without it).
func (c *vcase) refs() []*eng {
	if c.i8 == nil {
		return nil
	}
	return []*eng{c.i8}
}

// records returns the records of data rows lo..hi-1 (vectors alias the
// data; the stores copy them).
func (c *vcase) records(lo, hi int, recs []kbstore.Record) []kbstore.Record {
	recs = recs[:0]
	for i := lo; i < hi; i++ {
		recs = append(recs, kbstore.Record{ID: strconv.Itoa(i), DocumentID: strconv.Itoa(i / 10), Vector: c.flat[i*c.dim : (i+1)*c.dim : (i+1)*c.dim],
			Metadata: map[string]any{"group": float64(i % 100)}})
	}
	return recs
}

// load writes the data in batches and returns the rate.
func (c *vcase) load(s kbstore.Store) (float64, error) {
	ctx := context.Background()
	start := time.Now()
	recs := make([]kbstore.Record, 0, c.batch)
	lastReport := start
	for lo := 0; lo < c.n; lo += c.batch {
		recs = c.records(lo, min(lo+c.batch, c.n), recs)
		if err := s.Upsert(ctx, recs); err != nil {
			return 0, err
		}
		if time.Since(lastReport) > 30*time.Second {
			lastReport = time.Now()
			fmt.Printf("#   ... %d/%d loaded in %.0f s (%.0f/s), resident %.2f GiB, load %s\n", lo+len(recs), c.n, time.Since(start).Seconds(),
				float64(lo+len(recs))/time.Since(start).Seconds(), gib(residentBytes()), loadAvg())
		}
	}
	return float64(c.n) / time.Since(start).Seconds(), nil
}

// storeEng is an engine over a kbstore.Store.
func storeEng(name string, s kbstore.Store, f kb.Filter, truth [][]int) *eng {
	ctx := context.Background()
	return &eng{name: name, truth: truth, search: func(q []float32) ([]string, error) {
		hits, err := s.Search(ctx, kbstore.Query{Vector: q, K: 10, Filter: f})
		return hitIDs(hits), err
	}}
}

// perRecord is the estimated memory of one record's entry beside its
// vector (maps, strings, metadata), for the budget check.
const perRecord = 1000

func (c *vcase) exact() error {
	if !c.fits("exact", float64(5*c.dim+12+perRecord), 256<<20) {
		return nil
	}
	freeMemory()
	base := residentBytes()
	c.wd.resetPeak()
	opts := localindex.Options{Dir: c.tmp + "/exact"}
	ix, err := localindex.Open(opts)
	if err != nil {
		return err
	}
	rate, err := c.load(ix)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := ix.Close(); err != nil {
		return err
	}
	closeT := time.Since(t0)
	freeMemory()
	t0 = time.Now()
	if ix, err = localindex.Open(opts); err != nil {
		return err
	}
	open := time.Since(t0)
	freeMemory()
	rss := float64(residentBytes()-base) / float64(c.n)
	peak := c.wd.peak()
	f := kb.Equals("group", 7)
	engs := []*eng{c.f32}
	engs = append(engs, c.refs()...)
	ex, exf := storeEng("exact", ix, kb.Filter{}, c.truth), storeEng("exact+filter1%", ix, f, c.ftrue)
	engs = append(engs, ex, exf)
	ts, err := c.measure(engs...)
	if err != nil {
		return err
	}
	for i, e := range engs {
		r := vrow{engine: e.name, p50: ts[i].p50, p95: ts[i].p95, recall: e.recall(len(c.qs)), note: e.note}
		switch e {
		case c.f32:
			r.bytesPerVec = 4 * c.dim
		case c.i8:
			r.bytesPerVec = c.dim + 4
		case ex:
			r.rate, r.open, r.bytesPerVec, r.rssPerVec, r.peak = rate, open, ix.BytesPerVector(), rss, peak
			r.note = fmt.Sprintf("Auto (int8 screen, exact rescoring), durable, batches of %d; close %.1f s", c.batch, closeT.Seconds())
		case exf:
			r.note = "group == 7, exact top 10 among them"
		}
		c.print(r)
	}
	ix.Close()
	os.RemoveAll(opts.Dir)
	freeMemory()
	return nil
}

func (c *vcase) hnswOpts(ef int) localindex.Options {
	return localindex.Options{Dir: c.tmp + "/hnsw", HNSW: &localindex.HNSWOptions{M: c.m, EfConstruction: c.efc, EfSearch: ef}}
}

// hnswEstimate is the memory per vector of the HNSW index, for the
// budget checks.
func (c *vcase) hnswEstimate() float64 {
	return float64(5*c.dim+12+perRecord) + float64((2*c.m+1)*4+64)
}

func (c *vcase) hnswBuild() error {
	if !c.fits("hnsw build", c.hnswEstimate(), 256<<20) {
		return nil
	}
	freeMemory()
	base := residentBytes()
	c.wd.resetPeak()
	ix, err := localindex.Open(c.hnswOpts(c.efs[0]))
	if err != nil {
		return err
	}
	rate, err := c.load(ix)
	if err != nil {
		return err
	}
	freeMemory()
	rss := float64(residentBytes()-base) / float64(c.n)
	bytes := ix.BytesPerVector()
	t0 := time.Now()
	if err := ix.Close(); err != nil {
		return err
	}
	c.print(vrow{engine: "hnsw build", rate: rate, recall: -1, bytesPerVec: bytes, rssPerVec: rss, peak: c.wd.peak(),
		note: fmt.Sprintf("M=%d efC=%d, %d cores (parallel inserts), batches of %d; close %.1f s", c.m, c.efc, runtime.GOMAXPROCS(0), c.batch, time.Since(t0).Seconds())})
	c.hnswBuilt = true
	freeMemory()
	return nil
}

// query reopens the HNSW index (timing the open with the saved graph) and
// times it at every EfSearch together with pgvector at every ef_search
// and the int8 floor, so recall at matched latency compares numbers taken
// at the same time.
func (c *vcase) query() error {
	var engs []*eng
	var ix *localindex.Index
	if c.hnswBuilt && c.fits("hnsw query", c.hnswEstimate(), 256<<20) {
		freeMemory()
		c.wd.resetPeak()
		t0 := time.Now()
		var err error
		if ix, err = localindex.Open(c.hnswOpts(c.efs[0])); err != nil {
			return err
		}
		open := time.Since(t0)
		note := "saved graph loaded"
		if !ix.Recovery().GraphLoaded {
			note = "graph REBUILT on open"
		}
		c.print(vrow{engine: "hnsw open", open: open, recall: -1, peak: c.wd.peak(), note: note})
		defer ix.Close()
		for _, ef := range c.efs {
			e := storeEng(fmt.Sprintf("hnsw ef=%d", ef), ix, kb.Filter{}, c.truth)
			e.before = func() { ix.SetEfSearch(ef) }
			engs = append(engs, e)
		}
	}
	if c.pg != nil {
		engs = append(engs, c.pg.engines...)
	}
	if len(engs) == 0 {
		return nil
	}
	engs = append(engs, c.refs()...)
	ts, err := c.measure(engs...)
	if err != nil {
		return err
	}
	var ref timing
	if c.i8 != nil {
		ref = ts[len(ts)-1]
	}
	for i, e := range engs {
		if e == c.i8 {
			continue
		}
		r := vrow{engine: e.name, p50: ts[i].p50, p95: ts[i].p95, recall: e.recall(len(c.qs)), note: e.note, ref: ref.p50}
		if c.i8 != nil {
			r.note = strings.TrimPrefix(r.note+fmt.Sprintf("; int8 floor meanwhile %.2f ms", ref.p50.Seconds()*1000), "; ")
		}
		c.print(r)
	}
	return nil
}

func (c *vcase) chromem() error {
	ctx := context.Background()
	if !c.fits("chromem-go", float64(4*c.dim+600), 0) {
		return nil
	}
	freeMemory()
	base := residentBytes()
	c.wd.resetPeak()
	db := chromem.NewDB()
	noEmbed := func(context.Context, string) ([]float32, error) {
		return nil, errors.New("bench: embeddings are precomputed")
	}
	col, err := db.CreateCollection("bench", nil, noEmbed)
	if err != nil {
		return err
	}
	start := time.Now()
	for lo := 0; lo < c.n; lo += c.batch {
		docs := make([]chromem.Document, 0, c.batch)
		for i := lo; i < min(lo+c.batch, c.n); i++ {
			docs = append(docs, chromem.Document{ID: strconv.Itoa(i), Embedding: slices.Clone(c.flat[i*c.dim : (i+1)*c.dim]), Content: "x",
				Metadata: map[string]string{"group": strconv.Itoa(i % 100)}})
		}
		if err := col.AddDocuments(ctx, docs, runtime.GOMAXPROCS(0)); err != nil {
			return err
		}
	}
	rate := float64(c.n) / time.Since(start).Seconds()
	freeMemory()
	rss := float64(residentBytes()-base) / float64(c.n)
	e := &eng{name: "chromem-go", truth: c.truth, search: func(q []float32) ([]string, error) {
		res, err := col.QueryEmbedding(ctx, q, 10, nil, nil)
		ids := make([]string, len(res))
		for j, r := range res {
			ids[j] = r.ID
		}
		return ids, err
	}}
	if err := c.measureOne(e, vrow{engine: "chromem-go", rate: rate, rssPerVec: rss, note: "v0.7.0 in memory, exact"}); err != nil {
		return err
	}
	db, col = nil, nil
	runtime.KeepAlive(db)
	freeMemory()

	if !c.fits("kb/chromem", float64(4*c.dim+800), 0) {
		return nil
	}
	base = residentBytes()
	c.wd.resetPeak()
	backend, err := kbchromem.Open(kbchromem.Options{Dimensions: c.dim})
	if err != nil {
		return err
	}
	defer backend.Close()
	brate, err := c.load(backend)
	if err != nil {
		return err
	}
	freeMemory()
	rss = float64(residentBytes()-base) / float64(c.n)
	return c.measureOne(storeEng("kb/chromem", backend, kb.Filter{}, c.truth), vrow{engine: "kb/chromem", rate: brate, rssPerVec: rss, note: "our kbstore.Store over chromem-go"})
}

// measureOne times e with the int8 floor and prints its row (r gives the
// other fields).
func (c *vcase) measureOne(e *eng, r vrow) error {
	engs := append([]*eng{e}, c.refs()...)
	ts, err := c.measure(engs...)
	if err != nil {
		return err
	}
	r.p50, r.p95, r.recall, r.peak = ts[0].p50, ts[0].p95, e.recall(len(c.qs)), c.wd.peak()
	if len(ts) > 1 {
		r.ref = ts[1].p50
		r.note += fmt.Sprintf("; int8 floor meanwhile %.2f ms", ts[1].p50.Seconds()*1000)
	}
	c.print(r)
	return nil
}

// clusteredFlat draws n unit vectors around n/1000 (at least 20) random
// centres into one contiguous array, and q queries from the same mixture.
func clusteredFlat(n, dim, q int, seed uint64) ([]float32, [][]float32) {
	r := rand.New(rand.NewPCG(seed, 12))
	centres := make([][]float32, max(20, n/1000))
	for i := range centres {
		centres[i] = unit(gauss(r, dim))
	}
	spread := float32(0.6 / math.Sqrt(float64(dim)))
	point := func(v []float32) {
		c := centres[r.IntN(len(centres))]
		for j := range v {
			v[j] = c[j] + float32(r.NormFloat64())*spread
		}
		unit(v)
	}
	flat := make([]float32, n*dim)
	for i := range n {
		point(flat[i*dim : (i+1)*dim])
	}
	qs := make([][]float32, q)
	for i := range qs {
		qs[i] = make([]float32, dim)
		point(qs[i])
	}
	return flat, qs
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

// topScan scores rows 0..n-1 with score, split across workers goroutines,
// and returns the k best row numbers, best first (ties: lower row first).
func topScan(n, workers, k int, score func(i int) float32) []int {
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
				s := score(i)
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

// floorScan is the reference: a plain SIMD scan over one contiguous array,
// split across workers goroutines, keeping a top-k per worker. keep, when
// set, filters rows (a row it rejects scores -Inf and is never returned
// while k rows pass).
func floorScan(flat []float32, dim int, q []float32, k, workers int, keep func(int) bool) []int {
	n := len(flat) / dim
	neg := float32(math.Inf(-1))
	out := topScan(n, workers, k, func(i int) float32 {
		if keep != nil && !keep(i) {
			return neg
		}
		return simd.Dot(q, flat[i*dim:(i+1)*dim:(i+1)*dim])
	})
	if keep != nil {
		out = slices.DeleteFunc(out, func(i int) bool { return !keep(i) })
	}
	return out
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

func recallInts(got, want []int) float64 {
	n := 0
	for _, g := range got {
		if slices.Contains(want, g) {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

func hitIDs(hits []kbstore.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}
