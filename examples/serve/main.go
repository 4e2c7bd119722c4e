// Command serve puts Harborview Bank's assistant behind HTTP on Amazon
// Bedrock AgentCore Runtime's protocol contract and calls it with the Go
// client: a JSON invocation, a streamed one, and a transfer that pauses
// for the customer's approval and resumes in a later invocation.
//
//	go run ./examples/serve              # offline: a scripted model, a server on 127.0.0.1
//	go run ./examples/serve -bedrock     # the same against a real Bedrock model
//	go run ./examples/serve -listen :8080 -bedrock
//	                                     # serve only, as an AgentCore Runtime container
//	                                     # would, until SIGTERM
//
// Offline the callers are authenticated with bearer tokens signed by an
// in-process key; in production set the authorizer's DiscoveryURL to your
// identity provider.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/serve"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

const instructions = `You are the customer-service assistant of Harborview Bank. Use account_lookup and
transaction_summary for the customer's own account (the customer gives their id) and transfer to
move money (the customer approves each transfer). Be brief.`

// The conversation the example has with its own server.
var (
	balanceQuestion = "Hi, I'm customer C-1001. What's my balance?"
	spendQuestion   = "What did I spend on in my last 3 transactions?"
	transferRequest = "Please send $50.00 to Ben Okafor from C-1001."
)

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	useBedrock := fs.Bool("bedrock", false, "use Amazon Bedrock (AWS credentials and region from the environment)")
	modelID := fs.String("model", "us.amazon.nova-lite-v1:0", "Bedrock model or inference profile (with -bedrock)")
	listen := fs.String("listen", "", "serve on this address (such as :8080) until SIGTERM instead of running the demo; callers are anonymous unless -discovery-url is set")
	discovery := fs.String("discovery-url", "", "with -listen: OpenID discovery URL of the identity provider whose tokens are accepted")
	audience := fs.String("audience", "", "with -discovery-url: the audience tokens must carry")
	if err := fs.Parse(args); err != nil {
		return err
	}

	var model bedrockkit.Model
	if *useBedrock {
		client, err := bedrockkit.NewRuntimeClient(ctx, bedrockkit.RuntimeClientOptions{})
		if err != nil {
			return err
		}
		if model, err = bedrockkit.NewConverseModel(client, *modelID, bedrockkit.ConverseOptions{}); err != nil {
			return err
		}
	} else {
		model = scriptedBank()
	}
	assistant := &agent.Agent{Name: "harborview-assistant", Model: model, Instructions: instructions,
		Memory: agent.NewInMemory(), Tools: bankTools(), Inference: agent.Inference{MaxTokens: 512}}

	if *listen != "" {
		az := identity.Anonymous()
		if *discovery != "" {
			var err error
			if az, err = identity.NewJWTAuthorizer(identity.JWTOptions{DiscoveryURL: *discovery, AllowedAudiences: []string{*audience}}); err != nil {
				return err
			}
		}
		h, err := serve.New(assistant, serve.Options{Authorizer: az})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "serving %s on %s (POST /invocations, GET /ping); SIGTERM drains and stops\n", assistant.Name, *listen)
		return serve.ListenAndServe(ctx, h, serve.ServerOptions{Addr: *listen})
	}
	return demo(ctx, assistant, out)
}

