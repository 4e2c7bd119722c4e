package browser_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit/agent/browser"
	"github.com/bedrockkit/bedrockkit/agent/browser/internal/testsite"
)

// newPool starts a pool of local Chromium sessions allowed to reach the
// bank's origin only.
func newPool(t *testing.T, site *testsite.Site, mutate func(*browser.Options)) *browser.Pool {
	t.Helper()
	exe := browser.ChromiumSuite.Chromium(t)
	opts := browser.Options{AllowedOrigins: []string{site.Bank.URL}, StepTimeout: 20 * time.Second}
	if mutate != nil {
		mutate(&opts)
	}
	p := browser.NewPool(browser.NewLocal(browser.LocalOptions{ExecPath: exe}), opts)
	t.Cleanup(func() {
		if err := p.Close(context.Background()); err != nil {
			t.Errorf("close the pool: %v", err)
		}
	})
	return p
}

func tab(t *testing.T, p *browser.Pool, key string) *browser.Tab {
	t.Helper()
	tb, release, err := p.Tab(context.Background(), key)
	if err != nil {
		t.Fatalf("start a session: %v", err)
	}
	release()
	return tb
}

func TestBrowserReadsTextAndTree(t *testing.T) {
	site := testsite.Start(t)
	p := newPool(t, site, nil)
	ctx := context.Background()
	tb := tab(t, p, "s1")
	st, err := tb.Open(ctx, site.Bank.URL+"/fees")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Navigated || st.Title != "Fees and charges - Harborview Bank" {
		t.Fatalf("state after open: %+v", st)
	}
	text, err := tb.ReadText(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.Text, "International wire transfer\t25.00 EUR") || strings.Contains(text.Text, "<td>") {
		t.Fatalf("text:\n%s", text.Text)
	}
	tree, err := tb.ReadTree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`- heading "Fees and charges"`, `- cell "25.00 EUR"`, `- columnheader "Fee"`, `- link "Sign in" [ref=e`} {
		if !strings.Contains(tree.Text, want) {
			t.Errorf("tree lacks %q:\n%s", want, tree.Text)
		}
	}
	t.Logf("tree:\n%s", tree.Text)
	if len(site.EvilHits()) != 0 {
		t.Fatalf("evil hits: %v", site.EvilHits())
	}
	_ = errors.Is
}
