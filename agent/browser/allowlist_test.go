package browser_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/browser"
	"github.com/bedrockkit/bedrockkit/agent/browser/internal/testsite"
)

// Every way a page or the model can reach another origin: none may
// produce a single request at the evil origin.
func TestBrowserAllowListHoldsEverywhere(t *testing.T) {
	site := testsite.Start(t)
	p := newPool(t, site, nil)
	ctx := context.Background()
	tb := tab(t, p, "s")

	t.Run("the model opens other origins and schemes", func(t *testing.T) {
		for _, u := range []string{
			site.Evil.URL + "/", "file:///etc/passwd", "data:text/html,<h1>x</h1>", "javascript:alert(1)",
			"chrome://version", "about:blank", "view-source:" + site.Bank.URL, "blob:" + site.Bank.URL + "/x",
			strings.Replace(site.Bank.URL, "127.0.0.1", "localhost", 1) + "/fees", // same host, another origin
			"http://user:pw@" + strings.TrimPrefix(site.Bank.URL, "http://") + "/fees",
			"ftp://127.0.0.1/", "/fees", "",
		} {
			if _, err := tb.Open(ctx, u); !errors.Is(err, browser.ErrNotAllowed) && !errors.Is(err, bedrockkit.ErrInvalidInput) {
				t.Errorf("Open(%q) = %v, want ErrNotAllowed or ErrInvalidInput", u, err)
			}
		}
	})

	t.Run("subresources, frames and scripts of another origin", func(t *testing.T) {
		st, err := tb.Open(ctx, site.Bank.URL+"/news")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(st.Notices, "\n"), "not loaded, because "+site.Evil.URL+" is not an allowed site: an image") {
			t.Errorf("no notice of the blocked image: %q", st.Notices)
		}
	})

	t.Run("a redirect to another origin", func(t *testing.T) {
		_, err := tb.Open(ctx, site.Bank.URL+"/redirect-out")
		if err == nil || !strings.Contains(err.Error(), "ERR_BLOCKED_BY_CLIENT") || !strings.Contains(err.Error(), "not loaded, because "+site.Evil.URL+" is not an allowed site: a page") {
			t.Fatalf("redirect out: %v", err)
		}
		if _, err := tb.ReadText(ctx); err == nil {
			// The error page is not the evil page.
			c, _ := tb.ReadText(ctx)
			if strings.Contains(c.Text, "evil origin") {
				t.Fatal("the evil page was read")
			}
		}
		// A redirect within the origin is followed.
		st, err := tb.Open(ctx, site.Bank.URL+"/redirect-in")
		if err != nil || st.URL != site.Bank.URL+"/fees" {
			t.Fatalf("redirect in: %+v, %v", st, err)
		}
	})

	t.Run("scripts, sockets, beacons, windows and links", func(t *testing.T) {
		if _, err := tb.Open(ctx, site.Bank.URL+"/sneaky"); err != nil {
			t.Fatal(err)
		}
		if _, err := tb.WaitFor(ctx, "fetch failed", 5*time.Second); err != nil {
			t.Fatal(err)
		}
		c, err := tb.ReadText(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(c.Text, "ws refused") || !strings.Contains(c.Text, "no rtc") {
			t.Errorf("the lockdown script did not remove WebSocket and RTCPeerConnection: %q", c.Text)
		}
		tree, err := tb.ReadTree(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st, err := tb.Click(ctx, refFor(t, tree.Text, `button "Open offers"`))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		st2, _ := tb.WaitFor(ctx, "", time.Second)
		notices := strings.Join(append(st.Notices, st2.Notices...), "\n")
		if !strings.Contains(notices, "opened a new window") {
			t.Errorf("no notice of the closed windows: %q", notices)
		}
		for _, link := range []string{`link "Javascript link"`, `link "Local file"`, `link "Data link"`} {
			if _, err := tb.Open(ctx, site.Bank.URL+"/sneaky"); err != nil {
				t.Fatal(err)
			}
			tree, err := tb.ReadTree(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tb.Click(ctx, refFor(t, tree.Text, link)); err != nil {
				t.Errorf("click %s: %v", link, err)
			}
			c, err := tb.ReadText(ctx)
			if err == nil && (strings.Contains(c.Text, "root:") || strings.Contains(c.Text, "data page") || strings.Contains(c.Text, "evil origin")) {
				t.Errorf("%s reached its target: %q", link, c.Text)
			}
			if c != nil && !strings.HasPrefix(c.URL, site.Bank.URL) && !strings.HasPrefix(c.URL, "chrome-error:") {
				t.Errorf("after %s the page is %q", link, c.URL)
			}
		}
		if _, err := tb.Open(ctx, site.Bank.URL+"/sneaky"); err != nil {
			t.Fatal(err)
		}
		tree, err = tb.ReadTree(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st, _ = tb.Click(ctx, refFor(t, tree.Text, `button "Send elsewhere"`))
		if st == nil || !strings.Contains(strings.Join(st.Notices, "\n"), "not loaded, because "+site.Evil.URL+" is not an allowed site: a page") {
			t.Errorf("the form post to another origin was not reported: %+v", st)
		}
	})

	time.Sleep(500 * time.Millisecond) // late requests (beacons, RTC) would land by now
	if hits := site.EvilHits(); len(hits) != 0 {
		t.Fatalf("requests reached the evil origin: %v", hits)
	}
}