// demo serves the assistant on a loopback port and talks to it.
func demo(ctx context.Context, assistant *agent.Agent, out io.Writer) error {
	// An identity provider's signing key and its public key set. The
	// authorizer only ever sees the public keys.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "demo-key", Use: "sig"}}})
	az, err := identity.NewJWTAuthorizer(identity.JWTOptions{Issuer: "https://login.harborview.example",
		StaticJWKS: jwks, AllowedAudiences: []string{"harborview-assistant"}})
	if err != nil {
		return err
	}
	h, err := serve.New(assistant, serve.Options{Authorizer: az})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srvCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- serve.Serve(srvCtx, ln, h, serve.ServerOptions{Signals: []os.Signal{}}) }()
	defer func() {
		stop()
		<-served
	}()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "Serving %s on %s (AgentCore Runtime HTTP contract)\n\n", assistant.Name, base)

	token := func(context.Context) (string, error) { return signToken(key, "customer-C-1001") }
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c, err := serve.NewClient(base, serve.ClientOptions{HTTPClient: &http.Client{Transport: tr, Timeout: 2 * time.Minute}, Token: token})
	if err != nil {
		return err
	}
	anon, _ := serve.NewClient(base, serve.ClientOptions{HTTPClient: &http.Client{Transport: tr}})

	// Without a token the invocation is refused.
	_, err = anon.Invoke(ctx, "", serve.InvocationRequest{Prompt: balanceQuestion})
	var se *serve.Error
	if !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("an invocation without a token was not refused: %v", err)
	}
	fmt.Fprintf(out, "without a token: HTTP %d %s\n\n", se.StatusCode, se.Type)

	session := serve.NewSessionID()
	fmt.Fprintf(out, "session %s\n\n", session)

	// 1. A JSON invocation.
	fmt.Fprintf(out, "customer: %s\n", balanceQuestion)
	res, err := c.Invoke(ctx, session, serve.InvocationRequest{Prompt: balanceQuestion})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "assistant: %s\n  (status %s, %d model calls, %d+%d tokens)\n\n", res.Output, res.Status, res.Iterations, res.Usage.InputTokens, res.Usage.OutputTokens)

	// 2. A streamed invocation: the answer arrives as server-sent events.
	fmt.Fprintf(out, "customer: %s\nassistant (streamed): ", spendQuestion)
	var tools []string
	for ev, err := range c.Stream(ctx, session, serve.InvocationRequest{Prompt: spendQuestion}) {
		if err != nil {
			return err
		}
		switch ev.Type {
		case "text_delta":
			fmt.Fprint(out, ev.Text)
		case "tool_called":
			tools = append(tools, ev.Name)
		case "error":
			return fmt.Errorf("stream: %s", ev.Error)
		}
	}
	fmt.Fprintf(out, "\n  (tools called: %s)\n\n", strings.Join(tools, ", "))

	// 3. A transfer pauses for approval; the customer approves in a later
	// invocation, which the server resumes from its own stored state.
	fmt.Fprintf(out, "customer: %s\n", transferRequest)
	res, err = c.Invoke(ctx, session, serve.InvocationRequest{Prompt: transferRequest})
	if err != nil {
		return err
	}
	if res.Status != serve.StatusPaused {
		return fmt.Errorf("the transfer did not pause for approval: %+v", res)
	}
	var decisions []agent.Decision
	for _, call := range res.Pending.Calls {
		fmt.Fprintf(out, "  paused: %s %s needs the customer's approval (pause %s)\n", call.Name, call.Input, res.Pending.ID)
		decisions = append(decisions, agent.Approve(call.CallID))
	}
	res, err = c.Resume(ctx, session, res.Pending.ID, decisions...)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  customer approved\nassistant: %s\n\n", res.Output)

	st, err := c.Ping(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "GET /ping: %s (since %s)\n", st.Status, time.Unix(st.TimeOfLastUpdate, 0).UTC().Format(time.RFC3339))
	return nil
}

// signToken issues the customer's access token, as the identity provider would.
func signToken(key *ecdsa.PrivateKey, subject string) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "demo-key"))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(jwt.Claims{Issuer: "https://login.harborview.example", Subject: subject,
		Audience: jwt.Audience{"harborview-assistant"}, Expiry: jwt.NewNumericDate(time.Now().Add(15 * time.Minute))}).Serialize()
}

// scriptedBank is the offline model: it answers the demo's conversation
// as a tool-calling model would, in order.
func scriptedBank() *bedrockkittest.ScriptedModel {
	call := func(id, name, input string) bedrockkit.ToolCall {
		return bedrockkit.ToolCall{ID: id, Name: name, Input: json.RawMessage(input)}
	}
	return bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("c1", "account_lookup", `{"customer_id":"C-1001"}`)),
		bedrockkittest.TextStep("Your Everyday Checking account (HV-****-****-57) has a balance of $2,431.18."),
		bedrockkittest.ToolStep(call("c2", "transaction_summary", `{"customer_id":"C-1001","last":3}`)),
		bedrockkittest.TextStep("Your last 3 transactions: PowerGrid electricity $74.10, Luna Cafe $18.40 and FreshMart groceries $52.18."),
		bedrockkittest.ToolStep(call("c3", "transfer", `{"customer_id":"C-1001","to":"Ben Okafor","amount_cents":5000}`)),
		bedrockkittest.TextStep("Done: $50.00 is on its way to Ben Okafor."),
	)
}
