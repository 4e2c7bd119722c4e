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
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/pgvector"
)

func init() { commands["pgvector"] = runPgvector }

// runPgvector measures kb/pgvector against the PostgreSQL in
// BEDROCKKIT_PG_DSN: bulk load rate (COPY), HNSW build time, query latency
// and recall@10 through the HNSW index and exactly, over the whole table and
// under a 1%-selective tenant filter. Ground truth is a float64 brute force
// in Go, so "exact" recall checks the server's exact mode too.
func runPgvector(args []string) error {
	fs := flag.NewFlagSet("pgvector", flag.ContinueOnError)
	n := fs.Int("n", 100000, "rows")
	dim := fs.Int("dim", 384, "dimensions")
	queries := fs.Int("queries", 200, "timed queries per mode")
	batch := fs.Int("batch", 5000, "rows per Upsert (one COPY each)")
	m := fs.Int("m", 16, "HNSW M")
	efc := fs.Int("efc", 128, "HNSW EfConstruction")
	ef := fs.Int("ef", 40, "HNSW EfSearch")
	seed := fs.Uint64("seed", 1, "data seed")
	keep := fs.Bool("keep", false, "keep the table afterwards")
	indexTenant := fs.Bool("index-tenant", false, "give the tenant metadata key a B-tree index (IndexedKeys)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dsn := os.Getenv("BEDROCKKIT_PG_DSN")
	if dsn == "" {
		return errors.New("set BEDROCKKIT_PG_DSN to a PostgreSQL with pgvector >= 0.8 (bash .ci/pg.sh start prints one)")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	var server string
	if err := pool.QueryRow(ctx, `SELECT 'PostgreSQL ' || current_setting('server_version') || ', pgvector ' ||
		coalesce((SELECT extversion FROM pg_extension WHERE extname = 'vector'), 'not installed')`).Scan(&server); err != nil {
		return err
	}
	table := fmt.Sprintf("bench_pgvector_%d", os.Getpid())
	drop := func() {
		pool.Exec(ctx, "DROP TABLE IF EXISTS "+table)
		pool.Exec(ctx, "DELETE FROM bedrockkit_pgvector_migrations WHERE table_name = $1", table)
	}
	if !*keep {
		defer drop()
	}
	opts := pgvector.Options{Table: table, Dimensions: *dim, DeferIndex: true, Search: pgvector.Index,
		HNSW: pgvector.HNSWOptions{M: *m, EfConstruction: *efc, EfSearch: *ef}}
	if *indexTenant {
		opts.IndexedKeys = []string{"tenant"}
	}
	idx, err := pgvector.Open(ctx, pool, opts)
	if err != nil {
		return err
	}
	opts.Search = pgvector.Exact
	exact, err := pgvector.Open(ctx, pool, opts)
	if err != nil {
		return err
	}
	opts.Search = pgvector.Auto
	auto, err := pgvector.Open(ctx, pool, opts)
	if err != nil {
		return err
	}
	fmt.Printf("# pgvector bench: %s; n=%d dim=%d queries=%d GOMAXPROCS=%d HNSW m=%d ef_construction=%d ef_search=%d tenant index=%v\n",
		server, *n, *dim, *queries, runtime.GOMAXPROCS(0), *m, *efc, *ef, *indexTenant)

	data, qs := pgClustered(*n, *dim, *queries, *seed)
	rare := func(i int) bool { return i%100 == 42 } // the 1% tenant
	recs := make([]kbstore.Record, 0, *batch)
	start := time.Now()
	for i := 0; i < *n; i++ {
		tenant := "common"
		if rare(i) {
			tenant = "rare"
		}
		recs = append(recs, kbstore.Record{ID: strconv.Itoa(i), DocumentID: strconv.Itoa(i / 10), Text: "chunk " + strconv.Itoa(i),
			Vector: data[i], Metadata: map[string]any{"tenant": tenant}})
		if len(recs) == *batch || i == *n-1 {
			if err := idx.Upsert(ctx, recs); err != nil {
				return err
			}
			recs = recs[:0]
		}
	}
	load := time.Since(start)
	start = time.Now()
	if err := idx.CreateIndex(ctx); err != nil {
		return err
	}
	build := time.Since(start)
	fmt.Printf("load: %d rows in %.2f s = %.0f rows/s (COPY, no index); HNSW build %.2f s\n",
		*n, load.Seconds(), float64(*n)/load.Seconds(), build.Seconds())

	truth := pgBrute(data, qs, 10, nil)
	truthRare := pgBrute(data, qs, 10, rare)
	filter := kb.Equals("tenant", "rare")
	type row struct {
		name     string
		s        *pgvector.Store
		f        kb.Filter
		truth    [][]int
		p50, p95 float64
		recall   float64
		tieRec   float64 // hits within 1e-6 of the 10th true score count
		scan     string  // what the plan walks
		short    int
	}
	rows := []*row{
		{name: "hnsw", s: idx, truth: truth},
		{name: "exact", s: exact, truth: truth},
		{name: "auto", s: auto, truth: truth}, // the default mode: counts the partition first
		{name: "hnsw+1%filter", s: idx, f: filter, truth: truthRare},
		{name: "exact+1%filter", s: exact, f: filter, truth: truthRare},
		{name: "auto+1%filter", s: auto, f: filter, truth: truthRare}, // the planner's choice
	}
	for _, r := range rows {
		var lat []float64
		var rec, tie float64
		for qi, q := range qs {
			t0 := time.Now()
			hits, err := r.s.Search(ctx, kbstore.Query{Vector: q, K: 10, Filter: r.f})
			if err != nil {
				return err
			}
			lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
			if len(hits) < 10 {
				r.short++
			}
			want := map[string]bool{}
			for _, w := range r.truth[qi] {
				want[strconv.Itoa(w)] = true
			}
			kth := pgDot(data[r.truth[qi][len(r.truth[qi])-1]], q)
			got, close := 0, 0
			for _, h := range hits {
				if want[h.ID] {
					got++
				}
				if i, err := strconv.Atoi(h.ID); err == nil && pgDot(data[i], q) >= kth-1e-6 {
					close++
				}
			}
			rec += float64(got) / float64(len(r.truth[qi]))
			tie += float64(min(close, len(r.truth[qi]))) / float64(len(r.truth[qi]))
		}
		sort.Float64s(lat)
		r.p50, r.p95 = lat[len(lat)/2], lat[len(lat)*95/100]
		r.recall, r.tieRec = rec/float64(len(qs)), tie/float64(len(qs))
		plan, err := r.s.Explain(ctx, kbstore.Query{Vector: qs[0], K: 10, Filter: r.f})
		if err != nil {
			return err
		}
		r.scan = "exact scan"
		if strings.Contains(plan, "hnsw") {
			r.scan = "HNSW index"
		}
		fmt.Printf("%-15s %-10s p50 %7.2f ms  p95 %7.2f ms  recall@10 %.4f (ties within 1e-6: %.4f)  queries with < 10 rows: %d\n",
			r.name, r.scan, r.p50, r.p95, r.recall, r.tieRec, r.short)
	}
	fmt.Printf("load_rows_per_s=%.0f hnsw_build_s=%.2f hnsw_p50_ms=%.2f hnsw_recall10=%.4f exact_p50_ms=%.2f exact_recall10=%.4f exact_recall10_ties=%.4f auto_p50_ms=%.2f "+
		"filtered_auto_p50_ms=%.2f filtered_auto_recall10=%.4f filtered_hnsw_p50_ms=%.2f filtered_hnsw_recall10=%.4f filtered_exact_recall10=%.4f filtered_short=%d\n",
		float64(*n)/load.Seconds(), build.Seconds(), rows[0].p50, rows[0].recall, rows[1].p50, rows[1].recall, rows[1].tieRec, rows[2].p50, rows[5].p50, rows[5].recall,
		rows[3].p50, rows[3].recall, rows[4].recall, rows[3].short+rows[4].short)
	return nil
}

// pgClustered draws n unit vectors around n/1000 (at least 20) centres, like
// embeddings of a corpus with topics, and queries from the same mixture.
func pgClustered(n, dim, queries int, seed uint64) ([][]float32, [][]float32) {
	r := rand.New(rand.NewPCG(seed, 77))
	gauss := func() []float32 {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		return v
	}
	norm := func(v []float32) []float32 {
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
	centres := make([][]float32, max(20, n/1000))
	for i := range centres {
		centres[i] = norm(gauss())
	}
	point := func() []float32 {
		c := centres[r.IntN(len(centres))]
		v := gauss()
		for j := range v {
			v[j] = c[j] + v[j]*float32(0.6/math.Sqrt(float64(dim)))
		}
		return norm(v)
	}
	data := make([][]float32, n)
	for i := range data {
		data[i] = point()
	}
	qs := make([][]float32, queries)
	for i := range qs {
		qs[i] = point()
	}
	return data, qs
}

func pgDot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// pgBrute is the float64 ground truth: the k rows of highest cosine
// similarity (data is unit length) among those keep accepts.
func pgBrute(data, qs [][]float32, k int, keep func(int) bool) [][]int {
	out := make([][]int, len(qs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for qi, q := range qs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			type sc struct {
				i int
				s float64
			}
			best := make([]sc, 0, k+1)
			for i, v := range data {
				if keep != nil && !keep(i) {
					continue
				}
				var dot float64
				for j := range v {
					dot += float64(v[j]) * float64(q[j])
				}
				if len(best) == k && dot <= best[k-1].s {
					continue
				}
				best = append(best, sc{i, dot})
				sort.Slice(best, func(a, b int) bool { return best[a].s > best[b].s })
				if len(best) > k {
					best = best[:k]
				}
			}
			ids := make([]int, len(best))
			for i, b := range best {
				ids[i] = b.i
			}
			out[qi] = ids
		}()
	}
	wg.Wait()
	return out
}
