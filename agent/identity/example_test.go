package identity_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/bedrockkit/bedrockkit/agent/identity"
)

// An API protected by a JWT authorizer: the handler reads the verified
// caller from its context. Here the provider's key set is static; in
// production set DiscoveryURL instead.
func ExampleRequire() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "key-1", Use: "sig"}}})
	az, err := identity.NewJWTAuthorizer(identity.JWTOptions{
		Issuer:           "https://idp.example.com",
		StaticJWKS:       jwks,
		AllowedAudiences: []string{"bank-assistant"},
	})
	if err != nil {
		panic(err)
	}
	api := identity.Require(az, identity.RequireOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := identity.CallerFrom(r.Context())
		fmt.Fprintf(w, "hello %s", c.Subject)
	}))

	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "key-1"))
	token, _ := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "https://idp.example.com", Subject: "ana",
		Audience: jwt.Audience{"bank-assistant"}, Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour))}).Serialize()

	for _, auth := range []string{"Bearer " + token, ""} {
		r := httptest.NewRequest("GET", "/", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.String()[:min(w.Body.Len(), 9)])
	}
	_, err = az.Verify(context.Background(), "not-a-token")
	fmt.Println(err)
	// Output:
	// 200 hello ana
	// 401 {"error":
	// identity: malformed: the token is not a signed compact JWT
}
