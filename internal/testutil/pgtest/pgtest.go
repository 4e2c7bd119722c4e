package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"
)

// DSNEnv names the environment variable that holds the test server's DSN.
const DSNEnv = "BEDROCKKIT_PG_DSN"

// ReportEnv names the environment variable that holds the path of the file
// [Server.Main] appends its report line to.
const ReportEnv = "BEDROCKKIT_PG_REPORT"

// Server is a test package's shared connection to the PostgreSQL test
// server. Declare one per package as a variable; its zero state (with
// Package set) is ready to use and safe for concurrent tests.
type Server struct {
	// Package is the package's path inside the module ("kb/pgvector"),
	// the name the report line starts with and .ci/run looks for.
	Package string
	// Requires says what server the tests need ("any PostgreSQL"); it
	// completes the message of a test skipped for want of a DSN. Empty
	// means "a PostgreSQL server".
	Requires string
	// Setup, if set, prepares the server once, before the first test uses
	// the pool, and returns the server's description for the report line.
	// Nil means [Version].
	Setup func(ctx context.Context, pool *pgxpool.Pool) (string, error)

	once   sync.Once
	pool   *pgxpool.Pool
	err    error
	server string
	ran    sync.Map // names of the tests that reached the server
	seq    atomic.Int64
}

// DSN returns the test server's DSN, or skips the test when [DSNEnv] is
// not set.
func (s *Server) DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(DSNEnv)
	if dsn == "" {
		requires := s.Requires
		if requires == "" {
			requires = "a PostgreSQL server"
		}
		t.Skip(DSNEnv + " is not set; run `bash .ci/pg.sh start` (or point it at " + requires + ") to run this test")
	}
	return dsn
}

// Pool returns the package's shared pool (at most 8 connections, as the
// DSN's role), opening it and running Setup on first use, and counts the
// test as one that reached the server. It skips the test when [DSNEnv] is
// not set and fails it when the server cannot be used.
func (s *Server) Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := s.DSN(t)
	s.once.Do(func() {
		ctx := context.Background()
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			s.err = err
			return
		}
		cfg.MaxConns = 8
		if s.pool, s.err = pgxpool.NewWithConfig(ctx, cfg); s.err != nil {
			return
		}
		setup := s.Setup
		if setup == nil {
			setup = Version
		}
		s.server, s.err = setup(ctx, s.pool)
	})
	if s.err != nil {
		t.Fatalf("%s is set but unusable: %v", DSNEnv, s.err)
	}
	s.ran.Store(t.Name(), true)
	return s.pool
}

// Table returns a table name no other test uses (prefix, the process ID
// and a sequence number) and calls drop with the shared pool and the name
// when the test ends. Like [Server.Pool], it skips without a DSN.
func (s *Server) Table(t testing.TB, prefix string, drop func(pool *pgxpool.Pool, name string)) string {
	t.Helper()
	pool := s.Pool(t)
	name := fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), s.seq.Add(1))
	t.Cleanup(func() { drop(pool, name) })
	return name
}

// Version returns "PostgreSQL " and the server's version; it is the
// default [Server.Setup].
func Version(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	var v string
	err := pool.QueryRow(ctx, `SELECT 'PostgreSQL ' || current_setting('server_version')`).Scan(&v)
	return v, err
}

// Main runs the package's tests and exits: after m.Run it calls cleanup
// (to close pools the package opened itself), closes the shared pool,
// appends the report line to the file named by [ReportEnv] when that is
// set, and, if the tests passed, fails the run when goroutines leaked
// (go.uber.org/goleak). Call it from TestMain.
func (s *Server) Main(m *testing.M, cleanup ...func()) {
	code := m.Run()
	for _, f := range cleanup {
		f()
	}
	if s.pool != nil {
		s.pool.Close()
	}
	if path := os.Getenv(ReportEnv); path != "" {
		s.report(path)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// report appends the line .ci/run checks to the file at path.
func (s *Server) report(path string) {
	n := 0
	s.ran.Range(func(any, any) bool { n++; return true })
	line := fmt.Sprintf("%s: %d tests ran against %s\n", s.Package, n, s.server)
	if s.server == "" {
		line = s.Package + ": no test reached PostgreSQL (" + DSNEnv + " unset or unusable)\n"
	}
	if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		f.WriteString(line)
		f.Close()
	}
}
