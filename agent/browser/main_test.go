package browser

import (
	"os"
	"testing"

	"github.com/bedrockkit/bedrockkit/agent/browser/internal/chromiumtest"
)

// ChromiumSuite counts the tests that ran in Chromium, for CI's report.
var ChromiumSuite = &chromiumtest.Suite{Package: "agent/browser"}

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) == "1" {
		crashChild()
	}
	ChromiumSuite.Main(m)
}
