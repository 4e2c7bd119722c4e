package browser_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
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
	// A fragment of the same page is a same-document navigation.
	if st, err := tb.Open(ctx, site.Bank.URL+"/fees#fees"); err != nil || st.URL != site.Bank.URL+"/fees#fees" {
		t.Fatalf("open a fragment: %+v, %v", st, err)
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
	if len(site.EvilHits()) != 0 {
		t.Fatalf("evil hits: %v", site.EvilHits())
	}
}

// call runs a tool as the model would, in agent session key.
func call(t *testing.T, tools []*agent.Tool, name string, args any) (string, error) {
	t.Helper()
	for _, tl := range tools {
		if tl.Name() != name {
			continue
		}
		in, _ := json.Marshal(args)
		parts, err := tl.Call(context.Background(), in)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		for _, p := range parts {
			if tx, ok := p.(bedrockkit.Text); ok {
				b.WriteString(tx.Text)
			}
		}
		return b.String(), nil
	}
	t.Fatalf("no tool %q", name)
	return "", nil
}

// mustCall is call that fails the test on an error.
func mustCall(t *testing.T, tools []*agent.Tool, name string, args any) string {
	t.Helper()
	out, err := call(t, tools, name, args)
	if err != nil {
		t.Fatalf("%s(%v): %v", name, args, err)
	}
	return out
}

var refRE = regexp.MustCompile(`\[ref=(e\d+)\]`)

// refFor returns the reference of the first tree line containing want.
func refFor(t *testing.T, tree, want string) string {
	t.Helper()
	for _, line := range strings.Split(tree, "\n") {
		if strings.Contains(line, want) {
			if m := refRE.FindStringSubmatch(line); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no element %q with a ref in:\n%s", want, tree)
	return ""
}

func TestBrowserCheckoutThroughTools(t *testing.T) {
	site := testsite.Start(t)
	p := newPool(t, site, nil)
	tools := p.Tools()
	out := mustCall(t, tools, "browser_open", map[string]any{"url": site.Bank.URL + "/shop"})
	if !strings.Contains(out, "<untrusted_web_content url=\""+site.Bank.URL+"/shop\">") || !strings.Contains(out, "Title: Shop - Harborview Bank") {
		t.Fatalf("open result:\n%s", out)
	}
	tree := mustCall(t, tools, "browser_read", map[string]any{"mode": "tree"})
	mustCall(t, tools, "browser_select", map[string]any{"ref": refFor(t, tree, `combobox "Product"`), "option": "Gold card"})
	mustCall(t, tools, "browser_type", map[string]any{"ref": refFor(t, tree, `spinbutton "Quantity"`), "text": "2"})
	out = mustCall(t, tools, "browser_click", map[string]any{"ref": refFor(t, tree, `button "Continue to shipping"`)})
	if !strings.Contains(out, "A new page loaded") || !strings.Contains(out, "Title: Shipping - Harborview Bank") {
		t.Fatalf("after continue:\n%s", out)
	}
	// The old page's references are gone with it.
	if _, err := call(t, tools, "browser_click", map[string]any{"ref": refFor(t, tree, `button "Continue to shipping"`)}); !errors.Is(err, browser.ErrNoElement) {
		t.Fatalf("a reference from the previous page: %v", err)
	}
	found := mustCall(t, tools, "browser_find", map[string]any{"text": "address"})
	mustCall(t, tools, "browser_type", map[string]any{"ref": refFor(t, found, `textbox "Address"`), "text": "1 Harbour Street, Dublin"})
	tree = mustCall(t, tools, "browser_read", map[string]any{"mode": "tree"})
	mustCall(t, tools, "browser_click", map[string]any{"ref": refFor(t, tree, `radio "Express`)})
	out = mustCall(t, tools, "browser_submit", map[string]any{"ref": refFor(t, tree, `button "Review order"`)})
	if !strings.Contains(out, "Title: Review - Harborview Bank") {
		t.Fatalf("after review:\n%s", out)
	}
	text := mustCall(t, tools, "browser_read", map[string]any{})
	for _, want := range []string{"Product: gold-card", "Quantity: 2", "Address: 1 Harbour Street, Dublin", "Shipping: express"} {
		if !strings.Contains(text, want) {
			t.Fatalf("review page lacks %q:\n%s", want, text)
		}
	}
	tree = mustCall(t, tools, "browser_read", map[string]any{"mode": "tree"})
	mustCall(t, tools, "browser_click", map[string]any{"ref": refFor(t, tree, `checkbox "I accept the terms"`)})
	out = mustCall(t, tools, "browser_click", map[string]any{"ref": refFor(t, tree, `button "Confirm order"`)})
	if !strings.Contains(out, "Title: Order confirmed") {
		t.Fatalf("after confirm:\n%s", out)
	}
	out = mustCall(t, tools, "browser_wait", map[string]any{"text": "is confirmed"})
	orders := site.Orders()
	if len(orders) != 1 || orders[0] != (testsite.Order{ID: "ORD-0001", Product: "gold-card", Quantity: 2, Address: "1 Harbour Street, Dublin", Shipping: "express"}) {
		t.Fatalf("orders: %+v", orders)
	}
	mustCall(t, tools, "browser_close", map[string]any{})
	if p.Len() != 0 {
		t.Fatalf("%d sessions open after browser_close", p.Len())
	}
	if hits := site.EvilHits(); len(hits) != 0 {
		t.Fatalf("evil hits: %v", hits)
	}
}
