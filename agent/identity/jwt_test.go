package identity_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/identity"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testClient returns an HTTP client whose idle connections are closed when
// the test ends, so no connection goroutine outlives it.
func testClient(t testing.TB) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func reason(err error) string {
	var ae *identity.AuthError
	if errors.As(err, &ae) {
		return ae.Reason
	}
	return fmt.Sprintf("not an AuthError: %v", err)
}

// unsigned builds a token with header and claims and the given signature
// segment, for forged tokens no library would produce.
func unsigned(header, claims map[string]any, sig string) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "." + sig
}

// TestMockOIDCProvider runs the token matrix against mockoidc, an
// independent OpenID provider: its discovery document and JWKS, and tokens
// signed by golang-jwt with its key pair.
func TestMockOIDCProvider(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	az, err := identity.NewJWTAuthorizer(identity.JWTOptions{
		DiscoveryURL:     m.DiscoveryEndpoint(),
		AllowedAudiences: []string{m.ClientID},
		HTTPClient:       testClient(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := func(edit func(gjwt.MapClaims)) gjwt.MapClaims {
		c := gjwt.MapClaims{"iss": m.Issuer(), "sub": "alice", "aud": m.ClientID,
			"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "email": "alice@example.com"}
		if edit != nil {
			edit(c)
		}
		return c
	}
	sign := func(c gjwt.MapClaims) string {
		tok, err := m.Keypair.SignJWT(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := mockoidc.NewKeypair(otherKey)
	otherTok, err := other.SignJWT(claims(nil))
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := m.Keypair.KeyID()
	valid := sign(claims(nil))
	parts := strings.Split(valid, ".")

	cases := []struct {
		name, token, reason string
	}{
		{"expired", sign(claims(func(c gjwt.MapClaims) { c["exp"] = now.Add(-5 * time.Minute).Unix() })), identity.ReasonExpired},
		{"no expiry", sign(claims(func(c gjwt.MapClaims) { delete(c, "exp") })), identity.ReasonExpired},
		{"wrong audience", sign(claims(func(c gjwt.MapClaims) { c["aud"] = "some-other-app" })), identity.ReasonAudience},
		{"wrong issuer", sign(claims(func(c gjwt.MapClaims) { c["iss"] = "https://evil.example.com" })), identity.ReasonIssuer},
		{"unknown key", otherTok, identity.ReasonUnknownKey},
		{"alg none", unsigned(map[string]any{"alg": "none", "typ": "JWT", "kid": kid}, claims(nil), ""), identity.ReasonAlgorithm},
		{"alg None", unsigned(map[string]any{"alg": "None", "kid": kid}, claims(nil), ""), identity.ReasonAlgorithm},
		{"HS256 with the public key", hs256WithPublicKey(t, m, kid, claims(nil)), identity.ReasonAlgorithm},
		{"tampered claims", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+m.Issuer()+`","sub":"admin","aud":"`+m.ClientID+`","exp":9999999999}`)) + "." + parts[2], identity.ReasonSignature},
		{"not yet valid", sign(claims(func(c gjwt.MapClaims) { c["nbf"] = now.Add(10 * time.Minute).Unix() })), identity.ReasonNotYetValid},
		{"garbage", "not.a.jwt", identity.ReasonMalformed},
	}
	ctx := context.Background()
	c, err := az.Verify(ctx, valid)
	if err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
	if c.Subject != "alice" || c.Issuer != m.Issuer() || c.Claims["email"] != "alice@example.com" || c.Anonymous {
		t.Fatalf("caller = %+v", c)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := az.Verify(ctx, tc.token)
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			if c != nil {
				t.Fatal("a refused token returned a caller")
			}
			if got := reason(err); got != tc.reason {
				t.Fatalf("reason %q, want %q (%v)", got, tc.reason, err)
			}
			if !errors.Is(err, identity.ErrUnauthenticated) || !errors.Is(err, bedrockkit.ErrAccessDenied) {
				t.Fatalf("%v does not wrap ErrUnauthenticated and ErrAccessDenied", err)
			}
			if strings.Contains(err.Error(), tc.token) && len(tc.token) > 20 {
				t.Fatal("the error repeats the token")
			}
		})
	}
}

// hs256WithPublicKey forges the classic key-confusion token: HS256 keyed
// with the provider's public key bytes.
func hs256WithPublicKey(t *testing.T, m *mockoidc.MockOIDC, kid string, c gjwt.MapClaims) string {
	tok := gjwt.NewWithClaims(gjwt.SigningMethodHS256, c)
	tok.Header["kid"] = kid
	jwks, _ := m.Keypair.JWKS()
	s, err := tok.SignedString(jwks)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeyRotation(t *testing.T) {
	p := newProvider(t)
	clock := &fakeClock{t: time.Now()}
	az, err := identity.NewJWTAuthorizer(identity.JWTOptions{DiscoveryURL: p.discovery(),
		AllowedAudiences: []string{"bank-api"}, HTTPClient: testClient(t), Now: clock.Now,
		MinRefreshInterval: time.Minute, MaxKeyAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fresh := func() map[string]any {
		c, n := p.claims(), clock.Now()
		c["exp"], c["iat"], c["nbf"] = n.Add(10*time.Minute).Unix(), n.Unix(), n.Unix()
		return c
	}
	must := func(tok string) {
		t.Helper()
		if _, err := az.Verify(ctx, tok); err != nil {
			t.Fatalf("refused: %v", err)
		}
	}
	must(p.sign("k1", fresh()))
	if n := p.fetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches after the first token, want 1", n)
	}
	must(p.sign("k1", fresh()))
	if n := p.fetches.Load(); n != 1 {
		t.Fatalf("keys were fetched again for a known key (%d fetches)", n)
	}
	// The provider rotates: a new key signs; the authorizer fetches the
	// set again on the unknown kid.
	p.addEC("k2")
	must(p.sign("k2", fresh()))
	if n := p.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after rotation, want 2", n)
	}
	// A flood of tokens naming unknown keys fetches at most once per
	// MinRefreshInterval.
	clock.Advance(time.Minute) // past the interval since the rotation's fetch
	p.addRSA("rogue")
	for i := range 50 {
		_, err := az.Verify(ctx, p.sign("rogue", fresh()))
		if i == 0 && err != nil {
			t.Fatalf("the first token with a new key should refresh (not rate limited yet, the clock moved? %v)", err)
		}
		clock.Advance(time.Second)
	}
	// rogue was published before the first of these tokens, so the
	// first refresh found it; now remove it and send unknown kids.
	p.remove("rogue")
	p.addRSA("never-published")
	tok := p.sign("never-published", fresh())
	p.remove("never-published")
	before := p.fetches.Load()
	for range 50 {
		if _, err := az.Verify(ctx, tok); reason(err) != identity.ReasonUnknownKey {
			t.Fatalf("reason %q, want unknown_key", reason(err))
		}
	}
	if n := p.fetches.Load() - before; n > 1 {
		t.Fatalf("50 tokens with an unknown key caused %d JWKS fetches within the refresh interval", n)
	}
	// The provider retires k1; once the cached set is older than MaxKeyAge
	// it is fetched again and k1 tokens are refused.
	p.remove("k1")
	clock.Advance(2 * time.Hour)
	if _, err := az.Verify(ctx, p.sign("k2", fresh())); err != nil {
		t.Fatal(err)
	}
	p.addRSA("k1") // a new key under the old name, not the retired one
	old := signWith(t, mustKey(t), "k1", fresh())
	if _, err := az.Verify(ctx, old); err == nil {
		t.Fatal("a token signed by a retired key was accepted")
	}
}

func mustKey(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestClockSkew(t *testing.T) {
	p := newProvider(t)
	for _, tc := range []struct {
		name   string
		skew   time.Duration
		exp    time.Duration // relative to now
		nbf    time.Duration
		reason string
	}{
		{"expired within default skew", 0, -30 * time.Second, -time.Hour, ""},
		{"expired beyond default skew", 0, -90 * time.Second, -time.Hour, identity.ReasonExpired},
		{"expired, no skew", -1, -2 * time.Second, -time.Hour, identity.ReasonExpired},
		{"expired within a 5 minute skew", 5 * time.Minute, -4 * time.Minute, -time.Hour, ""},
		{"nbf slightly ahead", 0, time.Hour, 30 * time.Second, ""},
		{"nbf far ahead", 0, time.Hour, 10 * time.Minute, identity.ReasonNotYetValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			az, err := identity.NewJWTAuthorizer(identity.JWTOptions{Issuer: p.issuer(), JWKSURL: p.srv.URL + "/jwks",
				AllowedAudiences: []string{"bank-api"}, ClockSkew: tc.skew, HTTPClient: testClient(t)})
			if err != nil {
				t.Fatal(err)
			}
			c := p.claims()
			now := time.Now()
			c["exp"], c["nbf"], c["iat"] = now.Add(tc.exp).Unix(), now.Add(tc.nbf).Unix(), now.Add(-2*time.Hour).Unix()
			_, err = az.Verify(context.Background(), p.sign("k1", c))
			if tc.reason == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.reason != "" && reason(err) != tc.reason {
				t.Fatalf("reason %q, want %q", reason(err), tc.reason)
			}
		})
	}
}

func TestAllowedClientsScopesClaims(t *testing.T) {
	p := newProvider(t)
	az, err := identity.NewJWTAuthorizer(identity.JWTOptions{
		DiscoveryURL: p.discovery(), AllowedClients: []string{"web-app", "cli"},
		AllowedScopes: []string{"bank.read", "bank.admin"},
		CustomClaims: []identity.ClaimRule{
			{Name: "groups", Operator: identity.ClaimContainsAny, Values: []string{"tellers", "auditors"}},
			{Name: "tenant", Operator: identity.ClaimEquals, Values: []string{"harborview"}},
		},
		HTTPClient: testClient(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	base := func() map[string]any {
		c := p.claims()
		c["tenant"] = "harborview"
		delete(c, "aud") // no audience configured: the client check guards instead
		return c
	}
	ctx := context.Background()
	c, err := az.Verify(ctx, p.sign("k1", base()))
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != "web-app" || !c.HasScope("bank.read") || c.HasScope("bank.write") {
		t.Fatalf("caller %+v", c)
	}
	for _, tc := range []struct {
		name   string
		edit   func(map[string]any)
		reason string
	}{
		{"other client", func(c map[string]any) { c["client_id"] = "mobile" }, identity.ReasonClient},
		{"no client", func(c map[string]any) { delete(c, "client_id") }, identity.ReasonClient},
		{"azp instead of client_id", func(c map[string]any) { delete(c, "client_id"); c["azp"] = "cli" }, ""},
		{"no allowed scope", func(c map[string]any) { c["scope"] = "openid profile" }, identity.ReasonScope},
		{"scp list", func(c map[string]any) { delete(c, "scope"); c["scp"] = []string{"bank.admin"} }, ""},
		{"no matching group", func(c map[string]any) { c["groups"] = []string{"marketing"} }, identity.ReasonClaim},
		{"group is a string", func(c map[string]any) { c["groups"] = "tellers" }, identity.ReasonClaim},
		{"other tenant", func(c map[string]any) { c["tenant"] = "evilcorp" }, identity.ReasonClaim},
		{"no subject", func(c map[string]any) { delete(c, "sub") }, identity.ReasonMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(c)
			_, err := az.Verify(ctx, p.sign("k1", c))
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if reason(err) != tc.reason {
				t.Fatalf("reason %q, want %q", reason(err), tc.reason)
			}
			var ae *identity.AuthError
			errors.As(err, &ae)
			if tc.reason != identity.ReasonMalformed && (!errors.Is(err, identity.ErrForbidden) || ae.StatusCode() != 403 || ae.BearerError() != "insufficient_scope") {
				t.Fatalf("%v: want ErrForbidden, 403, insufficient_scope", err)
			}
		})
	}
}

func TestProviderDown(t *testing.T) {
	p := newProvider(t)
	p.fail.Store(true)
	clock := &fakeClock{t: time.Now()}
	az, err := identity.NewJWTAuthorizer(identity.JWTOptions{DiscoveryURL: p.discovery(),
		AllowedAudiences: []string{"bank-api"}, HTTPClient: testClient(t), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok := p.sign("k1", p.claims())
	_, err = az.Verify(context.Background(), tok)
	var ae *identity.AuthError
	if !errors.As(err, &ae) || ae.StatusCode() != 503 || !errors.Is(err, identity.ErrKeysUnavailable) || !errors.Is(err, bedrockkit.ErrServiceUnavailable) {
		t.Fatalf("provider down: %v", err)
	}
	p.fail.Store(false)
	clock.Advance(time.Minute) // past the refresh interval
	if _, err := az.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	// Down again with keys cached: known keys keep working.
	p.fail.Store(true)
	if _, err := az.Verify(context.Background(), tok); err != nil {
		t.Fatalf("cached keys: %v", err)
	}
}

func TestStaticKeysAndOptions(t *testing.T) {
	p := newProvider(t)
	az, err := identity.NewJWTAuthorizer(identity.JWTOptions{Issuer: p.issuer(), StaticJWKS: p.jwks(), AllowedAudiences: []string{"bank-api"}})
	if err != nil {
		t.Fatal(err)
	}
	p.fail.Store(true) // static keys never touch the network
	if _, err := az.Verify(context.Background(), p.sign("k1", p.claims())); err != nil {
		t.Fatal(err)
	}
	if n := p.fetches.Load(); n != 0 {
		t.Fatalf("static keys fetched the JWKS %d times", n)
	}
	for _, o := range []identity.JWTOptions{
		{},
		{DiscoveryURL: "https://idp.example.com/"},
		{DiscoveryURL: p.discovery()},                                                                               // no audience or client
		{JWKSURL: "https://idp.example.com/jwks", AllowedClients: []string{"x"}},                                    // no issuer
		{DiscoveryURL: p.discovery(), JWKSURL: "https://x/jwks", AllowedClients: []string{"x"}},                     // both
		{Issuer: "i", StaticJWKS: []byte(`{"keys":[]}`), AllowedClients: []string{"x"}},                             // empty set
		{Issuer: "i", StaticJWKS: []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`), AllowedClients: []string{"x"}}, // symmetric only
		{DiscoveryURL: p.discovery(), AllowedClients: []string{"x"}, Algorithms: []string{"HS256"}},
		{DiscoveryURL: p.discovery(), AllowedClients: []string{"x"}, Algorithms: []string{"none"}},
		{DiscoveryURL: p.discovery(), AllowedClients: []string{"x"}, CustomClaims: []identity.ClaimRule{{Name: "g", Operator: "LIKE", Values: []string{"a"}}}},
		{DiscoveryURL: p.discovery(), AllowedClients: []string{"x"}, CustomClaims: []identity.ClaimRule{{Name: "g", Operator: identity.ClaimEquals, Values: []string{"a", "b"}}}},
	} {
		if _, err := identity.NewJWTAuthorizer(o); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%+v: want ErrInvalidInput, got %v", o, err)
		}
	}
}

func TestDiscoveryIssuerMismatch(t *testing.T) {
	p := newProvider(t)
	az, err := identity.NewJWTAuthorizer(identity.JWTOptions{DiscoveryURL: p.discovery(), Issuer: "https://expected.example.com",
		AllowedAudiences: []string{"bank-api"}, HTTPClient: testClient(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := az.Verify(context.Background(), p.sign("k1", p.claims())); !errors.Is(err, identity.ErrKeysUnavailable) {
		t.Fatalf("discovery naming another issuer: %v", err)
	}
}

func TestBearerTokenAndRequire(t *testing.T) {
	p := newProvider(t)
	az, err := identity.NewJWTAuthorizer(identity.JWTOptions{DiscoveryURL: p.discovery(), AllowedAudiences: []string{"bank-api"},
		AllowedScopes: []string{"bank.read"}, HTTPClient: testClient(t)})
	if err != nil {
		t.Fatal(err)
	}
	var got *identity.Caller
	h := identity.Require(az, identity.RequireOptions{Realm: "bank", ResourceMetadata: "https://svc.example.com/.well-known/oauth-protected-resource"},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, _ = identity.CallerFrom(r.Context())
			w.WriteHeader(204)
		}))
	noScope := p.claims()
	noScope["scope"] = "openid"
	valid := p.sign("k1", p.claims())
	for _, tc := range []struct {
		name      string
		headers   []string
		status    int
		challenge string
	}{
		{"valid", []string{"Bearer " + valid}, 204, ""},
		{"lower-case scheme", []string{"bearer " + valid}, 204, ""},
		{"missing", nil, 401, `Bearer realm="bank", resource_metadata="https://svc.example.com/.well-known/oauth-protected-resource"`},
		{"basic scheme", []string{"Basic dXNlcjpwYXNz"}, 401, `Bearer realm="bank", resource_metadata="https://svc.example.com/.well-known/oauth-protected-resource"`},
		{"two headers", []string{"Bearer " + valid, "Bearer " + valid}, 401, `error="invalid_token"`},
		{"bad characters", []string{"Bearer abc\"def"}, 401, `error="invalid_token"`},
		{"empty", []string{"Bearer "}, 401, `error="invalid_token"`},
		{"huge", []string{"Bearer " + strings.Repeat("a", 20000)}, 401, `error="invalid_token"`},
		{"insufficient scope", []string{"Bearer " + p.sign("k1", noScope)}, 403, `error="insufficient_scope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got = nil
			r := httptest.NewRequest("POST", "/invocations", nil)
			for _, v := range tc.headers {
				r.Header.Add("Authorization", v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.status == 204 {
				if got == nil || got.Subject != "user-1" {
					t.Fatalf("caller in context: %+v", got)
				}
				return
			}
			if got != nil {
				t.Fatal("the handler ran for a refused request")
			}
			if ch := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer") || !strings.Contains(ch, tc.challenge) {
				t.Fatalf("WWW-Authenticate %q, want it to hold %q", ch, tc.challenge)
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["error"] == "" || body["error_type"] == "" {
				t.Fatalf("body %s: %v", w.Body, err)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
		})
	}
}

func TestRequireNilAndAnonymous(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := identity.CallerFrom(r.Context())
		if c == nil || !c.Anonymous || c.Namespace() != identity.AnonymousNamespace {
			t.Errorf("anonymous caller %+v", c)
		}
		w.WriteHeader(204)
	})
	w := httptest.NewRecorder()
	identity.Require(nil, identity.RequireOptions{}, ok).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 401 {
		t.Fatalf("nil authorizer: %d", w.Code)
	}
	w = httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer whatever")
	identity.Require(identity.Anonymous(), identity.RequireOptions{}, ok).ServeHTTP(w, r)
	if w.Code != 204 {
		t.Fatalf("anonymous: %d", w.Code)
	}
}

func TestNamespace(t *testing.T) {
	a := &identity.Caller{Issuer: "https://idp", Subject: "alice"}
	b := &identity.Caller{Issuer: "https://idp", Subject: "bob"}
	c := &identity.Caller{Issuer: "https://idp2", Subject: "alice"}
	seen := map[string]bool{}
	for _, x := range []*identity.Caller{a, b, c} {
		ns := x.Namespace()
		if seen[ns] || len(ns) != 28 || strings.ToLower(ns) != ns {
			t.Fatalf("namespace %q", ns)
		}
		seen[ns] = true
	}
	if a.Namespace() != (&identity.Caller{Issuer: "https://idp", Subject: "alice", ClientID: "other"}).Namespace() {
		t.Fatal("namespace depends on more than issuer and subject")
	}
	// Issuer and subject are length-delimited: no shift between them collides.
	if (&identity.Caller{Issuer: "a\x00b", Subject: "c"}).Namespace() == (&identity.Caller{Issuer: "a", Subject: "b\x00c"}).Namespace() {
		t.Fatal("namespaces collide across the issuer/subject boundary")
	}
	var nilCaller *identity.Caller
	if nilCaller.Namespace() != identity.AnonymousNamespace {
		t.Fatal("nil caller")
	}
}
