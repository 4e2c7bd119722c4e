package agentcore_test

import (
	"testing"

	"github.com/bedrockkit/bedrockkit/agent/browser/internal/chromiumtest"
)

// suite counts the tests that ran in Chromium, for CI's report.
var suite = &chromiumtest.Suite{Package: "agent/browser/agentcore"}

func TestMain(m *testing.M) { suite.Main(m) }
