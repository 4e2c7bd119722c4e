package identity_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/bedrockkit/bedrockkit/agent/identity"
)

// FuzzVerify feeds arbitrary tokens to an authorizer with static keys:
// it must never panic, and a token it accepts must carry exactly the
// claims the key's owner signed.
func FuzzVerify(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k", Use: "sig"}}})
	exp := time.Now().Add(time.Hour).Unix()
	claims := map[string]any{"iss": "https://idp", "sub": "user-1", "aud": "api", "exp": exp}
	valid := signWith(f, key, "k", claims)
	az, err := identity.NewJWTAuthorizer(identity.JWTOptions{Issuer: "https://idp", StaticJWKS: jwks, AllowedAudiences: []string{"api"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(unsigned(map[string]any{"alg": "none"}, claims, ""))
	f.Add(unsigned(map[string]any{"alg": "ES256", "kid": "k", "crit": []string{"x"}}, claims, "AAAA"))
	f.Add(strings.Replace(valid, ".", "..", 1))
	f.Add("e30.e30.")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := az.Verify(context.Background(), tok)
		if err != nil {
			if c != nil {
				t.Fatal("a refused token returned a caller")
			}
			return
		}
		if c.Subject != "user-1" || c.Issuer != "https://idp" || c.ExpiresAt.Unix() != exp || len(c.Claims) != len(claims) {
			t.Fatalf("accepted a token with other claims: %+v", c)
		}
	})
}

// FuzzBearerToken: any Authorization header value is parsed without
// panicking, and an accepted token holds only token68 characters.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc.def.ghi", "bearer  x", "Bearer", "Basic x", "Bearer a b", "Bearer \x00", "BEARER ~+/="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{v}
		tok, err := identity.BearerToken(r)
		if err != nil {
			return
		}
		if tok == "" || strings.ContainsAny(tok, " \t\r\n\"\\,;") {
			t.Fatalf("accepted token %q from %q", tok, v)
		}
	})
}
