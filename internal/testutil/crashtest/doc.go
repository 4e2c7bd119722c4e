// Package crashtest kills writer processes with SIGKILL and lets the test
// check what survived. It is for bedrockkit's own durability tests and is
// imported only by _test.go files.
//
// A crash test re-executes its own test binary as a writer child. The
// package's TestMain calls [Child] first; in the child, Child opens the store,
// applies numbered operations and prints each number once the operation is
// durable, and never returns. In the parent, [Kill] starts a child, reads the
// acknowledged numbers, kills the child at a random point, and hands the test
// a [State] to reopen the store and check that every acknowledged operation
// is present. Each child continues numbering where the previous one was
// asked to stop, so every run writes new operations into the same directory.
//
//	func TestMain(m *testing.M) {
//		if crashWriterMain() {
//			return
//		}
//		goleak.VerifyTestMain(m)
//	}
//
//	func crashWriterMain() bool {
//		return crashtest.Child(envPrefix, func(dir string) (crashtest.Writer, error) { ... })
//	}
//
//	func TestCrashKill(t *testing.T) {
//		crashtest.Kill(t, crashtest.Config{EnvPrefix: envPrefix, Kills: 5, PerRun: 1000},
//			func(st crashtest.State) { /* reopen st.Dir and check st.Acked */ })
//	}
//
// The number of kills and operations per child are the test's defaults
// unless the environment variable named by [FullEnv] is "1", which runs
// [FullKills] x [FullPerRun].
package crashtest
