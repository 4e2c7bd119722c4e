// Package chromiumtest finds Chromium for the browser tests and reports
// to CI how many tests ran in it, the way internal/testutil/pgtest does
// for PostgreSQL. It is imported only by _test.go files.
//
// A test that needs Chromium calls [Suite.Chromium]. When no Chromium is
// installed the test fails — unless the environment variable named by
// [SkipEnv] is set to 1, which only a developer without Chromium sets;
// CI installs it with .ci/chromium.sh and never sets the variable. When
// the variable named by [ReportEnv] names a file, [Suite.Main] appends
// one line to it after the tests,
//
//	agent/browser: 21 tests ran in Chromium 156.0.8078.129
//
// or, when none did, "agent/browser: no test ran in Chromium (...)", and
// .ci/run fails unless every browser package wrote a count of at least
// one.
package chromiumtest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// SkipEnv names the environment variable that, set to 1, lets browser
// tests skip when no Chromium is installed.
const SkipEnv = "BEDROCKKIT_BROWSER_SKIP"

// ReportEnv names the environment variable holding the path of the file
// Main appends its report line to.
const ReportEnv = "BEDROCKKIT_BROWSER_REPORT"

// Suite is a test package's use of Chromium.
type Suite struct {
	// Package is the package's path in the module ("agent/browser").
	Package string

	once    sync.Once
	path    string
	version string
	ran     sync.Map
}

// find looks for Chromium as browser.FindChromium does.
func (s *Suite) find() {
	s.once.Do(func() {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "/usr/bin/chromium"} {
			if p, err := exec.LookPath(name); err == nil {
				s.path = p
				break
			}
		}
		if s.path == "" {
			return
		}
		out, _ := exec.Command(s.path, "--version").Output()
		s.version = strings.TrimSpace(string(out))
		if i := strings.Index(s.version, " built on"); i > 0 {
			s.version = s.version[:i]
		}
	})
}

// Chromium returns the path of the Chromium executable and counts the
// test as one that ran in it. Without Chromium it fails the test, or
// skips it when SkipEnv is 1.
func (s *Suite) Chromium(t testing.TB) string {
	t.Helper()
	s.find()
	if s.path == "" {
		if os.Getenv(SkipEnv) == "1" {
			t.Skip("chromium is not installed and " + SkipEnv + "=1 allows skipping")
		}
		t.Fatal("chromium is not installed: run `bash .ci/chromium.sh` (apt-get install chromium), or set " + SkipEnv + "=1 to skip the browser tests")
	}
	s.ran.Store(t.Name(), true)
	return s.path
}

// Main runs the tests, appends the report line when ReportEnv is set,
// and, if the tests passed, fails the run when goroutines leaked.
func (s *Suite) Main(m *testing.M) {
	code := m.Run()
	n := 0
	s.ran.Range(func(any, any) bool { n++; return true })
	if path := os.Getenv(ReportEnv); path != "" {
		line := fmt.Sprintf("%s: %d tests ran in %s\n", s.Package, n, s.version)
		if n == 0 {
			line = fmt.Sprintf("%s: no test ran in Chromium (not installed, or %s=1)\n", s.Package, SkipEnv)
		}
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			_, _ = f.WriteString(line)
			_ = f.Close()
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
