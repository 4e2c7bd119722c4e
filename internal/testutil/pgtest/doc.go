// Package pgtest connects bedrockkit's PostgreSQL-backed test packages to
// the test server and reports to CI how many of their tests reached it. It
// is imported only by _test.go files.
//
// The server's DSN comes from the environment variable named by [DSNEnv]
// (.ci/run starts PostgreSQL and sets it; `bash .ci/pg.sh start` does the
// same by hand); without it, every test that asks for a pool is skipped.
// When the variable named by [ReportEnv] names a file, [Server.Main] appends
// one line to it after the tests,
//
//	kb/pgvector: 12 tests ran against PostgreSQL 17.6, pgvector 0.8.0
//
// or, when no test reached the server,
//
//	kb/pgvector: no test reached PostgreSQL (BEDROCKKIT_PG_DSN unset or unusable)
//
// and .ci/run fails unless each server-backed package wrote a line with a
// count of at least one. A package declares one [Server] and runs its tests
// through it:
//
//	var pg = &pgtest.Server{Package: "kb/pgvector", Requires: "PostgreSQL with pgvector >= 0.8"}
//
//	func TestMain(m *testing.M) { pg.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		pool := pg.Pool(t) // skips without BEDROCKKIT_PG_DSN
//		...
//	}
package pgtest
