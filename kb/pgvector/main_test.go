package pgvector

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
// by .ci/run, which starts PostgreSQL 17 + pgvector) and skip without it.
// BEDROCKKIT_PG_REPORT names a file that receives a line saying how many of
// them ran, so CI can show they were not skipped.
const dsnEnv = "BEDROCKKIT_PG_DSN"

var (
	dbOnce    sync.Once
	dbPool    *pgxpool.Pool // owner (the DSN's role)
	dbErr     error
	dbServer  string
	ranWithDB atomic.Int64
	tableSeq  atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if dbPool != nil {
		dbPool.Close()
	}
	if appPool != nil {
		appPool.Close()
	}
	if path := os.Getenv("BEDROCKKIT_PG_REPORT"); path != "" {
		line := fmt.Sprintf("kb/pgvector: %d tests ran against %s\n", ranWithDB.Load(), dbServer)
		if dbServer == "" {
			line = "kb/pgvector: no test reached PostgreSQL (BEDROCKKIT_PG_DSN unset or unusable)\n"
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

// ownerPool returns the pool for the DSN's role, or skips the test.
func ownerPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skip(dsnEnv + " is not set; run .ci/pg.sh start (or point it at PostgreSQL with pgvector >= 0.8) to run this test")
	}
	dbOnce.Do(func() {
		ctx := context.Background()
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			dbErr = err
			return
		}
		cfg.MaxConns = 8
		dbPool, dbErr = pgxpool.NewWithConfig(ctx, cfg)
		if dbErr != nil {
			return
		}
		if _, dbErr = dbPool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS vector"); dbErr != nil {
			return
		}
		dbErr = dbPool.QueryRow(ctx, `SELECT 'PostgreSQL ' || current_setting('server_version') || ', pgvector ' || extversion
			FROM pg_extension WHERE extname = 'vector'`).Scan(&dbServer)
	})
	if dbErr != nil {
		t.Fatalf("%s is set but unusable: %v", dsnEnv, dbErr)
	}
	ranWithDB.Add(1)
	return dbPool
}

// newTable returns a fresh table name and drops the table when the test ends.
func newTable(t testing.TB) string {
	t.Helper()
	pool := ownerPool(t)
	name := fmt.Sprintf("bkt_%d_%d", os.Getpid(), tableSeq.Add(1))
	t.Cleanup(func() { dropTable(pool, name) })
	return name
}

func dropTable(pool *pgxpool.Pool, name string) {
	ctx := context.Background()
	pool.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{name}.Sanitize())
	pool.Exec(ctx, "DELETE FROM "+migrationsTable+" WHERE table_name = $1", name)
}

const appRole = "bedrockkit_test_app"

var (
	appOnce sync.Once
	appPool *pgxpool.Pool
	appErr  error
)

// applicationPool returns a pool that logs in as an ordinary role (not
// superuser, not BYPASSRLS, not the tables' owner), as an application
// using row-level security would.
func applicationPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	owner := ownerPool(t)
	appOnce.Do(func() {
		ctx := context.Background()
		_, appErr = owner.Exec(ctx, `DO $$ BEGIN
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '`+appRole+`') THEN
				CREATE ROLE `+appRole+` LOGIN NOSUPERUSER NOBYPASSRLS;
			END IF;
			ALTER ROLE `+appRole+` PASSWORD 'bedrockkit-test';
			EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO `+appRole+`', current_database());
			GRANT USAGE ON SCHEMA public TO `+appRole+`;
		END $$`)
		if appErr != nil {
			return
		}
		cfg := owner.Config()
		cfg.ConnConfig.User = appRole
		cfg.ConnConfig.Password = "bedrockkit-test"
		cfg.MaxConns = 4
		appPool, appErr = pgxpool.NewWithConfig(ctx, cfg)
		if appErr == nil {
			appErr = appPool.Ping(ctx)
		}
	})
	if appErr != nil {
		t.Skipf("cannot create or log in as the application role %s (the DSN's role needs CREATEROLE and the server must accept its login): %v", appRole, appErr)
	}
	return appPool
}
