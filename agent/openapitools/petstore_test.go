package openapitools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/routers"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/credentials"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/openapitools"
	"github.com/bedrockkit/bedrockkit/agent/policy"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

const petSecret = "pet-key-5f3a9c1e7d"

// petstore is the Swagger Petstore in its OpenAPI 3.0 form, as kin-openapi
// ships it for its own filter tests.
const petstorePath = "openapi3filter/testdata/fixtures/petstore.json"

func petTools(t *testing.T, srv *specServer, opts openapitools.Options) (map[string]*agent.Tool, *openapitools.Report) {
	t.Helper()
	d, err := openapitools.Parse(readKin(t, petstorePath))
	if err != nil {
		t.Fatal(err)
	}
	opts.BaseURL = srv.URL + "/v2"
	if opts.Auth == nil {
		keys := credentials.NewLocal(credentials.LocalOptions{APIKeys: map[string]credentials.Secret{"petstore": credentials.NewSecret(petSecret)}})
		opts.Auth = credentials.APIKey{Provider: keys, Name: "petstore", Param: "api_key"}
	}
	tools, rep, err := d.Tools(opts)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*agent.Tool{}
	for _, tool := range tools {
		m[tool.Name()] = tool
	}
	return m, rep
}

func call(t *testing.T, tool *agent.Tool, input string) (string, error) {
	t.Helper()
	if tool == nil {
		t.Fatal("no such tool")
	}
	parts, err := tool.Call(context.Background(), json.RawMessage(input))
	var b strings.Builder
	for _, p := range parts {
		switch x := p.(type) {
		case bedrockkit.Text:
			b.WriteString(x.Text)
		case bedrockkit.JSON:
			b.Write(x.Value)
		}
	}
	return b.String(), err
}

func TestPetstoreCalls(t *testing.T) {
	srv := newSpecServer(t, readKin(t, petstorePath), "/v2")
	srv.apiKey = petSecret
	tools, rep := petTools(t, srv, openapitools.Options{})
	t.Logf("petstore: %d operations converted, %d skipped %v", len(rep.Converted), len(rep.Skipped), rep.Skipped)

	// A path parameter and API-key security.
	out, err := call(t, tools["getPetById"], `{"petId": 7}`)
	if err != nil || !strings.Contains(out, `"petId":"7"`) {
		t.Fatalf("getPetById: %q, %v (rejected: %v)", out, err, srv.rejected)
	}
	if got := srv.last().Header.Get("api_key"); got != petSecret {
		t.Fatalf("api key header %q", got)
	}
	// A JSON body with a nested $ref'd schema, validated by the server.
	out, err = call(t, tools["addPet"], `{"body": {"name": "Rex", "photoUrls": ["http://x/1.jpg"], "category": {"id": 1, "name": "dogs"}, "tags": [{"id": 2, "name": "good"}], "status": "available"}}`)
	if err != nil {
		t.Fatalf("addPet: %q %v (rejected: %v)", out, err, srv.rejected)
	}
	if !strings.Contains(string(srv.last().Body), `"photoUrls":["http://x/1.jpg"]`) {
		t.Fatalf("body sent: %s", srv.last().Body)
	}
	// An exploded array query parameter.
	if _, err = call(t, tools["findPetsByStatus"], `{"status": ["available", "sold"]}`); err != nil {
		t.Fatalf("findPetsByStatus: %v (rejected %v)", err, srv.rejected)
	}
	if q := srv.last().Query["status"]; len(q) != 2 || q[0] != "available" || q[1] != "sold" {
		t.Fatalf("query: %v", srv.last().Query)
	}
	// A form-urlencoded body.
	if _, err = call(t, tools["updatePetWithForm"], `{"petId": 3, "body": {"name": "Rex", "status": "sold"}}`); err != nil {
		t.Fatalf("updatePetWithForm: %v (rejected %v)", err, srv.rejected)
	}
	if string(srv.last().Body) != "name=Rex&status=sold" {
		t.Fatalf("form body: %s", srv.last().Body)
	}
	// Schema violations never reach the server.
	before := len(srv.seen)
	for _, bad := range []string{`{"petId": "seven"}`, `{}`, `{"petId": 1.5}`} {
		if _, err := call(t, tools["getPetById"], bad); !errors.Is(err, agent.ErrInvalidToolCall) {
			t.Fatalf("%s: want a refused call, got %v", bad, err)
		}
	}
	if _, err := call(t, tools["addPet"], `{"body": {"name": "Rex"}}`); !errors.Is(err, agent.ErrInvalidToolCall) {
		t.Fatalf("addPet without photoUrls: %v", err)
	}
	if len(srv.seen) != before {
		t.Fatal("an invalid call reached the server")
	}
	if len(srv.rejected) != 0 {
		t.Fatalf("the server rejected requests the tools made: %v", srv.rejected)
	}
}

