package credentials_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/credentials"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

const secret = "sk-live-0123456789abcdef"

func TestSecretNeverPrints(t *testing.T) {
	s := credentials.NewSecret(secret)
	type holder struct {
		Key credentials.Secret
		Ptr *credentials.Secret
	}
	h := holder{Key: s, Ptr: &s}
	var out bytes.Buffer
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		fmt.Fprintf(&out, f+"\n", s)
		fmt.Fprintf(&out, f+"\n", h)
	}
	fmt.Fprintln(&out, s, h)
	b, _ := json.Marshal(h)
	out.Write(b)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("x", "key", s, "holder", h)
	slog.New(slog.NewTextHandler(&out, nil)).Info("x", "key", s)
	if strings.Contains(out.String(), secret) || strings.Contains(out.String(), "0123456789") {
		t.Fatalf("the secret leaked:\n%s", out.String())
	}
	if s.Reveal() != secret {
		t.Fatal("Reveal lost the text")
	}
}

func TestAPIKey(t *testing.T) {
	p := credentials.NewLocal(credentials.LocalOptions{APIKeys: map[string]credentials.Secret{"bank": credentials.NewSecret(secret)}})
	req, _ := http.NewRequest("GET", "http://x/a?b=1", nil)
	if err := (credentials.APIKey{Provider: p, Name: "bank"}).Authenticate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("X-API-Key") != secret {
		t.Fatalf("header: %v", req.Header)
	}
	req, _ = http.NewRequest("GET", "http://x/a?b=1", nil)
	if err := (credentials.APIKey{Provider: p, Name: "bank", In: credentials.InQuery, Param: "key", Prefix: "k:"}).Authenticate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if req.URL.Query().Get("key") != "k:"+secret || req.URL.Query().Get("b") != "1" {
		t.Fatalf("query: %s", req.URL.RawQuery)
	}
	err := (credentials.APIKey{Provider: p, Name: "other"}).Authenticate(context.Background(), req)
	if !errors.Is(err, credentials.ErrNoCredential) || !errors.Is(err, bedrockkit.ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	if err := (credentials.APIKey{Provider: p, Name: "bank", In: "cookie"}).Authenticate(context.Background(), req); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("bad location: %v", err)
	}
}

func tokenServer(t *testing.T, fetches *atomic.Int32, fail bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "client_credentials" {
			http.Error(w, "bad grant", 400)
			return
		}
		id, sec, _ := r.BasicAuth()
		if fail || id != "agent" || sec != "client-"+secret {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(401)
			fmt.Fprintf(w, "invalid client; you sent %s", sec) // an endpoint that echoes the secret
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at-%s","token_type":"bearer","expires_in":3600,"scope":%q}`, secret, r.Form.Get("scope"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestOAuth2ClientCredentials(t *testing.T) {
	var fetches atomic.Int32
	srv := tokenServer(t, &fetches, false)
	p := credentials.NewLocal(credentials.LocalOptions{Clients: map[string]clientcredentials.Config{
		"core": {ClientID: "agent", ClientSecret: "client-" + secret, TokenURL: srv.URL, Scopes: []string{"read"}},
	}, HTTPClient: srv.Client()})
	auth := credentials.OAuth2{Provider: p, Name: "core"}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", "http://x", nil)
			if err := auth.Authenticate(context.Background(), req); err != nil {
				t.Error(err)
				return
			}
			if req.Header.Get("Authorization") != "Bearer at-"+secret {
				t.Errorf("header %q", req.Header.Get("Authorization"))
			}
		})
	}
	wg.Wait()
	if fetches.Load() != 1 {
		t.Fatalf("the token was fetched %d times, want 1 (cached)", fetches.Load())
	}
	// Other scopes are another token.
	req, _ := http.NewRequest("GET", "http://x", nil)
	if err := (credentials.OAuth2{Provider: p, Name: "core", Scopes: []string{"write"}}).Authenticate(context.Background(), req); err != nil || fetches.Load() != 2 {
		t.Fatalf("scoped token: %v, fetches %d", err, fetches.Load())
	}
	// A refusal is reported without the body the endpoint echoed.
	var bad atomic.Int32
	badSrv := tokenServer(t, &bad, true)
	p2 := credentials.NewLocal(credentials.LocalOptions{Clients: map[string]clientcredentials.Config{
		"core": {ClientID: "agent", ClientSecret: "client-" + secret, TokenURL: badSrv.URL},
	}})
	err := (credentials.OAuth2{Provider: p2, Name: "core"}).Authenticate(context.Background(), req)
	if !errors.Is(err, credentials.ErrProvider) || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("refused token: %v", err)
	}
	if _, err := p.OAuth2Token(context.Background(), credentials.TokenRequest{Provider: "core", Flow: credentials.FlowUser}); !errors.Is(err, bedrockkit.ErrUnsupported) {
		t.Fatalf("user flow locally: %v", err)
	}
}

