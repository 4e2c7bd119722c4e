package policy_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cedar-policy/cedar-go"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/policy"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

const bankPolicies = `
@id("teller-lookup")
permit(principal, action == AgentCore::Action::"get_account", resource)
when { principal.hasTag("role") && principal.getTag("role") == "teller" };

@id("customer-own-lookup")
permit(principal, action == AgentCore::Action::"get_account", resource is Bank::Account)
when { principal.hasTag("customer_id") && resource has owner && resource.owner == principal.getTag("customer_id") };

@id("customer-own-transfer")
permit(principal, action == AgentCore::Action::"transfer", resource is Bank::Account)
when { principal.hasTag("customer_id") && resource has owner && resource.owner == principal.getTag("customer_id") };

@id("teller-transfer")
permit(principal, action == AgentCore::Action::"transfer", resource)
when { principal.hasTag("role") && principal.getTag("role") == "teller" };

@id("transfer-limit")
forbid(principal, action == AgentCore::Action::"transfer", resource)
when { context.input.amount.greaterThan(decimal("1000.0")) };
`

type lookupIn struct {
	AccountID string `json:"account_id"`
}

type transferIn struct {
	AccountID string  `json:"account_id"`
	To        string  `json:"to"`
	Amount    float64 `json:"amount"`
}

// accounts is the bank's entity store: who owns which account.
func accounts() cedar.EntityMap {
	m := cedar.EntityMap{}
	for id, owner := range map[string]string{"A-1": "C-1", "A-2": "C-2", "A-3": "C-3"} {
		uid := cedar.NewEntityUID("Bank::Account", cedar.String(id))
		m[uid] = cedar.Entity{UID: uid, Attributes: cedar.NewRecord(cedar.RecordMap{"owner": cedar.String(owner)})}
	}
	return m
}

func bankOptions() policy.Options {
	return policy.Options{
		Resources: map[string]policy.ResourceArg{
			"get_account": {Type: "Bank::Account", Argument: "account_id"},
			"transfer":    {Type: "Bank::Account", Argument: "account_id"},
		},
		Entities: accounts(),
	}
}

func bankTools(runs *atomic.Int32) []*agent.Tool {
	return []*agent.Tool{
		agent.MustNewFuncTool("get_account", "Look up an account", func(ctx context.Context, in lookupIn) (string, error) {
			runs.Add(1)
			return "balance of " + in.AccountID + ": 100", nil
		}),
		agent.MustNewFuncTool("transfer", "Transfer money", func(ctx context.Context, in transferIn) (string, error) {
			runs.Add(1)
			return "sent", nil
		}),
	}
}

func teller(ctx context.Context) context.Context {
	return identity.WithCaller(ctx, &identity.Caller{Issuer: "https://idp", Subject: "t-1", Claims: map[string]any{"role": "teller"}})
}

func customer(ctx context.Context, id string) context.Context {
	return identity.WithCaller(ctx, &identity.Caller{Issuer: "https://idp", Subject: "u-" + id, Claims: map[string]any{"role": "customer", "customer_id": id}})
}

