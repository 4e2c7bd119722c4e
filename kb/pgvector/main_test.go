package pgvector

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrockkit/bedrockkit/internal/testutil/pgtest"
)

// The tests that need PostgreSQL read its DSN from BEDROCKKIT_PG_DSN (set
// by .ci/run, which starts PostgreSQL 17 + pgvector) and skip without it.
// BEDROCKKIT_PG_REPORT names a file that receives a line saying how many of
// them ran, so CI can show they were not skipped (package pgtest).
var pg = &pgtest.Server{
	Package:  "kb/pgvector",
	Requires: "PostgreSQL with pgvector >= 0.8",
	Setup: func(ctx context.Context, pool *pgxpool.Pool) (string, error) {
		if _, err := pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS vector"); err != nil {
			return "", err
		}
		var server string
		err := pool.QueryRow(ctx, `SELECT 'PostgreSQL ' || current_setting('server_version') || ', pgvector ' || extversion
			FROM pg_extension WHERE extname = 'vector'`).Scan(&server)
		return server, err
	},
}

func TestMain(m *testing.M) {
	pg.Main(m, func() {
		if appPool != nil {
			appPool.Close()
		}
	})
}

// ownerPool returns the pool for the DSN's role, or skips the test.
func ownerPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return pg.Pool(t)
}

// newTable returns a fresh table name and drops the table when the test ends.
func newTable(t testing.TB) string {
	t.Helper()
	return pg.Table(t, "bkt", dropTable)
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
