package credentials_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/bedrockkit/bedrockkit/agent/credentials"
)

// A tool's outbound request gets its API key at call time, from a
// provider; the key itself never appears in the tool's definition or in
// anything printed.
func Example() {
	keys := credentials.NewLocal(credentials.LocalOptions{
		APIKeys: map[string]credentials.Secret{"core-banking": credentials.NewSecret("sk-123")},
	})
	auth := credentials.APIKey{Provider: keys, Name: "core-banking", Param: "X-Api-Key"}

	req, _ := http.NewRequest("GET", "https://core.example/accounts/A-1", nil)
	if err := auth.Authenticate(context.Background(), req); err != nil {
		panic(err)
	}
	key, _ := keys.APIKey(context.Background(), "core-banking")
	fmt.Println(req.Header.Get("X-Api-Key") == "sk-123", key)
	// Output: true [REDACTED]
}
