package pgmemory_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrockkit/bedrockkit/internal/testutil/pgtest"
)

// The tests that need PostgreSQL read its DSN from BEDROCKKIT_PG_DSN (set
// by .ci/run, which starts PostgreSQL 17) and skip without it.
// BEDROCKKIT_PG_REPORT names a file that receives a line saying how many of
// them ran, so CI can show they were not skipped (package pgtest).
var pg = &pgtest.Server{Package: "agent/pgmemory", Requires: "any PostgreSQL"}

func TestMain(m *testing.M) { pg.Main(m) }

// sharedPool returns the package's pool, or skips the test.
func sharedPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return pg.Pool(t)
}

// newPool opens a pool of its own (a "process"), closed when the test ends.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	sharedPool(t)
	p, err := pgxpool.New(context.Background(), pg.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// newTable returns a fresh table name and drops the table (and its
// migration records) when the test ends.
func newTable(t testing.TB) string {
	t.Helper()
	return pg.Table(t, "bkm", dropTable)
}

const migrationsTable = "bedrockkit_pgmemory_migrations"

func dropTable(pool *pgxpool.Pool, name string) {
	ctx := context.Background()
	pool.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{name}.Sanitize())
	pool.Exec(ctx, "DELETE FROM "+pgx.Identifier{migrationsTable}.Sanitize()+" WHERE table_name = $1", name)
}