func TestPathParametersCannotEscape(t *testing.T) {
	srv := newSpecServer(t, readKin(t, petstorePath), "/v2")
	tools, _ := petTools(t, srv, openapitools.Options{})
	for _, name := range []string{"..", "."} {
		_, err := call(t, tools["getUserByName"], fmt.Sprintf(`{"username": %q}`, name))
		if err == nil || !strings.Contains(err.Error(), "cannot be") {
			t.Fatalf("username %q: %v", name, err)
		}
	}
	out, err := call(t, tools["getUserByName"], `{"username": "../pet/1?x=y#z"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.last(); got.Path["username"] != "../pet/1?x=y#z" && got.Path["username"] != "..%2Fpet%2F1%3Fx=y%23z" {
		t.Fatalf("the value escaped its path segment: %+v, %s", got, out)
	}
	if len(srv.last().Query) != 0 {
		t.Fatalf("a path value became a query: %v", srv.last().Query)
	}
}

func TestErrorsTheModelCanRead(t *testing.T) {
	srv := newSpecServer(t, readKin(t, petstorePath), "/v2")
	tools, _ := petTools(t, srv, openapitools.Options{Timeout: 200 * time.Millisecond, MaxResponseBytes: 1000})
	srv.reply = func(w http.ResponseWriter, r *http.Request, route *routers.Route) bool {
		switch route.Operation.OperationID {
		case "getOrderById":
			http.Error(w, `{"message":"Order 5 not found"}`, http.StatusNotFound)
		case "getInventory":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"big":"%s"}`, strings.Repeat("x", 5000))
		case "logoutUser":
			<-r.Context().Done() // hangs until the client gives up
		default:
			return false
		}
		return true
	}
	_, err := call(t, tools["getOrderById"], `{"orderId": 5}`)
	if err == nil || !strings.Contains(err.Error(), "HTTP 404") || !strings.Contains(err.Error(), "Order 5 not found") {
		t.Fatalf("404: %v", err)
	}
	_, err = call(t, tools["getInventory"], `{}`)
	if err == nil || !strings.Contains(err.Error(), "more than 1000 bytes") {
		t.Fatalf("large response: %v", err)
	}
	_, err = call(t, tools["logoutUser"], `{}`)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hanging server: %v", err)
	}
}

// TestSecretsStayOut runs OpenAPI tools through an agent with the API key
// in a query parameter and a server that fails, and scans every event, the
// model's requests, the results and the stored session for the key.
func TestSecretsStayOut(t *testing.T) {
	srv := newSpecServer(t, readKin(t, petstorePath), "/v2")
	keys := credentials.NewLocal(credentials.LocalOptions{APIKeys: map[string]credentials.Secret{"petstore": credentials.NewSecret(petSecret)}})
	auth := credentials.APIKey{Provider: keys, Name: "petstore", In: credentials.InQuery, Param: "api_key"}
	tools, _ := petTools(t, srv, openapitools.Options{Auth: auth})
	// A second copy points at a closed port: its transport error must not
	// show the URL with the key.
	d, _ := openapitools.Parse(readKin(t, petstorePath))
	dead, _, err := d.Tools(openapitools.Options{BaseURL: "http://127.0.0.1:1/v2", Auth: auth, Operations: []string{"getPetById"}, NamePrefix: "dead_"})
	if err != nil {
		t.Fatal(err)
	}
	srv.reply = func(w http.ResponseWriter, r *http.Request, route *routers.Route) bool {
		if route.Operation.OperationID == "getOrderById" {
			http.Error(w, "backend exploded", 500)
			return true
		}
		return false
	}
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(
			bedrockkit.ToolCall{ID: "1", Name: "getPetById", Input: json.RawMessage(`{"petId": 1}`)},
			bedrockkit.ToolCall{ID: "2", Name: "getOrderById", Input: json.RawMessage(`{"orderId": 2}`)},
			bedrockkit.ToolCall{ID: "3", Name: "dead_getPetById", Input: json.RawMessage(`{"petId": 3}`)},
		),
		bedrockkittest.TextStep("done"),
	)
	var trace strings.Builder
	mem := agent.NewInMemory()
	engine, err := policy.New([]byte(`@id("all") permit(principal, action, resource);`), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := &agent.Agent{Model: m, Memory: mem, Tools: []*agent.Tool{tools["getPetById"], tools["getOrderById"], dead[0]}, Authorizer: engine,
		OnEvent: func(e agent.RunEvent) { fmt.Fprintf(&trace, "%#v\n%+v\n", e, e) }}
	res, err := a.Run(context.Background(), "s", "go")
	if err != nil {
		t.Fatal(err)
	}
	if srv.last().Query.Get("api_key") != petSecret {
		t.Fatal("the key was not sent")
	}
	sess, err := mem.Load(context.Background(), "s")
	if err != nil {
		t.Fatal(err)
	}
	everything := []any{res, sess, m.Requests()}
	for _, v := range everything {
		b, _ := json.Marshal(v)
		trace.Write(b)
		fmt.Fprintf(&trace, "%+v", v)
	}
	if strings.Contains(trace.String(), petSecret) {
		i := strings.Index(trace.String(), petSecret)
		t.Fatalf("the secret reached the trace, results or history: ...%s...", trace.String()[max(0, i-300):i+20])
	}
	if !strings.Contains(trace.String(), "could not be reached") || !strings.Contains(trace.String(), "HTTP 500") || !strings.Contains(trace.String(), "ToolAuthorized") {
		t.Fatal("the failures or the decisions are missing from the trace")
	}
}

