package policy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/types"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/policy"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// Property: for random policy sets, callers and arguments, the engine's
// decision, and whether the agent runs the tool, is what cedar-go decides
// for the request built here by hand from the documented mapping (with
// the one documented difference: a forbid that fails to evaluate denies).

type payIn struct {
	AccountID string  `json:"account_id"`
	Units     int     `json:"units"`
	Amount    float64 `json:"amount"`
	Memo      string  `json:"memo,omitempty"`
}

var (
	roles    = []string{"teller", "customer", "auditor", ""}
	accts    = []string{"A-1", "A-2", "A-3", "A-9"}
	branches = []string{"north", "south", ""}
	tools    = []string{"pay", "peek"}
)

// randomPolicy returns one random policy over the attributes the calls use.
func randomPolicy(r *rand.Rand, i int) string {
	effect := []string{"permit", "forbid"}[r.IntN(2)]
	action := "action"
	switch r.IntN(3) {
	case 0:
		action = fmt.Sprintf(`action == AgentCore::Action::"%s"`, tools[r.IntN(len(tools))])
	case 1:
		action = `action in [AgentCore::Action::"pay", AgentCore::Action::"peek"]`
	}
	resource := "resource"
	if r.IntN(3) == 0 {
		resource = fmt.Sprintf(`resource == Bank::Account::"%s"`, accts[r.IntN(len(accts))])
	}
	conds := []string{
		fmt.Sprintf(`principal.hasTag("role") && principal.getTag("role") == "%s"`, roles[r.IntN(3)]),
		fmt.Sprintf(`principal.getTag("role") == "%s"`, roles[r.IntN(3)]), // errors without the tag
		`resource has owner && principal.hasTag("customer_id") && resource.owner == principal.getTag("customer_id")`,
		`resource.owner == principal.getTag("customer_id")`, // errors for unknown accounts or tagless callers
		fmt.Sprintf(`context.input.units > %d`, r.IntN(2000)),
		fmt.Sprintf(`context.input.amount.greaterThan(decimal("%d.%d"))`, r.IntN(2000), r.IntN(10)),
		fmt.Sprintf(`context.input.memo == "m%d"`, r.IntN(2)),              // errors when memo is left out
		fmt.Sprintf(`context.session.branch == "%s"`, branches[r.IntN(2)]), // errors without the attribute
		fmt.Sprintf(`context.session has branch && context.session.branch == "%s"`, branches[r.IntN(2)]),
		`principal.scopes.contains("bank:write")`,
		fmt.Sprintf(`principal == AgentCore::OAuthUser::"u%d"`, r.IntN(5)),
		`principal is AgentCore::Anonymous`,
		`true`,
	}
	clause := ""
	for range r.IntN(3) {
		kw := []string{"when", "unless"}[r.IntN(2)]
		clause += fmt.Sprintf(" %s { %s }", kw, conds[r.IntN(len(conds))])
	}
	id := fmt.Sprintf("p%d", i)
	return fmt.Sprintf("@id(%q)\n%s(principal, %s, %s)%s;\n", id, effect, action, resource, clause)
}

type randomCall struct {
	sub, role, customer string
	scopes              []string
	anonymous           bool
	tool                string
	account             string
	units               int
	amount              string // JSON number text with at most 4 decimals
	memo                *string
	branch              string
}

func randomCallOf(r *rand.Rand) randomCall {
	c := randomCall{
		sub:     fmt.Sprintf("u%d", r.IntN(5)),
		role:    roles[r.IntN(len(roles))],
		tool:    tools[r.IntN(len(tools))],
		account: accts[r.IntN(len(accts))],
		units:   r.IntN(3000),
		amount:  fmt.Sprintf("%d.%d", r.IntN(3000), r.IntN(100)),
		branch:  branches[r.IntN(len(branches))],
	}
	c.anonymous = r.IntN(10) == 0
	if r.IntN(2) == 0 {
		c.customer = fmt.Sprintf("C-%d", 1+r.IntN(3))
	}
	if r.IntN(2) == 0 {
		c.scopes = []string{"bank:read"}
		if r.IntN(2) == 0 {
			c.scopes = append(c.scopes, "bank:write")
		}
	}
	if r.IntN(2) == 0 {
		m := fmt.Sprintf("m%d", r.IntN(2))
		c.memo = &m
	}
	return c
}