func verified(ctx context.Context, sub string) context.Context {
	return identity.WithCaller(ctx, &identity.Caller{Issuer: "https://idp", Subject: sub})
}

func TestCallerToken(t *testing.T) {
	ctx := credentials.WithCallerToken(verified(context.Background(), "u1"), credentials.NewSecret("caller-jwt"))
	req, _ := http.NewRequest("GET", "http://x", nil)
	if err := (credentials.CallerToken{}).Authenticate(ctx, req); err != nil || req.Header.Get("Authorization") != "Bearer caller-jwt" {
		t.Fatalf("passthrough: %v %v", err, req.Header)
	}
	// A token without a verified caller is not used.
	unverified := credentials.WithCallerToken(context.Background(), credentials.NewSecret("caller-jwt"))
	if err := (credentials.CallerToken{}).Authenticate(unverified, req); !errors.Is(err, credentials.ErrNoCallerToken) {
		t.Fatalf("unverified: %v", err)
	}
	anon := credentials.WithCallerToken(identity.WithCaller(context.Background(), &identity.Caller{Anonymous: true}), credentials.NewSecret("x"))
	if err := (credentials.CallerToken{}).Authenticate(anon, req); !errors.Is(err, credentials.ErrNoCallerToken) {
		t.Fatalf("anonymous: %v", err)
	}
	// Exchange.
	p := credentials.NewLocal(credentials.LocalOptions{Exchange: func(ctx context.Context, subject credentials.Secret, r credentials.TokenRequest) (credentials.Secret, error) {
		return credentials.NewSecret("exchanged-for-" + subject.Reveal() + "-" + r.Provider), nil
	}})
	req, _ = http.NewRequest("GET", "http://x", nil)
	if err := (credentials.CallerToken{Header: "X-Token", Exchange: &credentials.OAuth2{Provider: p, Name: "down"}}).Authenticate(ctx, req); err != nil || req.Header.Get("X-Token") != "exchanged-for-caller-jwt-down" {
		t.Fatalf("exchange: %v %v", err, req.Header)
	}
}

// TestKeepCallerToken: the middleware keeps only tokens the inbound
// authorizer verified.
func TestKeepCallerToken(t *testing.T) {
	authz := identity.AuthorizerFunc(func(r *http.Request) (*identity.Caller, error) {
		tok, err := identity.BearerToken(r)
		if err != nil {
			return nil, err
		}
		if tok != "good" {
			return nil, &identity.AuthError{Err: identity.ErrUnauthenticated}
		}
		return &identity.Caller{Issuer: "i", Subject: "s"}, nil
	})
	var got string
	h := identity.Require(authz, identity.RequireOptions{}, credentials.KeepCallerToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := credentials.CallerTokenFrom(r.Context())
		got = tok.Reveal()
	})))
	for _, c := range []struct{ header, want string }{{"Bearer good", "good"}, {"Bearer bad", ""}} {
		got = ""
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", c.header)
		h.ServeHTTP(httptest.NewRecorder(), req)
		if got != c.want {
			t.Fatalf("%s: kept %q", c.header, got)
		}
	}
	// Without identity.Require in front, nothing is kept.
	got = "unset"
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer good")
	credentials.KeepCallerToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := credentials.CallerTokenFrom(r.Context())
		got = tok.Reveal()
	})).ServeHTTP(httptest.NewRecorder(), req)
	if got != "" {
		t.Fatalf("kept an unverified token: %q", got)
	}
}

