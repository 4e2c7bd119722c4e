package longmemory_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrockkit/bedrockkit/agent/longmemory"
	"github.com/bedrockkit/bedrockkit/agent/longmemory/longmemorytest"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/internal/testutil/pgtest"
	"github.com/bedrockkit/bedrockkit/kb/pgvector"
)

// The PostgreSQL tests read the server's DSN from BEDROCKKIT_PG_DSN (.ci/run
// starts PostgreSQL 17 + pgvector) and skip without it; the line pg writes to
// BEDROCKKIT_PG_REPORT shows CI that they ran.
var pg = &pgtest.Server{
	Package:  "agent/longmemory",
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

// appRole is an ordinary role (not superuser, not BYPASSRLS, not the
// table's owner), as an application using row-level security logs in.
const appRole = "bedrockkit_longmemory_app"

var (
	appOnce sync.Once
	appPool *pgxpool.Pool
	appErr  error
)

func applicationPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	owner := pg.Pool(t)
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
		if appPool, appErr = pgxpool.NewWithConfig(ctx, cfg); appErr == nil {
			appErr = appPool.Ping(ctx)
		}
	})
	if appErr != nil {
		t.Fatalf("cannot create or log in as the application role %s (the DSN's role needs CREATEROLE): %v", appRole, appErr)
	}
	return appPool
}

// rlsStore creates a table with row-level security as the owner and opens
// it as the application role, as a deployment would.
func rlsStore(t *testing.T) (*pgvector.Store, string) {
	t.Helper()
	owner := pg.Pool(t)
	table := pg.Table(t, "lmt", func(pool *pgxpool.Pool, name string) {
		ctx := context.Background()
		pool.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{name}.Sanitize())
		pool.Exec(ctx, "DELETE FROM bedrockkit_pgvector_migrations WHERE table_name = $1", name)
	})
	opts := pgvector.Options{Table: table, Dimensions: 64, RowLevelSecurity: true, GrantTo: []string{appRole}}
	ctx := context.Background()
	app := applicationPool(t)
	if err := pgvector.Migrate(ctx, owner, opts); err != nil {
		t.Fatal(err)
	}
	opts.SkipMigrate = true
	st, err := pgvector.Open(ctx, app, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, table
}

func TestConformancePgvectorRLS(t *testing.T) {
	longmemorytest.Run(t, func(t *testing.T) longmemory.Backend {
		st, _ := rlsStore(t)
		return longmemory.NewKBBackend(st, bedrockkittest.NewHashEmbedder(64), longmemory.KBOptions{})
	})
}

func TestIsolationPgvectorRLS(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			st, _ := rlsStore(t)
			longmemorytest.Isolation(t, longmemory.NewKBBackend(st, bedrockkittest.NewHashEmbedder(64), longmemory.KBOptions{}), 100+seed, 8, 60)
		})
	}
}

// TestScenarioPgvectorRLS runs the scenario on PostgreSQL and checks, as
// the table's owner (who bypasses nothing: the rows are gone), that no row
// of the customer is left, and, as the application role, that a
// hand-written query without a tenant sees no row at all.
func TestScenarioPgvectorRLS(t *testing.T) {
	st, table := rlsStore(t)
	backend := longmemory.NewKBBackend(st, bedrockkittest.NewHashEmbedder(64), longmemory.KBOptions{})
	ctx := context.Background()
	// Another customer's data, which must survive and stay invisible.
	if _, err := backend.CreateRecords(ctx, "customer-2", []longmemory.MemoryRecord{{Actor: "customer-2", Namespace: "/facts/customer-2",
		Strategy: "facts", Text: "The user lives in Faro."}}); err != nil {
		t.Fatal(err)
	}
	actor, e := longmemorytest.Scenario(t, backend, longmemorytest.ScenarioOptions{})
	if e.Residue == "" {
		t.Fatalf("erasure %+v: PostgreSQL keeps dead rows until VACUUM; the erasure must say so", e)
	}
	var n int
	q := "SELECT count(*) FROM " + pgx.Identifier{table}.Sanitize()
	if err := pg.Pool(t).QueryRow(ctx, q+" WHERE partition = $1 OR content LIKE '%Lisbon%' OR content LIKE '%Porto%'", "longmemory:"+actor).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows of the deleted customer are left (%v)", n, err)
	}
	if err := pg.Pool(t).QueryRow(ctx, q).Scan(&n); err != nil || n != 1 {
		t.Fatalf("owner sees %d rows, want customer-2's one (%v)", n, err)
	}
	if err := applicationPool(t).QueryRow(ctx, q).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the application role sees %d rows without a tenant (%v)", n, err)
	}
}
