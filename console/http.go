package console

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// contentSecurityPolicy allows only the console's own script, style and
// live-update stream: no inline script or style, no frames, no plugins,
// forms post only to the console.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

const (
	csrfCookie = "bkconsole_csrf"
	authCookie = "bkconsole_auth"
	maxForm    = 1 << 20
)

// ServeHTTP serves the console's pages.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if !c.hostAllowed(r.Host) {
		c.fail(w, r, http.StatusForbidden, fmt.Errorf("console: host %q is not allowed; the console answers loopback names only unless Options.AllowedHosts lists the name", r.Host))
		return
	}
	if !c.authorized(w, r) {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if err := c.cop.Check(r); err != nil {
			c.fail(w, r, http.StatusForbidden, fmt.Errorf("console: cross-origin request refused: %w", err))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			c.fail(w, r, http.StatusBadRequest, fmt.Errorf("console: the form could not be read: %w", err))
			return
		}
		if !c.csrfValid(r) {
			c.fail(w, r, http.StatusForbidden, errors.New("console: the form's CSRF token is missing or wrong; reload the page and send the form again"))
			return
		}
	}
	c.mux.ServeHTTP(w, r)
}

// hostAllowed accepts the loopback names and Options.AllowedHosts.
func (c *Console) hostAllowed(host string) bool {
	for _, a := range c.opts.AllowedHosts {
		if strings.EqualFold(a, host) {
			return true
		}
	}
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	for _, a := range c.opts.AllowedHosts {
		if strings.EqualFold(a, h) {
			return true
		}
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// authorized checks Options.Token. A correct ?token= sets a cookie and
// redirects to the same URL without it, so the token does not stay in the
// address bar or the history.
func (c *Console) authorized(w http.ResponseWriter, r *http.Request) bool {
	if c.opts.Token == "" {
		return true
	}
	want := c.mac("auth", c.opts.Token)
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		if hmac.Equal([]byte(c.mac("auth", strings.TrimPrefix(a, "Bearer "))), []byte(want)) {
			return true
		}
	}
	if ck, err := r.Cookie(authCookie); err == nil && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(want)) == 1 {
		return true
	}
	if t := r.URL.Query().Get("token"); t != "" && r.Method == http.MethodGet &&
		hmac.Equal([]byte(c.mac("auth", t)), []byte(want)) {
		http.SetCookie(w, &http.Cookie{Name: authCookie, Value: want, Path: c.cookiePath(), HttpOnly: true, SameSite: http.SameSiteStrictMode})
		u := *r.URL
		q := u.Query()
		q.Del("token")
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return false
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="bedrockkit console"`)
	c.fail(w, r, http.StatusUnauthorized, errors.New("console: this console needs its token: open the URL the program printed (it ends in ?token=...) or send Authorization: Bearer <token>"))
	return false
}

func (c *Console) cookiePath() string { return c.opts.Path + "/" }

func (c *Console) mac(purpose, v string) string {
	m := hmac.New(sha256.New, c.key[:])
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))
}

// csrfToken returns the form token for this browser, setting its cookie
// when it has none.
func (c *Console) csrfToken(w http.ResponseWriter, r *http.Request) string {
	ck, err := r.Cookie(csrfCookie)
	if err != nil || len(ck.Value) != 32 {
		var b [16]byte
		rand.Read(b[:])
		ck = &http.Cookie{Name: csrfCookie, Value: hex.EncodeToString(b[:]), Path: c.cookiePath(), HttpOnly: true, SameSite: http.SameSiteStrictMode}
		http.SetCookie(w, ck)
	}
	return c.mac("csrf", ck.Value)
}

func (c *Console) csrfValid(r *http.Request) bool {
	ck, err := r.Cookie(csrfCookie)
	if err != nil || ck.Value == "" {
		return false
	}
	got := r.PostForm.Get("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(c.mac("csrf", ck.Value)))
}

// page is what every template gets.
type page struct {
	Title   string
	Nav     string
	Base    string
	CSRF    string
	Live    bool
	Version uint64
	Err     string
	Data    any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Base = c.opts.Path
	p.Version = c.version.Load()
	if p.CSRF == "" {
		p.CSRF = c.csrfToken(w, r)
	}
	t := c.tmpl.Lookup(name)
	if t == nil {
		http.Error(w, "console: no template "+name, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		http.Error(w, "console: the page could not be drawn: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// fail shows an error page with status.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	p := page{Title: http.StatusText(status), Err: err.Error(), CSRF: "-"}
	c.render(w, r, status, "error.html", p)
}

// Server is a console served by Start.
type Server struct {
	// URL is the console's address, with the token when Options.Token is
	// set.
	URL string
	srv *http.Server
	ln  net.Listener
	c   *Console
	err chan error
}

// Start serves the console on addr ("127.0.0.1:0" when empty picks a free
// port) until Server.Close. It refuses an address that is not a loopback
// one unless Options.AllowRemote and Options.Token are set.
func (c *Console) Start(addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("console: address %q: %v: %w", addr, err, ErrInvalidOptions)
	}
	ip := net.ParseIP(host)
	loop := host == "localhost" || (ip != nil && ip.IsLoopback())
	if !loop && !c.opts.AllowRemote {
		return nil, fmt.Errorf("console: %q is not a loopback address; the console listens on 127.0.0.1 unless Options.AllowRemote (with a Token) says otherwise: %w", addr, ErrInvalidOptions)
	}
	if !loop && c.opts.Token == "" {
		return nil, fmt.Errorf("console: listening on %q needs Options.Token: %w", addr, ErrInvalidOptions)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("console: listen: %w", err)
	}
	s := &Server{ln: ln, c: c, err: make(chan error, 1),
		srv: &http.Server{Handler: c, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}}
	u := url.URL{Scheme: "http", Host: ln.Addr().String(), Path: c.opts.Path + "/"}
	if loop {
		if _, port, err := net.SplitHostPort(ln.Addr().String()); err == nil && ip != nil && ip.To4() != nil {
			u.Host = "127.0.0.1:" + port
		}
	}
	if c.opts.Token != "" {
		u.RawQuery = url.Values{"token": {c.opts.Token}}.Encode()
	}
	s.URL = u.String()
	go func() { s.err <- s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server: the Console's live-update streams end (see
// Console.Close) and open connections are closed. It returns when the
// server has stopped.
func (s *Server) Close() error {
	s.c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = s.srv.Close()
	}
	if serr := <-s.err; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
