package browser_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/browser"
	"github.com/bedrockkit/bedrockkit/agent/browser/internal/testsite"
	"github.com/bedrockkit/bedrockkit/agent/credentials"
)

func bankLogin(site *testsite.Site) (credentials.Provider, []browser.Login) {
	creds := credentials.NewLocal(credentials.LocalOptions{APIKeys: map[string]credentials.Secret{
		"bank-user": credentials.NewSecret(testsite.Username), "bank-password": credentials.NewSecret(testsite.Password),
	}})
	return creds, []browser.Login{{Name: "bank", Origin: site.Bank.URL, Username: "bank-user", Password: "bank-password"}}
}

// The model signs in by naming a login; the secrets come from the
// credential provider, go only into the login origin's fields, and never
// come back in a result.
func TestBrowserSignInWithCredentialProvider(t *testing.T) {
	site := testsite.Start(t)
	creds, logins := bankLogin(site)
	p := newPool(t, site, func(o *browser.Options) { o.Credentials, o.Logins = creds, logins })
	tools := p.Tools()
	var transcript strings.Builder
	do := func(name string, args map[string]any) string {
		out := mustCall(t, tools, name, args)
		transcript.WriteString(out)
		return out
	}
	do("browser_open", map[string]any{"url": site.Bank.URL + "/login"})
	tree := do("browser_read", map[string]any{"mode": "tree"})
	user, pass := refFor(t, tree, `textbox "Username"`), refFor(t, tree, `textbox "Password"`)
	notes := refFor(t, tree, `textbox "Notes"`)

	// Not into a field that would show it, not into the wrong kind of field.
	if _, err := call(t, tools, "browser_sign_in", map[string]any{"ref": notes, "login": "bank", "field": "password"}); !errors.Is(err, browser.ErrNoElement) {
		t.Fatalf("password into a textarea: %v", err)
	}
	if _, err := call(t, tools, "browser_sign_in", map[string]any{"ref": user, "login": "bank", "field": "password"}); !errors.Is(err, browser.ErrNoElement) {
		t.Fatalf("password into the username field: %v", err)
	}
	if _, err := call(t, tools, "browser_sign_in", map[string]any{"ref": pass, "login": "other", "field": "password"}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("unknown login: %v", err)
	}
	do("browser_sign_in", map[string]any{"ref": user, "login": "bank", "field": "username"})
	do("browser_sign_in", map[string]any{"ref": pass, "login": "bank", "field": "password"})
	tree = do("browser_read", map[string]any{"mode": "tree"})
	if !strings.Contains(tree, `textbox "Username" [ref=`+user+`] value="[REDACTED]"`) {
		t.Errorf("the username's value is not redacted in the tree:\n%s", tree)
	}
	out := do("browser_click", map[string]any{"ref": refFor(t, tree, `button "Sign in"`)})
	if !strings.Contains(out, "Title: Your account - Harborview Bank") {
		t.Fatalf("after signing in:\n%s", out)
	}
	text := do("browser_read", map[string]any{})
	if !strings.Contains(text, "Balance: 1,234.56 EUR") || !strings.Contains(text, "Welcome back, [REDACTED].") {
		t.Fatalf("account page:\n%s", text)
	}
	for _, secret := range []string{testsite.Password, testsite.Username} {
		if strings.Contains(transcript.String(), secret) {
			t.Fatalf("a secret reached a tool result")
		}
	}
}

// The credentials never go to a page of another origin, even an allowed
// one.
func TestBrowserSignInRefusesOtherOrigins(t *testing.T) {
	site := testsite.Start(t)
	creds, logins := bankLogin(site)
	logins[0].Origin = strings.Replace(site.Bank.URL, "127.0.0.1", "localhost", 1)
	p := newPool(t, site, func(o *browser.Options) {
		o.AllowedOrigins = append(o.AllowedOrigins, logins[0].Origin)
		o.Credentials, o.Logins = creds, logins
	})
	tools := p.Tools()
	mustCall(t, tools, "browser_open", map[string]any{"url": site.Bank.URL + "/login"})
	tree := mustCall(t, tools, "browser_read", map[string]any{"mode": "tree"})
	if _, err := call(t, tools, "browser_sign_in", map[string]any{"ref": refFor(t, tree, `textbox "Password"`), "login": "bank", "field": "password"}); !errors.Is(err, browser.ErrNotAllowed) {
		t.Fatalf("credentials offered to another origin: %v", err)
	}
}

