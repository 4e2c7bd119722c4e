package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit/console"
)

// get fetches path from h as a browser on localhost would.
func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest("GET", "http://127.0.0.1:8080"+path, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

var linkRe = regexp.MustCompile(`href="(/[^"#]*)`)

// TestEveryPageRenders visits every page linked from the overview, and the
// pages they link to, and checks each answers 200 with the security headers.
func TestEveryPageRenders(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	seen := map[string]bool{}
	queue := []string{"/"}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		res, body := get(t, d.c, p)
		if res.StatusCode != 200 {
			t.Errorf("GET %s: %d\n%s", p, res.StatusCode, body)
			continue
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: Content-Security-Policy %q", p, csp)
		}
		if ct := res.Header.Get("Content-Type"); strings.HasPrefix(p, "/static/") {
			continue
		} else if !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q", p, ct)
		}
		for _, m := range linkRe.FindAllStringSubmatch(body, -1) {
			u, err := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
			if err != nil {
				t.Errorf("GET %s: bad link %q", p, m[1])
				continue
			}
			if !seen[u.RequestURI()] {
				queue = append(queue, u.RequestURI())
			}
		}
	}
	for _, want := range []string{"/runs", "/runs/r1", "/sessions", "/kb", "/kb/bank-docs", "/guardrails", "/costs",
		"/costs?by=tenant", "/costs?by=session", "/costs?by=tag", "/evals", "/evals/e1", "/traces", "/static/console.css"} {
		if !seen[want] {
			t.Errorf("no link reaches %s", want)
		}
	}
	t.Logf("%d pages", len(seen))
}
