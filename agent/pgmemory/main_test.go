package pgmemory_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"
)

// The tests that need PostgreSQL read its DSN from BEDROCKKIT_PG_DSN (set
// by .ci/run, which starts PostgreSQL 17) and skip without it.
// BEDROCKKIT_PG_REPORT names a file that receives a line saying how many of
// them ran, so CI can show they were not skipped.
const dsnEnv = "BEDROCKKIT_PG_DSN"

var (
	dbOnce    sync.Once
	dbPool    *pgxpool.Pool
	dbErr     error
	dbServer  string
	ranWithDB sync.Map // names of the tests that reached the server
	tableSeq  atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if dbPool != nil {
		dbPool.Close()
	}
	if path := os.Getenv("BEDROCKKIT_PG_REPORT"); path != "" {
		n := 0
		ranWithDB.Range(func(any, any) bool { n++; return true })
		line := fmt.Sprintf("agent/pgmemory: %d tests ran against %s\n", n, dbServer)
		if dbServer == "" {
			line = "agent/pgmemory: no test reached PostgreSQL (BEDROCKKIT_PG_DSN unset or unusable)\n"
		}
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			f.WriteString(line)
			f.Close()
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// dsn returns the test server's DSN or skips the test.
func dsn(t testing.TB) string {
	t.Helper()
	d := os.Getenv(dsnEnv)
	if d == "" {
		t.Skip(dsnEnv + " is not set; run `bash .ci/pg.sh start` (or point it at any PostgreSQL) to run this test")
	}
	return d
}

// sharedPool returns the package's pool, or skips the test.
func sharedPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	d := dsn(t)
	dbOnce.Do(func() {
		ctx := context.Background()
		cfg, err := pgxpool.ParseConfig(d)
		if err != nil {
			dbErr = err
			return
		}
		cfg.MaxConns = 8
		if dbPool, dbErr = pgxpool.NewWithConfig(ctx, cfg); dbErr != nil {
			return
		}
		dbErr = dbPool.QueryRow(ctx, `SELECT 'PostgreSQL ' || current_setting('server_version')`).Scan(&dbServer)
	})
	if dbErr != nil {
		t.Fatalf("%s is set but unusable: %v", dsnEnv, dbErr)
	}
	ranWithDB.Store(t.Name(), true)
	return dbPool
}

// newPool opens a pool of its own (a "process"), closed when the test ends.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	sharedPool(t)
	p, err := pgxpool.New(context.Background(), dsn(t))
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
	pool := sharedPool(t)
	name := fmt.Sprintf("bkm_%d_%d", os.Getpid(), tableSeq.Add(1))
	t.Cleanup(func() { dropTable(pool, "", name) })
	return name
}

const migrationsTable = "bedrockkit_pgmemory_migrations"

func dropTable(pool *pgxpool.Pool, schema, name string) {
	ctx := context.Background()
	t, mt := pgx.Identifier{name}, pgx.Identifier{migrationsTable}
	if schema != "" {
		t, mt = pgx.Identifier{schema, name}, pgx.Identifier{schema, migrationsTable}
	}
	pool.Exec(ctx, "DROP TABLE IF EXISTS "+t.Sanitize())
	pool.Exec(ctx, "DELETE FROM "+mt.Sanitize()+" WHERE table_name = $1", name)
}