func (c randomCall) input() string {
	s := fmt.Sprintf(`{"account_id":%q,"units":%d,"amount":%s`, c.account, c.units, c.amount)
	if c.memo != nil {
		s += fmt.Sprintf(`,"memo":%q`, *c.memo)
	}
	return s + "}"
}

func (c randomCall) ctx() context.Context {
	ctx := context.Background()
	if c.anonymous {
		return identity.WithCaller(ctx, &identity.Caller{Anonymous: true})
	}
	claims := map[string]any{}
	if c.role != "" {
		claims["role"] = c.role
	}
	if c.customer != "" {
		claims["customer_id"] = c.customer
	}
	return identity.WithCaller(ctx, &identity.Caller{Issuer: "https://idp", Subject: c.sub, Scopes: c.scopes, Claims: claims})
}

func (c randomCall) attrs() map[string]string {
	if c.branch == "" {
		return nil
	}
	return map[string]string{"branch": c.branch}
}

// expected evaluates the policies with cedar-go directly, on a request
// built here from the documented mapping.
func (c randomCall) expected(t *testing.T, text string) bool {
	t.Helper()
	ps, err := cedar.NewPolicySetFromBytes("p.cedar", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	ents := accounts()
	var principal cedar.EntityUID
	if c.anonymous {
		principal = cedar.NewEntityUID("AgentCore::Anonymous", "anonymous")
	} else {
		principal = cedar.NewEntityUID("AgentCore::OAuthUser", cedar.String(c.sub))
		tags := cedar.RecordMap{}
		if c.role != "" {
			tags["role"] = cedar.String(c.role)
		}
		if c.customer != "" {
			tags["customer_id"] = cedar.String(c.customer)
		}
		var scopes []cedar.Value
		for _, s := range c.scopes {
			scopes = append(scopes, cedar.String(s))
		}
		ents[principal] = cedar.Entity{UID: principal, Tags: cedar.NewRecord(tags), Attributes: cedar.NewRecord(cedar.RecordMap{
			"issuer": cedar.String("https://idp"), "subject": cedar.String(c.sub), "client_id": cedar.String(""), "scopes": cedar.NewSet(scopes...)})}
	}
	amount, err := types.ParseDecimal(c.amount)
	if err != nil {
		t.Fatal(err)
	}
	input := cedar.RecordMap{"account_id": cedar.String(c.account), "units": cedar.Long(c.units), "amount": amount}
	if c.memo != nil {
		input["memo"] = cedar.String(*c.memo)
	}
	session := cedar.RecordMap{}
	if c.branch != "" {
		session["branch"] = cedar.String(c.branch)
	}
	req := cedar.Request{
		Principal: principal,
		Action:    cedar.NewEntityUID("AgentCore::Action", cedar.String(c.tool)),
		Resource:  cedar.NewEntityUID("Bank::Account", cedar.String(c.account)),
		Context:   cedar.NewRecord(cedar.RecordMap{"input": cedar.NewRecord(input), "session": cedar.NewRecord(session), "prompt": cedar.NewRecord(nil)}),
	}
	dec, diag := cedar.Authorize(ps, ents, req)
	// The policy IDs in the set are "policy<N>"; map errors back to effects.
	for _, e := range diag.Errors {
		if p := ps.Get(e.PolicyID); p != nil && p.Effect() == cedar.Forbid {
			return false
		}
	}
	return dec == cedar.Allow
}

func propertyTools(runs *atomic.Int32) []*agent.Tool {
	var out []*agent.Tool
	for _, name := range tools {
		out = append(out, agent.MustNewFuncTool(name, "t", func(ctx context.Context, in payIn) (string, error) {
			runs.Add(1)
			return "ok", nil
		}))
	}
	return out
}

func TestPropertyMatchesCedar(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 2026))
	var runs atomic.Int32
	ts := propertyTools(&runs)
	opts := policy.Options{Entities: accounts(), Resources: map[string]policy.ResourceArg{
		"pay": {Type: "Bank::Account", Argument: "account_id"}, "peek": {Type: "Bank::Account", Argument: "/account_id"}}}
	allowed, denied := 0, 0
	for i := range 300 {
		var b strings.Builder
		for j := range 1 + r.IntN(5) {
			b.WriteString(randomPolicy(r, j))
		}
		text := b.String()
		e := mustEngine(t, text, opts)
		for range 10 {
			c := randomCallOf(r)
			want := c.expected(t, text)
			tool := ts[slices.Index(tools, c.tool)]
			d, err := e.AuthorizeToolCall(c.ctx(), agent.ToolCallRequest{Tool: tool, Call: bedrockkit.ToolCall{Name: c.tool, Input: json.RawMessage(c.input())},
				Info: agent.CallInfo{Attributes: c.attrs()}})
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			if d.Allowed != want {
				t.Fatalf("case %d: engine allowed=%v, cedar-go %v\npolicies:\n%s\ncall %+v input %s\ndecision %+v", i, d.Allowed, want, text, c, c.input(), d)
			}
			if want {
				allowed++
			} else {
				denied++
			}
			// Every tenth case also goes through an agent run: the tool
			// runs exactly when the policies allow.
			if i%10 == 0 {
				before := runs.Load()
				m := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "x", Name: c.tool, Input: json.RawMessage(c.input())}), bedrockkittest.TextStep("ok"))
				a := &agent.Agent{Model: m, Tools: ts, Authorizer: e}
				if _, err := a.Run(c.ctx(), "s", "go", agent.RunOptions{SessionAttributes: c.attrs()}); err != nil {
					t.Fatal(err)
				}
				if ran := runs.Load() - before; (ran == 1) != want {
					t.Fatalf("case %d: tool ran %d times, cedar-go allows=%v\n%s\n%+v", i, ran, want, text, c)
				}
			}
		}
	}
	// The generator must exercise both outcomes substantially.
	if allowed < 300 || denied < 300 {
		t.Fatalf("generator is lopsided: %d allowed, %d denied", allowed, denied)
	}
	t.Logf("%d allowed, %d denied", allowed, denied)
}

// TestPropertyFailClosed: with random policies and an entity store that
// fails (panics) or a principal function that errors, no tool ever runs.
func TestPropertyFailClosed(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	var runs atomic.Int32
	ts := propertyTools(&runs)
	for i := range 50 {
		text := `@id("all") permit(principal, action, resource);` + randomPolicy(r, 1)
		var opts policy.Options
		if i%2 == 0 {
			opts.Principal = func(context.Context) (cedar.Entity, error) {
				return cedar.Entity{}, fmt.Errorf("directory unavailable")
			}
		} else {
			opts.Resources = map[string]policy.ResourceArg{"pay": {Type: "Bank::Account", Argument: "missing"}, "peek": {Type: "Bank::Account", Argument: "/missing"}}
		}
		e := mustEngine(t, text, opts)
		c := randomCallOf(r)
		m := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "x", Name: c.tool, Input: json.RawMessage(c.input())}), bedrockkittest.TextStep("ok"))
		a := &agent.Agent{Model: m, Tools: ts, Authorizer: e}
		if _, err := a.Run(c.ctx(), "s", "go"); err != nil {
			t.Fatal(err)
		}
	}
	if runs.Load() != 0 {
		t.Fatalf("%d tools ran while the engine failed", runs.Load())
	}
}