// Sessions of different agent sessions share nothing: not cookies, not
// references.
func TestBrowserSessionsAreIsolated(t *testing.T) {
	site := testsite.Start(t)
	creds, logins := bankLogin(site)
	p := newPool(t, site, func(o *browser.Options) { o.Credentials, o.Logins = creds, logins })
	ctx := context.Background()
	a, b := tab(t, p, "a"), tab(t, p, "b")
	if _, err := a.Open(ctx, site.Bank.URL+"/login"); err != nil {
		t.Fatal(err)
	}
	tree, err := a.ReadTree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.FillCredential(ctx, refFor(t, tree.Text, `textbox "Username"`), "bank", "username"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FillCredential(ctx, refFor(t, tree.Text, `textbox "Password"`), "bank", "password"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Submit(ctx, refFor(t, tree.Text, `button "Sign in"`)); err != nil {
		t.Fatal(err)
	}
	if st, err := b.Open(ctx, site.Bank.URL+"/account"); err != nil || st.Title != "Sign in - Harborview Bank" {
		t.Fatalf("session b saw session a's sign-in: %+v, %v", st, err)
	}
	if _, err := b.Click(ctx, refFor(t, tree.Text, `button "Sign in"`)); !errors.Is(err, browser.ErrNoElement) {
		t.Fatalf("session b used session a's reference: %v", err)
	}
	if p.Len() != 2 {
		t.Fatalf("%d sessions", p.Len())
	}
}

func TestBrowserLimits(t *testing.T) {
	site := testsite.Start(t)
	ctx := context.Background()

	t.Run("navigations", func(t *testing.T) {
		p := newPool(t, site, func(o *browser.Options) { o.MaxNavigations = 3 })
		tb := tab(t, p, "s")
		for i := 0; i < 3; i++ {
			if _, err := tb.Open(ctx, site.Bank.URL+"/fees"); err != nil {
				t.Fatalf("load %d: %v", i+1, err)
			}
		}
		_, err := tb.Open(ctx, site.Bank.URL+"/fees")
		var le *browser.LimitError
		if err == nil {
			_, err = tb.ReadText(ctx)
		}
		if !errors.As(err, &le) || le.Limit != browser.LimitNavigations {
			t.Fatalf("fourth load: %v", err)
		}
		// Closing and reopening the key's session does not reset it.
		if err := p.CloseSession(ctx, "s"); err != nil {
			t.Fatal(err)
		}
		tb = tab(t, p, "s")
		if _, err := tb.Open(ctx, site.Bank.URL+"/fees"); !errors.As(err, &le) {
			if _, err = tb.ReadText(ctx); !errors.As(err, &le) {
				t.Fatalf("a new session of the same key: %v", err)
			}
		}
		// Drop forgets the key's usage.
		if err := p.Drop(ctx, "s"); err != nil {
			t.Fatal(err)
		}
		if _, err := tab(t, p, "s").Open(ctx, site.Bank.URL+"/fees"); err != nil {
			t.Fatalf("after Drop: %v", err)
		}
	})

	t.Run("page size", func(t *testing.T) {
		p := newPool(t, site, func(o *browser.Options) { o.MaxElements = 5000 })
		tb := tab(t, p, "s")
		if _, err := tb.Open(ctx, site.Bank.URL+"/big"); err != nil {
			t.Fatal(err)
		}
		var le *browser.LimitError
		if _, err := tb.ReadTree(ctx); !errors.As(err, &le) || le.Limit != browser.LimitPageSize {
			t.Fatalf("tree of a big page: %v", err)
		}
		if _, err := tb.ReadText(ctx); !errors.As(err, &le) || le.Limit != browser.LimitPageSize {
			t.Fatalf("text of a big page: %v", err)
		}
		// A page-size refusal does not end the session.
		if _, err := tb.Open(ctx, site.Bank.URL+"/fees"); err != nil {
			t.Fatal(err)
		}
		c, err := tb.ReadText(ctx)
		if err != nil || !strings.Contains(c.Text, "25.00 EUR") {
			t.Fatalf("after the big page: %v", err)
		}
	})

	t.Run("read size", func(t *testing.T) {
		p := newPool(t, site, func(o *browser.Options) { o.MaxReadBytes = 100 })
		tb := tab(t, p, "s")
		if _, err := tb.Open(ctx, site.Bank.URL+"/fees"); err != nil {
			t.Fatal(err)
		}
		c, err := tb.ReadText(ctx)
		if err != nil || len(c.Text) > 100 || !c.Truncated {
			t.Fatalf("text %d bytes, truncated %v, %v", len(c.Text), c.Truncated, err)
		}
		c, err = tb.ReadTree(ctx)
		if err != nil || len(c.Text) > 100 || !c.Truncated {
			t.Fatalf("tree %d bytes, truncated %v, %v", len(c.Text), c.Truncated, err)
		}
	})

	t.Run("session time", func(t *testing.T) {
		p := newPool(t, site, func(o *browser.Options) { o.MaxSessionTime = 3 * time.Second })
		tb := tab(t, p, "s")
		if _, err := tb.Open(ctx, site.Bank.URL+"/fees"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !tb.Closed() && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		var le *browser.LimitError
		if _, err := tb.ReadText(ctx); !errors.As(err, &le) || le.Limit != browser.LimitTime {
			t.Fatalf("after the session's time: %v", err)
		}
		// The key gets no new session: it has no time left.
		if _, _, err := p.Tab(ctx, "s"); !errors.As(err, &le) || le.Limit != browser.LimitTime {
			t.Fatalf("a new session of the expired key: %v", err)
		}
		if err := p.Drop(ctx, "s"); err != nil {
			t.Fatal(err)
		}
		if _, err := tab(t, p, "s").Open(ctx, site.Bank.URL+"/fees"); err != nil {
			t.Fatalf("after Drop: %v", err)
		}
	})

	t.Run("a hung page", func(t *testing.T) {
		p := newPool(t, site, func(o *browser.Options) { o.StepTimeout = 2 * time.Second })
		tb := tab(t, p, "s")
		if _, err := tb.Open(ctx, site.Bank.URL+"/hang"); err != nil {
			t.Fatal(err)
		}
		tree, err := tb.ReadTree(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = tb.Click(ctx, refFor(t, tree.Text, `button "Freeze"`))
		start := time.Now()
		_, err = tb.ReadText(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("reading a frozen page: %v", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("reading a frozen page took %s", d)
		}
		// Closing a session whose page is frozen still releases it.
		if err := p.CloseSession(ctx, "s"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBrowserDialogsDownloadsUploads(t *testing.T) {
	site := testsite.Start(t)
	ctx := context.Background()
	dir := t.TempDir()
	doc := filepath.Join(t.TempDir(), "passport.pdf")
	if err := os.WriteFile(doc, []byte("%PDF-1.4 test"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("off", func(t *testing.T) {
		p := newPool(t, site, nil)
		tb := tab(t, p, "s")
		st, err := tb.Open(ctx, site.Bank.URL+"/dialog")
		if err != nil {
			t.Fatal(err)
		}
		st2, err := tb.WaitFor(ctx, "after the alert", 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Join(append(st.Notices, st2.Notices...), "\n"); !strings.Contains(n, `alert dialog, which was dismissed: "Your session will expire"`) {
			t.Fatalf("dialog notices: %q", n)
		}
		if _, err := tb.Open(ctx, site.Bank.URL+"/documents"); err != nil {
			t.Fatal(err)
		}
		tree, err := tb.ReadTree(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st, err = tb.Click(ctx, refFor(t, tree.Text, `link "Download statement"`))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		st2, _ = tb.WaitFor(ctx, "", time.Second)
		if n := strings.Join(append(st.Notices, st2.Notices...), "\n"); !strings.Contains(n, `tried to download "statement.csv"; downloads are disabled`) {
			t.Fatalf("download notices: %q", n)
		}
		if _, err := tb.Upload(ctx, refFor(t, tree.Text, `button "Document"`), "passport"); !errors.Is(err, browser.ErrNotAllowed) {
			t.Fatalf("upload while disabled: %v", err)
		}
		if len(site.Uploads()) != 0 {
			t.Fatalf("uploads: %v", site.Uploads())
		}
	})

	t.Run("on", func(t *testing.T) {
		p := newPool(t, site, func(o *browser.Options) {
			o.AllowDownloads, o.DownloadDir = true, dir
			o.UploadFiles = map[string]string{"passport": doc}
		})
		tb := tab(t, p, "s")
		if _, err := tb.Open(ctx, site.Bank.URL+"/documents"); err != nil {
			t.Fatal(err)
		}
		tree, err := tb.ReadTree(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tb.Click(ctx, refFor(t, tree.Text, `link "Download statement"`)); err != nil {
			t.Fatal(err)
		}
		var files []os.DirEntry
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if files, _ = os.ReadDir(dir); len(files) == 1 {
				break
			}
		}
		if len(files) != 1 {
			t.Fatalf("downloaded files: %v", files)
		}
		if _, err := tb.Upload(ctx, refFor(t, tree.Text, `link "Download statement"`), "passport"); !errors.Is(err, browser.ErrNoElement) {
			t.Fatalf("upload into a link: %v", err)
		}
		if _, err := tb.Upload(ctx, refFor(t, tree.Text, `button "Document"`), "passport"); err != nil {
			t.Fatal(err)
		}
		st, err := tb.Submit(ctx, refFor(t, tree.Text, `button "Document"`))
		if err != nil || !st.Navigated {
			t.Fatalf("submit the upload: %+v, %v", st, err)
		}
		if up := site.Uploads(); len(up) != 1 || up[0] != "passport.pdf:13" {
			t.Fatalf("uploads: %v", up)
		}
	})
}

func TestBrowserCoveredElementIsNotClicked(t *testing.T) {
	site := testsite.Start(t)
	p := newPool(t, site, nil)
	ctx := context.Background()
	tb := tab(t, p, "s")
	if _, err := tb.Open(ctx, site.Bank.URL+"/covered"); err != nil {
		t.Fatal(err)
	}
	tree, err := tb.ReadTree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Click(ctx, refFor(t, tree.Text, `button "Pay now"`)); !errors.Is(err, browser.ErrNoElement) || !strings.Contains(err.Error(), "covered by another element (div)") {
		t.Fatalf("click under an overlay: %v", err)
	}
	if _, err := tb.Click(ctx, "e999999"); !errors.Is(err, browser.ErrNoElement) {
		t.Fatalf("an invented reference: %v", err)
	}
	if _, err := tb.Click(ctx, "#pay"); !errors.Is(err, browser.ErrNoElement) {
		t.Fatalf("a CSS selector: %v", err)
	}
}

func TestBrowserScreenshotAndEnvelope(t *testing.T) {
	site := testsite.Start(t)
	p := newPool(t, site, func(o *browser.Options) { o.Screenshots = true })
	tools := p.Tools()
	mustCall(t, tools, "browser_open", map[string]any{"url": site.Bank.URL + "/escape"})
	out := mustCall(t, tools, "browser_read", map[string]any{})
	if strings.Count(out, "</untrusted_web_content>") != 1 || strings.Count(strings.ToLower(out), "untrusted_web_content") != 3 || !strings.HasSuffix(strings.TrimSpace(out[:strings.LastIndex(out, "</untrusted_web_content>")+len("</untrusted_web_content>")]), "</untrusted_web_content>") {
		t.Fatalf("the page escaped the envelope:\n%s", out)
	}
	var shot []bedrockkit.Part
	for _, tl := range tools {
		if tl.Name() == "browser_screenshot" {
			var err error
			if shot, err = tl.Call(context.Background(), []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(shot) != 2 {
		t.Fatalf("screenshot parts: %d", len(shot))
	}
	img, ok := shot[1].(bedrockkit.Image)
	if !ok || img.Format != bedrockkit.ImagePNG {
		t.Fatalf("screenshot part: %T", shot[1])
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img.Bytes))
	if err != nil || cfg.Width != 1280 || cfg.Height != 800 {
		t.Fatalf("screenshot %dx%d, %v", cfg.Width, cfg.Height, err)
	}
}