func mustEngine(t testing.TB, text string, opts policy.Options) *policy.Engine {
	t.Helper()
	e, err := policy.New([]byte(text), opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func decide(t *testing.T, e *policy.Engine, ctx context.Context, tool *agent.Tool, input string) agent.ToolDecision {
	t.Helper()
	d, err := e.AuthorizeToolCall(ctx, agent.ToolCallRequest{Tool: tool, Call: bedrockkit.ToolCall{ID: "c", Name: tool.Name(), Input: json.RawMessage(input)}})
	if err != nil {
		t.Fatalf("%s(%s): %v", tool.Name(), input, err)
	}
	return d
}

func TestBankPolicies(t *testing.T) {
	var runs atomic.Int32
	tools := bankTools(&runs)
	lookup, transfer := tools[0], tools[1]
	e := mustEngine(t, bankPolicies, bankOptions())
	ctx := context.Background()
	cases := []struct {
		name     string
		ctx      context.Context
		tool     *agent.Tool
		input    string
		allowed  bool
		policies []string
	}{
		{"teller looks up any account", teller(ctx), lookup, `{"account_id":"A-2"}`, true, []string{"teller-lookup"}},
		{"customer looks up own account", customer(ctx, "C-1"), lookup, `{"account_id":"A-1"}`, true, []string{"customer-own-lookup"}},
		{"customer looks up another's account", customer(ctx, "C-1"), lookup, `{"account_id":"A-2"}`, false, nil},
		{"customer looks up an unknown account", customer(ctx, "C-1"), lookup, `{"account_id":"A-404"}`, false, nil},
		{"anonymous looks up", ctx, lookup, `{"account_id":"A-1"}`, false, nil},
		{"customer small transfer from own", customer(ctx, "C-1"), transfer, `{"account_id":"A-1","to":"A-2","amount":50}`, true, []string{"customer-own-transfer"}},
		{"customer transfer from another's", customer(ctx, "C-1"), transfer, `{"account_id":"A-2","to":"A-1","amount":50}`, false, nil},
		{"customer large transfer", customer(ctx, "C-1"), transfer, `{"account_id":"A-1","to":"A-2","amount":1000.5}`, false, []string{"transfer-limit"}},
		{"teller large transfer", teller(ctx), transfer, `{"account_id":"A-1","to":"A-2","amount":5000}`, false, []string{"transfer-limit"}},
		{"teller at the limit", teller(ctx), transfer, `{"account_id":"A-1","to":"A-2","amount":1000}`, true, []string{"teller-transfer"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := decide(t, e, c.ctx, c.tool, c.input)
			if d.Allowed != c.allowed || !slices.Equal(d.Policies, c.policies) {
				t.Fatalf("got allowed=%v policies=%v reason=%q errors=%v; want %v %v", d.Allowed, d.Policies, d.Reason, d.Errors, c.allowed, c.policies)
			}
		})
	}
	if runs.Load() != 0 {
		t.Fatal("deciding ran a tool")
	}
}

// TestAgentEnforces runs the policies through an agent: the denied calls do
// not run, the model reads a refusal, the trace holds the decisions.
func TestAgentEnforces(t *testing.T) {
	var runs atomic.Int32
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(
			bedrockkit.ToolCall{ID: "1", Name: "get_account", Input: json.RawMessage(`{"account_id":"A-1"}`)},
			bedrockkit.ToolCall{ID: "2", Name: "get_account", Input: json.RawMessage(`{"account_id":"A-2"}`)},
			bedrockkit.ToolCall{ID: "3", Name: "transfer", Input: json.RawMessage(`{"account_id":"A-1","to":"A-3","amount":2500}`)},
		),
		bedrockkittest.TextStep("done"),
	)
	var decisions []agent.ToolAuthorized
	a := &agent.Agent{Model: m, Tools: bankTools(&runs), Authorizer: mustEngine(t, bankPolicies, bankOptions()),
		OnEvent: func(e agent.RunEvent) {
			if d, ok := e.(agent.ToolAuthorized); ok {
				decisions = append(decisions, d)
			}
		}}
	if _, err := a.Run(customer(context.Background(), "C-1"), "s", "hi"); err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 1 {
		t.Fatalf("%d tools ran, want 1", runs.Load())
	}
	if len(decisions) != 3 || !decisions[0].Decision.Allowed || decisions[1].Decision.Allowed || decisions[2].Decision.Policies[0] != "transfer-limit" {
		t.Fatalf("decisions: %+v", decisions)
	}
	req := m.Requests()[1]
	last := req.Messages[len(req.Messages)-1]
	var texts []string
	for _, p := range last.Parts {
		r := p.(bedrockkit.ToolResult)
		texts = append(texts, bedrockkit.Message{Parts: r.Parts}.Text())
	}
	if !strings.Contains(texts[1], "denied by policy") || !strings.Contains(texts[2], "transfer-limit") {
		t.Fatalf("model saw: %q", texts)
	}
}

func TestDefaultDeny(t *testing.T) {
	var runs atomic.Int32
	lookup := bankTools(&runs)[0]
	for _, text := range []string{"", "// nothing here\n"} {
		e := mustEngine(t, text, bankOptions())
		if d := decide(t, e, teller(context.Background()), lookup, `{"account_id":"A-1"}`); d.Allowed || d.Reason != "no policy permits this call" {
			t.Fatalf("empty policy set allowed a call: %+v", d)
		}
	}
}

func TestReload(t *testing.T) {
	var runs atomic.Int32
	lookup := bankTools(&runs)[0]
	e := mustEngine(t, bankPolicies, bankOptions())
	ctx := customer(context.Background(), "C-1")
	if !decide(t, e, ctx, lookup, `{"account_id":"A-1"}`).Allowed {
		t.Fatal("own lookup denied")
	}
	// A bad reload keeps the old set and says where the text is wrong.
	err := e.Load([]byte(`permit(principal, action, resource) when { context.input.x == };`))
	if !errors.Is(err, bedrockkit.ErrInvalidInput) || !strings.Contains(err.Error(), "previous policies stay in force") {
		t.Fatalf("bad reload: %v", err)
	}
	if !decide(t, e, ctx, lookup, `{"account_id":"A-1"}`).Allowed || string(e.Policies()) != bankPolicies {
		t.Fatal("a bad reload changed the policies in force")
	}
	// Duplicate IDs are refused too.
	err = e.Load([]byte(`@id("a") permit(principal, action, resource); @id("a") forbid(principal, action, resource);`))
	if !errors.Is(err, bedrockkit.ErrInvalidInput) || !strings.Contains(err.Error(), `"a"`) {
		t.Fatalf("duplicate IDs: %v", err)
	}
	// A good reload takes effect: the kill switch.
	if err := e.Load([]byte(`@id("kill") forbid(principal, action, resource);` + bankPolicies)); err != nil {
		t.Fatal(err)
	}
	if d := decide(t, e, ctx, lookup, `{"account_id":"A-1"}`); d.Allowed || d.Policies[0] != "kill" {
		t.Fatalf("after the kill switch: %+v", d)
	}
	// Too long.
	small := mustEngine(t, "", policy.Options{MaxPolicyBytes: 10})
	if err := small.Load([]byte(bankPolicies)); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("oversized policy text: %v", err)
	}
}

