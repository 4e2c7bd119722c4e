package browser_test

import (
	"context"
	"fmt"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/browser"
	"github.com/bedrockkit/bedrockkit/agent/credentials"
	"github.com/bedrockkit/bedrockkit/guardrail"
)

// Origins are compared as browsers compare them: scheme, host in ASCII
// and explicit port.
func ExampleParseOrigin() {
	for _, s := range []string{"https://Bank.Example", "http://127.0.0.1:8080/", "https://bücher.example:443"} {
		o, err := browser.ParseOrigin(s)
		fmt.Println(o, o.Port, err)
	}
	_, err := browser.ParseOrigin("https://bank.example/fees")
	fmt.Println(err)
	// Output:
	// https://bank.example 443 <nil>
	// http://127.0.0.1:8080 8080 <nil>
	// https://xn--bcher-kva.example 443 <nil>
	// browser: origin "https://bank.example/fees" must be scheme://host[:port] with no path, query, fragment or user: bedrockkit: invalid input
}

// An agent that reads a bank's website in a local headless Chromium,
// signs in with credentials it never sees, and has its tool results
// checked for prompt injections.
func ExamplePool_Tools() {
	ctx := context.Background()
	vault := credentials.NewLocal(credentials.LocalOptions{APIKeys: map[string]credentials.Secret{
		"bank-user": credentials.NewSecret("alice"), "bank-password": credentials.NewSecret("…"),
	}})
	pool := browser.NewPool(browser.NewLocal(browser.LocalOptions{}), browser.Options{
		AllowedOrigins: []string{"https://www.example-bank.com"},
		Credentials:    vault,
		Logins:         []browser.Login{{Name: "bank", Origin: "https://www.example-bank.com", Username: "bank-user", Password: "bank-password"}},
	})
	defer pool.Close(ctx)

	policy, _ := guardrail.ParsePolicy([]byte(`{"name":"web","blockedInputMessaging":"Withheld.","blockedOutputsMessaging":"Sorry.",
		"contentPolicyConfig":{"filtersConfig":[{"type":"PROMPT_ATTACK","inputStrength":"HIGH","outputStrength":"NONE"}]}}`))
	guard, _ := guardrail.NewLocal(policy, guardrail.Options{})
	a := &agent.Agent{
		Model:        nil, // a bedrockkit.Model, such as bedrockkit.NewConverseModel(...)
		Instructions: "Answer from the bank's website and cite the page you read.",
		Tools:        pool.Tools(),
		Guardrail:    guard,
	}
	_ = a
}
