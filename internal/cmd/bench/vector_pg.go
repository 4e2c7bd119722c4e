package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/pgvector"
)

// pgState holds the pgvector table of a case and one engine per
// ef_search, timed in the query phase beside localindex.
type pgState struct {
	pool    *pgxpool.Pool
	table   string
	engines []*eng
}

func (p *pgState) close() {
	ctx := context.Background()
	p.pool.Exec(ctx, "DROP TABLE IF EXISTS "+p.table)
	p.pool.Exec(ctx, "DELETE FROM bedrockkit_pgvector_migrations WHERE table_name = $1", p.table)
	p.pool.Close()
}

// pgvector loads the same data into kb/pgvector over BEDROCKKIT_PG_DSN and
// builds its HNSW index with the same M and EfConstruction on the same
// cores (leader plus -pg-workers parallel workers). The server's memory is
// outside this process's budget; the table and index sizes are reported
// per vector instead.
func (c *vcase) pgvector() error {
	dsn := os.Getenv("BEDROCKKIT_PG_DSN")
	if dsn == "" {
		c.print(vrow{engine: "pgvector", recall: -1, note: "skipped: set BEDROCKKIT_PG_DSN (BEDROCKKIT_PG_PORT=54369 bash .ci/pg.sh start prints one)"})
		return nil
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return err
	}
	maint := c.pgMem
	if maint == 0 {
		// pgvector keeps the graph being built in maintenance_work_mem;
		// past it the build slows down many times over.
		maint = min(int64(float64(c.n)*float64(4*c.dim+8*c.m*2+200)*1.3)+256<<20, c.budget/2)
	}
	cfg.ConnConfig.RuntimeParams["maintenance_work_mem"] = strconv.FormatInt(maint>>20, 10) + "MB"
	cfg.ConnConfig.RuntimeParams["max_parallel_maintenance_workers"] = strconv.Itoa(c.pgWorkers)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	var server string
	if err := pool.QueryRow(ctx, `SELECT 'PostgreSQL ' || current_setting('server_version') || ', pgvector ' ||
		coalesce((SELECT extversion FROM pg_extension WHERE extname = 'vector'), 'not installed')`).Scan(&server); err != nil {
		pool.Close()
		return err
	}
	st := &pgState{pool: pool, table: fmt.Sprintf("bench_vector_%d", os.Getpid())}
	opts := pgvector.Options{Table: st.table, Dimensions: c.dim, DeferIndex: true, Search: pgvector.Index,
		HNSW: pgvector.HNSWOptions{M: c.m, EfConstruction: c.efc, EfSearch: c.pgEfs[0]}}
	s, err := pgvector.Open(ctx, pool, opts)
	if err != nil {
		st.close()
		return err
	}
	batch := c.batch
	c.batch = max(batch, 5000) // one COPY each
	rate, err := c.load(s)
	c.batch = batch
	if err != nil {
		st.close()
		return err
	}
	t0 := time.Now()
	if err := s.CreateIndex(ctx); err != nil {
		st.close()
		return err
	}
	build := time.Since(t0)
	var tableBytes, indexBytes int64
	if err := pool.QueryRow(ctx, "SELECT pg_table_size($1::regclass), pg_indexes_size($1::regclass)", st.table).Scan(&tableBytes, &indexBytes); err != nil {
		st.close()
		return err
	}
	c.print(vrow{engine: "pgvector build", rate: float64(c.n) / build.Seconds(), recall: -1,
		note: fmt.Sprintf("%s; CREATE INDEX %.0f s, M=%d ef_construction=%d, 1+%d processes, maintenance_work_mem %d MB; COPY %.0f rows/s; table %.0f + index %.0f B/vec on disk",
			server, build.Seconds(), c.m, c.efc, c.pgWorkers, maint>>20, rate, float64(tableBytes)/float64(c.n), float64(indexBytes)/float64(c.n))})
	for _, ef := range c.pgEfs {
		opts.HNSW.EfSearch = ef
		es, err := pgvector.Open(ctx, pool, opts)
		if err != nil {
			st.close()
			return err
		}
		plan, err := es.Explain(ctx, kbstore.Query{Vector: c.qs[0], K: 10})
		if err != nil {
			st.close()
			return err
		}
		e := storeEng(fmt.Sprintf("pgvector ef=%d", ef), es, kbstore.Filter{}, c.truth)
		e.note = "HNSW index scan"
		if !strings.Contains(plan, "hnsw") {
			e.note = "NOT the HNSW index: " + strings.Join(strings.Fields(plan), " ")
		}
		st.engines = append(st.engines, e)
	}
	c.pg = st
	return nil
}