// TestReloadWhileDeciding swaps policy sets while calls are decided: every
// decision is the one of either set, never a mix or a failure.
func TestReloadWhileDeciding(t *testing.T) {
	var runs atomic.Int32
	lookup := bankTools(&runs)[0]
	allowAll := `@id("all") permit(principal, action, resource);`
	denyAll := `@id("none") forbid(principal, action, resource);` + allowAll
	e := mustEngine(t, allowAll, policy.Options{})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			text := allowAll
			if i%2 == 1 {
				text = denyAll
			}
			if err := e.Load([]byte(text)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 2000 {
		d, err := e.AuthorizeToolCall(context.Background(), agent.ToolCallRequest{Tool: lookup, Call: bedrockkit.ToolCall{Name: "get_account", Input: json.RawMessage(`{"account_id":"x"}`)}})
		if err != nil {
			t.Fatal(err)
		}
		ok := (d.Allowed && slices.Equal(d.Policies, []string{"all"})) || (!d.Allowed && slices.Equal(d.Policies, []string{"none"}))
		if !ok {
			t.Fatalf("mixed decision: %+v", d)
		}
	}
	close(stop)
	wg.Wait()
}

func TestForbidThatFailsDenies(t *testing.T) {
	var runs atomic.Int32
	transfer := bankTools(&runs)[1]
	// The forbid reads context.input.memo, which the call may leave out:
	// Cedar skips the erroring forbid and would allow; the engine denies.
	text := `@id("all") permit(principal, action, resource);
@id("no-memo-x") forbid(principal, action, resource) when { context.input.memo == "x" };`
	e := mustEngine(t, text, policy.Options{})
	d := decide(t, e, teller(context.Background()), transfer, `{"account_id":"A-1","to":"A-2","amount":1}`)
	if d.Allowed || !slices.Equal(d.Policies, []string{"no-memo-x"}) || len(d.Errors) != 1 {
		t.Fatalf("a forbid that errored let the call through: %+v", d)
	}
	// A permit that errors only fails to permit.
	text = `@id("p") permit(principal, action, resource) when { context.input.memo == "x" };`
	e = mustEngine(t, text, policy.Options{})
	if d := decide(t, e, teller(context.Background()), transfer, `{"account_id":"A-1","to":"A-2","amount":1}`); d.Allowed || len(d.Errors) != 1 {
		t.Fatalf("%+v", d)
	}
}

func TestEngineErrorsFailClosed(t *testing.T) {
	var runs atomic.Int32
	tools := bankTools(&runs)
	e := mustEngine(t, `@id("all") permit(principal, action, resource);`, bankOptions())
	ctx := teller(context.Background())
	for _, c := range []struct {
		name  string
		ctx   context.Context
		tool  *agent.Tool
		input string
		want  string
	}{
		{"resource argument missing", ctx, tools[0], `{}`, "resource is unknown"},
		{"resource argument not a string", ctx, tools[0], `{"account_id":{"a":1}}`, "string or an integer"},
		{"amount with too many decimals", ctx, tools[1], `{"account_id":"A-1","amount":0.00001}`, "4 fractional digits"},
		{"huge exponent", ctx, tools[1], `{"account_id":"A-1","amount":1e999999999}`, "outside the range"},
		{"caller without subject", identity.WithCaller(context.Background(), &identity.Caller{Issuer: "x"}), tools[0], `{"account_id":"A-1"}`, "no subject"},
		{"not JSON", ctx, tools[0], `{"account_id":`, "not valid JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.AuthorizeToolCall(c.ctx, agent.ToolCallRequest{Tool: c.tool, Call: bedrockkit.ToolCall{Name: c.tool.Name(), Input: json.RawMessage(c.input)}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error containing %q, got %v", c.want, err)
			}
		})
	}
	// Through the agent: the allow-all engine errors on the call, so nothing runs.
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "1", Name: "transfer", Input: json.RawMessage(`{"account_id":"A-1","to":"x","amount":0.00001}`)}),
		bedrockkittest.TextStep("ok"))
	a := &agent.Agent{Model: m, Tools: tools, Authorizer: e}
	if _, err := a.Run(ctx, "s", "go"); err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 0 {
		t.Fatal("a tool ran although the engine failed")
	}
	// A custom principal function that fails.
	bad := mustEngine(t, `permit(principal, action, resource);`, policy.Options{Principal: func(context.Context) (cedar.Entity, error) {
		return cedar.Entity{}, errors.New("directory down")
	}})
	if _, err := bad.AuthorizeToolCall(ctx, agent.ToolCallRequest{Tool: tools[0], Call: bedrockkit.ToolCall{Name: "get_account", Input: json.RawMessage(`{"account_id":"A"}`)}}); err == nil {
		t.Fatal("a failing principal function gave a decision")
	}
}