func TestAgentCoreProvider(t *testing.T) {
	f := bedrockkittest.NewFakeIdentity(t)
	f.AddWorkload("bank-agent")
	f.AddAPIKey("core-banking", secret)
	f.AddOAuth2("ledger", "ledger-"+secret)
	p := credentials.NewAgentCore(f.Client(), credentials.AgentCoreOptions{WorkloadName: "bank-agent", ReturnURL: "https://app.example/callback"})
	ctx := context.Background()

	// The agent as itself.
	k, err := p.APIKey(ctx, "core-banking")
	if err != nil || k.Reveal() != secret || f.Calls("GetWorkloadAccessToken") != 1 {
		t.Fatalf("api key: %v %d", err, f.Calls("GetWorkloadAccessToken"))
	}
	tok, err := p.OAuth2Token(ctx, credentials.TokenRequest{Provider: "ledger", Scopes: []string{"read"}})
	if err != nil || tok.Reveal() != "ledger-"+secret {
		t.Fatalf("m2m: %v", err)
	}
	// For a verified caller: ForUserId; with the caller's token: ForJWT.
	if _, err := p.APIKey(verified(ctx, "u1"), "core-banking"); err != nil || f.Calls("GetWorkloadAccessTokenForUserId") != 1 {
		t.Fatalf("for user: %v", err)
	}
	withJWT := credentials.WithCallerToken(verified(ctx, "u1"), credentials.NewSecret("eyJ.user.jwt"))
	if _, err := p.APIKey(withJWT, "core-banking"); err != nil || f.Calls("GetWorkloadAccessTokenForJWT") != 1 {
		t.Fatalf("for jwt: %v", err)
	}
	// On-behalf-of needs the caller's token.
	if _, err := p.OAuth2Token(ctx, credentials.TokenRequest{Provider: "ledger", Flow: credentials.FlowOnBehalfOf}); !errors.Is(err, credentials.ErrNoCallerToken) {
		t.Fatalf("obo without token: %v", err)
	}
	if tok, err := p.OAuth2Token(withJWT, credentials.TokenRequest{Provider: "ledger", Flow: credentials.FlowOnBehalfOf}); err != nil || tok.Reveal() != "ledger-"+secret {
		t.Fatalf("obo: %v", err)
	}
	// User federation: consent first.
	_, err = p.OAuth2Token(verified(ctx, "u2"), credentials.TokenRequest{Provider: "ledger", Flow: credentials.FlowUser})
	var ar *credentials.AuthorizationRequiredError
	if !errors.As(err, &ar) || !errors.Is(err, credentials.ErrAuthorizationRequired) || !strings.HasPrefix(ar.URL, "https://fake-idp.example/authorize") {
		t.Fatalf("user flow: %v", err)
	}
	if !f.Consent(ar.SessionURI) {
		t.Fatal("unknown session")
	}
	if tok, err := p.OAuth2Token(verified(ctx, "u2"), credentials.TokenRequest{Provider: "ledger", Flow: credentials.FlowUser}); err != nil || tok.Reveal() != "ledger-"+secret {
		t.Fatalf("after consent: %v", err)
	}
	// Another user has not consented.
	if _, err := p.OAuth2Token(verified(ctx, "u3"), credentials.TokenRequest{Provider: "ledger", Flow: credentials.FlowUser}); !errors.As(err, &ar) {
		t.Fatalf("other user: %v", err)
	}
	// Unknown provider and unknown workload: provider errors.
	if _, err := p.APIKey(ctx, "nope"); !errors.Is(err, credentials.ErrProvider) {
		t.Fatalf("unknown provider: %v", err)
	}
	bad := credentials.NewAgentCore(f.Client(), credentials.AgentCoreOptions{WorkloadName: "unknown-workload"})
	if _, err := bad.APIKey(ctx, "core-banking"); !errors.Is(err, credentials.ErrProvider) {
		t.Fatalf("unknown workload: %v", err)
	}
	// A runtime-provided workload token is used as is.
	before := f.Calls("GetWorkloadAccessToken")
	if _, err := bad.APIKey(credentials.WithWorkloadAccessToken(ctx, credentials.NewSecret("forged")), "core-banking"); !errors.Is(err, credentials.ErrProvider) || f.Calls("GetWorkloadAccessToken") != before {
		t.Fatalf("forged workload token: %v", err)
	}
	if _, err := credentials.NewAgentCore(f.Client(), credentials.AgentCoreOptions{}).APIKey(ctx, "x"); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("no workload name: %v", err)
	}
}
