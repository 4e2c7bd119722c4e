package identity_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// provider is a small OpenID provider for tests: discovery document, JWKS
// (whose keys can be rotated) and token signing, over httptest.
type provider struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	signing map[string]any // kid -> private key, published in the JWKS
	fetches atomic.Int64
	fail    atomic.Bool
}

func newProvider(t testing.TB) *provider {
	t.Helper()
	p := &provider{t: t, signing: map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if p.fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"issuer": p.issuer(), "jwks_uri": p.srv.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		if p.fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Write(p.jwks())
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	p.addRSA("k1")
	return p
}

func (p *provider) issuer() string    { return p.srv.URL }
func (p *provider) discovery() string { return p.srv.URL + "/.well-known/openid-configuration" }

func (p *provider) addRSA(kid string) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.signing[kid] = k
	p.mu.Unlock()
}

func (p *provider) addEC(kid string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.signing[kid] = k
	p.mu.Unlock()
}

func (p *provider) remove(kid string) {
	p.mu.Lock()
	delete(p.signing, kid)
	p.mu.Unlock()
}

func (p *provider) jwks() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	var set jose.JSONWebKeySet
	for kid, k := range p.signing {
		var pub any
		switch k := k.(type) {
		case *rsa.PrivateKey:
			pub = &k.PublicKey
		case *ecdsa.PrivateKey:
			pub = &k.PublicKey
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: pub, KeyID: kid, Use: "sig"})
	}
	b, _ := json.Marshal(set)
	return b
}

// claims are the default claims of a valid token; edit before signing.
func (p *provider) claims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": p.issuer(), "sub": "user-1", "aud": []string{"bank-api"},
		"client_id": "web-app", "scope": "openid bank.read",
		"exp": now.Add(10 * time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Unix(),
		"groups": []string{"tellers", "staff"},
	}
}

// sign signs claims with the key kid (which may be unpublished).
func (p *provider) sign(kid string, claims map[string]any) string {
	p.t.Helper()
	p.mu.Lock()
	k, ok := p.signing[kid]
	p.mu.Unlock()
	if !ok {
		p.t.Fatalf("no key %q", kid)
	}
	return signWith(p.t, k, kid, claims)
}

func signWith(t testing.TB, key any, kid string, claims map[string]any) string {
	t.Helper()
	alg := jose.RS256
	if _, ok := key.(*ecdsa.PrivateKey); ok {
		alg = jose.ES256
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