func TestLogOnly(t *testing.T) {
	var runs atomic.Int32
	lookup := bankTools(&runs)[0]
	opts := bankOptions()
	opts.Mode = policy.LogOnly
	e := mustEngine(t, bankPolicies, opts)
	d := decide(t, e, customer(context.Background(), "C-1"), lookup, `{"account_id":"A-2"}`)
	if !d.Allowed || !strings.Contains(d.Reason, "would have denied") {
		t.Fatalf("%+v", d)
	}
	if _, err := policy.New(nil, policy.Options{Mode: 7}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("bad mode: %v", err)
	}
	if _, err := policy.New(nil, policy.Options{Resources: map[string]policy.ResourceArg{"x": {Type: "T"}}}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("resource without argument: %v", err)
	}
}

// TestRequestShape pins the request the policies see.
func TestRequestShape(t *testing.T) {
	type nested struct {
		Count int      `json:"count"`
		Rate  float64  `json:"rate"`
		Tags  []string `json:"tags"`
		Deep  struct {
			Flag bool `json:"flag"`
		} `json:"deep"`
	}
	tool := agent.MustNewFuncTool("gw___op", "x", func(ctx context.Context, in nested) (string, error) { return "", nil })
	e := mustEngine(t, "", policy.Options{ActionGroups: map[string][]string{"gw___op": {"reads"}}})
	ctx := identity.WithCaller(context.Background(), &identity.Caller{Issuer: "iss", Subject: "sub", ClientID: "cli", Scopes: []string{"a", "b"},
		Claims: map[string]any{"role": "x", "n": 3.0, "groups": []any{"g1", "g2"}, "bad": []any{nil}}})
	req, ents, err := e.Request(ctx, agent.ToolCallRequest{Tool: tool, Call: bedrockkit.ToolCall{Name: "gw___op", Input: json.RawMessage(`{"count":3,"rate":2,"tags":["a","a"],"deep":{"flag":true}}`)},
		Info: agent.CallInfo{Attributes: map[string]string{"tenant": "t1"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"deep":{"flag":true},"count":3,"rate":decimal("2.0"),"tags":["a"]}`
	input, _ := req.Context.Get("input")
	if got := string(input.MarshalCedar()); !sameRecord(got, want) {
		t.Fatalf("input %s, want %s", got, want)
	}
	if req.Principal.String() != `AgentCore::OAuthUser::"sub"` || req.Action.String() != `AgentCore::Action::"gw___op"` || req.Resource.String() != `AgentCore::Tool::"gw___op"` {
		t.Fatalf("request %v %v %v", req.Principal, req.Action, req.Resource)
	}
	p, ok := ents.Get(req.Principal)
	if !ok {
		t.Fatal("principal entity missing")
	}
	if v, _ := p.Tags.Get("n"); v != cedar.Long(3) {
		t.Fatalf("numeric claim: %v", v)
	}
	if _, ok := p.Tags.Get("bad"); ok {
		t.Fatal("a claim Cedar cannot hold was kept")
	}
	a, _ := ents.Get(req.Action)
	if !a.Parents.Contains(cedar.NewEntityUID("AgentCore::Action", "reads")) || !a.Parents.Contains(cedar.NewEntityUID("AgentCore::Action", "gw")) {
		t.Fatalf("action parents: %v", a.Parents)
	}
	s, _ := req.Context.Get("session")
	if string(s.MarshalCedar()) != `{"tenant":"t1"}` {
		t.Fatalf("session: %s", s.MarshalCedar())
	}
	// The entity store cannot redefine the principal.
	fake := cedar.EntityMap{req.Principal: cedar.Entity{UID: req.Principal, Tags: cedar.NewRecord(cedar.RecordMap{"role": cedar.String("teller")})}}
	e2 := mustEngine(t, `permit(principal, action, resource) when { principal.getTag("role") == "teller" };`, policy.Options{Entities: fake})
	if d, err := e2.AuthorizeToolCall(ctx, agent.ToolCallRequest{Tool: tool, Call: bedrockkit.ToolCall{Name: "gw___op", Input: json.RawMessage(`{}`)}}); err != nil || d.Allowed {
		t.Fatalf("the entity store overrode the verified principal: %+v %v", d, err)
	}
}

// sameRecord compares two Cedar record texts ignoring member order.
func sameRecord(a, b string) bool {
	var ra, rb cedar.Record
	if err := ra.UnmarshalJSON([]byte(cedarToJSON(a))); err != nil {
		return a == b
	}
	if err := rb.UnmarshalJSON([]byte(cedarToJSON(b))); err != nil {
		return a == b
	}
	return ra.Equal(rb)
}

func cedarToJSON(s string) string {
	// decimal("x") -> {"__extn":{"fn":"decimal","arg":"x"}}
	for {
		i := strings.Index(s, `decimal("`)
		if i < 0 {
			return s
		}
		j := strings.Index(s[i+9:], `")`)
		s = s[:i] + `{"__extn":{"fn":"decimal","arg":"` + s[i+9:i+9+j] + `"}}` + s[i+9+j+2:]
	}
}

// TestSchemaRefsTypeArguments: a number declared through $defs (as
// agent/openapitools emits for large descriptions) is a decimal, so
// decimal comparisons work; an integer stays a Long.
func TestSchemaRefsTypeArguments(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{"body":{"$ref":"#/$defs/Transfer"}},"$defs":{"Transfer":{"type":"object","properties":{"amount":{"type":"number"},"count":{"type":"integer"}}}}}`)
	tool, err := agent.NewTool("pay", "p", schema, func(ctx context.Context, in json.RawMessage) ([]bedrockkit.Part, error) { return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	e := mustEngine(t, `@id("small") permit(principal, action, resource) when { context.input.body.amount.lessThan(decimal("10.0")) && context.input.body.count < 3 };`, policy.Options{})
	if d := decide(t, e, teller(context.Background()), tool, `{"body":{"amount":5,"count":2}}`); !d.Allowed {
		t.Fatalf("an integral number declared as number was not a decimal: %+v", d)
	}
	if d := decide(t, e, teller(context.Background()), tool, `{"body":{"amount":50,"count":2}}`); d.Allowed {
		t.Fatalf("%+v", d)
	}
}
