package console_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// The browser tests follow agent/browser's conventions (its
// internal/chromiumtest, which this package cannot import): Chromium is
// required unless BEDROCKKIT_BROWSER_SKIP=1, and when
// BEDROCKKIT_BROWSER_REPORT names a file, TestMain appends
//
//	console: 5 tests ran in Chromium 156.0.8078.129
//
// so CI can check that the browser tests did run.
const (
	browserSkipEnv   = "BEDROCKKIT_BROWSER_SKIP"
	browserReportEnv = "BEDROCKKIT_BROWSER_REPORT"
)

var chromium struct {
	once          sync.Once
	path, version string
	ran           sync.Map
}

// chromiumPath returns Chromium's executable and counts the test as run in
// it; without Chromium it fails the test (skips with BEDROCKKIT_BROWSER_SKIP=1).
func chromiumPath(t testing.TB) string {
	t.Helper()
	chromium.once.Do(func() {
		for _, name := range []string{os.Getenv("BEDROCKKIT_CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
			if name == "" {
				continue
			}
			if p, err := exec.LookPath(name); err == nil {
				chromium.path = p
				break
			}
		}
		if chromium.path != "" {
			out, _ := exec.Command(chromium.path, "--version").Output()
			chromium.version, _, _ = strings.Cut(strings.TrimSpace(string(out)), " built on")
		}
	})
	if chromium.path == "" {
		if os.Getenv(browserSkipEnv) == "1" {
			t.Skip("chromium is not installed and " + browserSkipEnv + "=1 allows skipping")
		}
		t.Fatal("chromium is not installed: run `apt-get install -y --no-install-recommends chromium` (CI: .ci/chromium.sh), set BEDROCKKIT_CHROMIUM to its path, or set " + browserSkipEnv + "=1 to skip the browser tests")
	}
	chromium.ran.Store(t.Name(), true)
	return chromium.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	n := 0
	chromium.ran.Range(func(any, any) bool { n++; return true })
	if path := os.Getenv(browserReportEnv); path != "" {
		line := fmt.Sprintf("console: %d tests ran in %s\n", n, chromium.version)
		if n == 0 {
			line = fmt.Sprintf("console: no test ran in Chromium (not installed, or %s=1)\n", browserSkipEnv)
		}
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			f.WriteString(line)
			f.Close()
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