// TestAgentCoreIdentityKey: the API key comes from AgentCore Identity
// (FakeIdentity through the real SDK client) for the verified caller, per
// call, and appears nowhere but on the wire.
func TestAgentCoreIdentityKey(t *testing.T) {
	srv := newSpecServer(t, readKin(t, petstorePath), "/v2")
	srv.apiKey = petSecret
	fake := bedrockkittest.NewFakeIdentity(t)
	fake.AddWorkload("pet-agent")
	fake.AddAPIKey("petstore-key", petSecret)
	provider := credentials.NewAgentCore(fake.Client(), credentials.AgentCoreOptions{WorkloadName: "pet-agent"})
	tools, _ := petTools(t, srv, openapitools.Options{Auth: credentials.APIKey{Provider: provider, Name: "petstore-key", Param: "api_key"}})
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "1", Name: "getPetById", Input: json.RawMessage(`{"petId": 1}`)}),
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "2", Name: "getPetById", Input: json.RawMessage(`{"petId": 2}`)}),
		bedrockkittest.TextStep("done"),
	)
	var trace strings.Builder
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{tools["getPetById"]}, OnEvent: func(e agent.RunEvent) { fmt.Fprintf(&trace, "%#v\n", e) }}
	ctx := identity.WithCaller(context.Background(), &identity.Caller{Issuer: "https://idp", Subject: "u1"})
	res, err := a.Run(ctx, "s", "go")
	if err != nil {
		t.Fatal(err)
	}
	if len(srv.rejected) != 0 || srv.last().Header.Get("api_key") != petSecret {
		t.Fatalf("the key did not arrive: %v", srv.rejected)
	}
	if fake.Calls("GetWorkloadAccessTokenForUserId") != 2 || fake.Calls("GetResourceApiKey") != 2 {
		t.Fatalf("the key was not resolved per call for the caller: %d %d", fake.Calls("GetWorkloadAccessTokenForUserId"), fake.Calls("GetResourceApiKey"))
	}
	b, _ := json.Marshal(res)
	fmt.Fprintf(&trace, "%s%+v%+v", b, res, m.Requests())
	if strings.Contains(trace.String(), petSecret) {
		t.Fatal("the key reached the trace or the history")
	}
}

func TestOptions(t *testing.T) {
	d, err := openapitools.Parse(readKin(t, petstorePath))
	if err != nil {
		t.Fatal(err)
	}
	tools, _, err := d.Tools(openapitools.Options{Operations: []string{"getPetById", "placeOrder"}, NamePrefix: "pets___"})
	if err != nil {
		t.Fatal(err)
	}
	if names := openapitools.Names(tools); len(names) != 2 || names[0] != "pets___getPetById" || names[1] != "pets___placeOrder" {
		t.Fatalf("selected: %v", names)
	}
	if _, _, err := d.Tools(openapitools.Options{Operations: []string{"nope"}}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("unknown operation: %v", err)
	}
	if _, _, err := d.Tools(openapitools.Options{BaseURL: "/relative"}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("relative base URL: %v", err)
	}
	for _, bad := range []string{``, `{}`, `openapi: 2.0`, `{"swagger":"2.0","paths":{"/a":{}}}`, `{"openapi":"3.0.0","info":{"title":"x","version":"1"},"paths":{}}`,
		`{"openapi":"3.0.0","info":{"title":"x","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"$ref":"http://evil.example/x.json"}}}}}}`} {
		if _, err := openapitools.Parse([]byte(bad)); !errors.Is(err, openapitools.ErrInvalidDocument) {
			t.Fatalf("%q: want ErrInvalidDocument, got %v", bad, err)
		}
	}
}

// TestRedirectsStayOnTheServer: a server redirecting elsewhere does not
// get the API key header sent to the other host.
func TestRedirectsStayOnTheServer(t *testing.T) {
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("api_key") != "" {
			leaked.Store(true)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{}`)
	}))
	defer other.Close()
	srv := newSpecServer(t, readKin(t, petstorePath), "/v2")
	srv.reply = func(w http.ResponseWriter, r *http.Request, route *routers.Route) bool {
		if route.Operation.OperationID == "getInventory" {
			http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
			return true
		}
		if route.Operation.OperationID == "logoutUser" {
			http.Redirect(w, r, "/v2/store/inventory", http.StatusFound) // same host: followed
			return true
		}
		return false
	}
	tools, _ := petTools(t, srv, openapitools.Options{})
	_, err := call(t, tools["getInventory"], `{}`)
	if err == nil || !strings.Contains(err.Error(), "redirect to") || leaked.Load() {
		t.Fatalf("cross-host redirect: %v, leaked=%v", err, leaked.Load())
	}
	if _, err := call(t, tools["logoutUser"], `{}`); err == nil || !strings.Contains(err.Error(), "redirect to") {
		// the same-host redirect is followed, into the cross-host one
		t.Fatalf("same-host redirect: %v", err)
	}
}
