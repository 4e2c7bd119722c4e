package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func readReport(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReport checks the lines .ci/run greps for: "<pkg>: N tests ran
// against <server>" counting each test once however often it asks for the
// pool, and the "no test reached" line, appended to the same file.
func TestReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report")
	s := &Server{Package: "kb/example", server: "PostgreSQL 17.0"}
	for _, name := range []string{"TestA", "TestB", "TestA", "TestB/sub"} {
		s.ran.Store(name, true)
	}
	s.report(path)
	(&Server{Package: "agent/example"}).report(path)
	want := "kb/example: 3 tests ran against PostgreSQL 17.0\n" +
		"agent/example: no test reached PostgreSQL (BEDROCKKIT_PG_DSN unset or unusable)\n"
	if got := readReport(t, path); got != want {
		t.Fatalf("report file:\n%s\nwant:\n%s", got, want)
	}
}

func TestSkipsWithoutDSN(t *testing.T) {
	t.Setenv(DSNEnv, "")
	s := &Server{Package: "kb/example", Requires: "any PostgreSQL"}
	var reached bool
	t.Run("pool", func(t *testing.T) {
		s.Pool(t)
		reached = true
	})
	if reached {
		t.Fatal("Pool returned without a DSN instead of skipping")
	}
	n := 0
	s.ran.Range(func(any, any) bool { n++; return true })
	if n != 0 || s.pool != nil {
		t.Fatalf("a skipped test was counted (%d) or opened a pool", n)
	}
}

// TestPoolAndTable runs against the real test server when there is one.
func TestPoolAndTable(t *testing.T) {
	var dropped []string
	s := &Server{Package: "internal/testutil/pgtest"}
	t.Cleanup(func() {
		if s.pool != nil {
			s.pool.Close()
		}
	})
	t.Run("table", func(t *testing.T) {
		name := s.Table(t, "bkpgtest", func(pool *pgxpool.Pool, name string) {
			pool.Exec(context.Background(), "DROP TABLE "+pgx.Identifier{name}.Sanitize())
			dropped = append(dropped, name)
		})
		if !strings.HasPrefix(name, "bkpgtest_") || name == s.Table(t, "bkpgtest", func(*pgxpool.Pool, string) {}) {
			t.Fatalf("table name %q is not prefixed or not unique", name)
		}
		if _, err := s.Pool(t).Exec(context.Background(), "CREATE TABLE "+pgx.Identifier{name}.Sanitize()+" (x int)"); err != nil {
			t.Fatal(err)
		}
	})
	if s.pool == nil {
		return // skipped: no server
	}
	if len(dropped) != 1 {
		t.Fatalf("drop called for %v, want one table", dropped)
	}
	if !strings.HasPrefix(s.server, "PostgreSQL ") {
		t.Fatalf("server described as %q", s.server)
	}
	path := filepath.Join(t.TempDir(), "report")
	s.report(path)
	if got := readReport(t, path); !strings.HasPrefix(got, "internal/testutil/pgtest: 1 tests ran against PostgreSQL ") {
		t.Fatalf("report %q", got)
	}
}
