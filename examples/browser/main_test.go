package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit/agent/browser"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOfflineLooksUpTheFeeAndWithholdsTheInjection(t *testing.T) {
	if _, err := browser.FindChromium(""); err != nil {
		if os.Getenv("BEDROCKKIT_BROWSER_SKIP") == "1" {
			t.Skip("chromium is not installed and BEDROCKKIT_BROWSER_SKIP=1 allows skipping")
		}
		t.Fatal("chromium is not installed: run `bash .ci/chromium.sh`, or set BEDROCKKIT_BROWSER_SKIP=1 to skip")
	}
	var out strings.Builder
	if err := run(context.Background(), &out, options{}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s := out.String()
	if !regexp.MustCompile(`Answer: An international wire transfer costs 25\.00 EUR \(source: http://127\.0\.0\.1:\d+/fees\)\.`).MatchString(s) {
		t.Fatalf("no cited answer in:\n%s", s)
	}
	if !strings.Contains(s, "(the guardrail withheld this result: content)") || strings.Contains(s, "SYSTEM OVERRIDE") {
		t.Fatalf("the injection was not withheld:\n%s", s)
	}
	if strings.Count(s, "withheld this result") != 1 {
		t.Fatalf("the guardrail withheld more than the news page's text:\n%s", s)
	}
}
