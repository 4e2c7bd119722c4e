// Command bank-policy shows Cedar policies deciding every tool call of a
// bank assistant by who is asking: a teller may look up any account, a
// customer only their own; transfers above 1,000.00 EUR are forbidden for
// everyone; anything not permitted is denied. Each decision, with the
// policies that made it, is printed as a trace line.
//
//	go run ./examples/bank-policy              # offline: the tool calls are made directly
//	go run ./examples/bank-policy -bedrock     # a Bedrock model makes the calls
//
// Offline no model is involved: the calls a model would make are made
// directly through agent.CallAuthorized, the same check the agent loop
// runs before every tool. Then the policies are reloaded at run time: a
// reload with a syntax error is refused and the old policies stay in
// force; a valid one (a freeze on transfers) takes effect at once.
//
// With -bedrock, an agent with a Converse model (-model) serves each
// caller, with the policy engine as its Authorizer: denied calls reach the
// model as refusals, and the trace shows the decisions. AWS credentials and
// region come from the environment.
//
// The callers are made up here with identity.WithCaller; in a server they
// come from a verified token through identity.Require (see examples/serve).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/policy"
)

type options struct {
	bedrock  bool
	modelID  string
	endpoint string
}

// caller is one person using the assistant.
type caller struct {
	label string
	*identity.Caller
}

var callers = []caller{
	{"teller Tina", &identity.Caller{Issuer: "https://idp.harborview.example", Subject: "t-17", Claims: map[string]any{"role": "teller"}}},
	{"customer Ana (C-1)", &identity.Caller{Issuer: "https://idp.harborview.example", Subject: "u-ana", Claims: map[string]any{"role": "customer", "customer_id": "C-1"}}},
	{"customer Ben (C-2)", &identity.Caller{Issuer: "https://idp.harborview.example", Subject: "u-ben", Claims: map[string]any{"role": "customer", "customer_id": "C-2"}}},
}

// step is a tool call a model would make for a caller.
type step struct {
	caller int
	tool   string
	input  string
}

var steps = []step{
	{0, "get_account", `{"account_id":"A-2001"}`},
	{1, "get_account", `{"account_id":"A-1001"}`},
	{1, "get_account", `{"account_id":"A-2001"}`},
	{1, "transfer", `{"account_id":"A-1001","to":"A-2001","amount":250}`},
	{1, "transfer", `{"account_id":"A-1002","to":"A-2001","amount":5000}`},
	{2, "transfer", `{"account_id":"A-1001","to":"A-2001","amount":10}`},
	{0, "transfer", `{"account_id":"A-1002","to":"A-1001","amount":1000.01}`},
	{0, "transfer", `{"account_id":"A-1002","to":"A-1001","amount":1000}`},
}

func main() {
	var o options
	flag.BoolVar(&o.bedrock, "bedrock", false, "let a Bedrock model make the calls (AWS credentials and region from the environment)")
	flag.StringVar(&o.modelID, "model", "us.amazon.nova-lite-v1:0", "Bedrock Converse model or inference profile (with -bedrock)")
	flag.StringVar(&o.endpoint, "endpoint", "", "Bedrock runtime endpoint override (with -bedrock)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "bank-policy:", err)
		os.Exit(1)
	}
}

func newEngine(b *bank) (*policy.Engine, error) {
	return policy.New([]byte(policies), policy.Options{
		Resources: map[string]policy.ResourceArg{
			"get_account": {Type: "Bank::Account", Argument: "account_id"},
			"transfer":    {Type: "Bank::Account", Argument: "account_id"},
		},
		Entities: b,
	})
}

func run(ctx context.Context, out io.Writer, o options) error {
	b := newBank()
	engine, err := newEngine(b)
	if err != nil {
		return err
	}
	if o.bedrock {
		return withModel(ctx, out, o, b, engine)
	}
	fmt.Fprintln(out, "Offline: the tool calls a model would make are made directly, through the same policy check the agent runs.")
	fmt.Fprintln(out)
	tools := map[string]*agent.Tool{}
	for _, t := range b.tools() {
		tools[t.Name()] = t
	}
	do := func(s step) {
		c := callers[s.caller]
		cctx := identity.WithCaller(ctx, c.Caller)
		parts, d, err := agent.CallAuthorized(cctx, engine, tools[s.tool], json.RawMessage(s.input))
		fmt.Fprintf(out, "%-19s %s(%s)\n", c.label, s.tool, s.input)
		fmt.Fprintf(out, "    [policy] %s\n", decisionLine(d, err))
		switch {
		case errors.Is(err, agent.ErrToolCallDenied):
			fmt.Fprintln(out, "    not run")
		case err != nil:
			fmt.Fprintf(out, "    tool error: %v\n", err)
		default:
			fmt.Fprintf(out, "    result: %s\n", bedrockkit.Message{Parts: parts}.Text())
		}
	}
	for _, s := range steps {
		do(s)
	}
	fmt.Fprintf(out, "\nBalances: %s\n", b.balances())

	fmt.Fprintln(out, "\nReloading the policies at run time:")
	bad := strings.Replace(policies, "permit(", "permit (principal,", 1)
	if err := engine.Load([]byte(bad)); err != nil {
		fmt.Fprintf(out, "  a reload with a syntax error is refused; the old policies stay in force:\n    %v\n", err)
	}
	do(steps[7])
	if err := engine.Load([]byte(policies + freeze)); err != nil {
		return err
	}
	fmt.Fprintln(out, "  freeze-transfers added:")
	do(steps[7])
	return nil
}

// decisionLine renders a decision for the trace.
func decisionLine(d agent.ToolDecision, err error) string {
	if err != nil && (errors.Is(err, agent.ErrAuthorizerFailed) || !errors.Is(err, agent.ErrToolCallDenied)) {
		return "ERROR, refused (fail closed): " + err.Error()
	}
	var who string
	if len(d.Policies) > 0 {
		who = " by " + strings.Join(d.Policies, ", ")
	}
	if d.Allowed {
		return "ALLOW" + who
	}
	return "DENY" + who + ": " + d.Reason
}

// withModel runs the conversations with a Bedrock model.
func withModel(ctx context.Context, out io.Writer, o options, b *bank, engine *policy.Engine) error {
	client, err := bedrockkit.NewRuntimeClient(ctx, bedrockkit.RuntimeClientOptions{Endpoint: o.endpoint})
	if err != nil {
		return err
	}
	model, err := bedrockkit.NewConverseModel(client, o.modelID, bedrockkit.ConverseOptions{})
	if err != nil {
		return err
	}
	if err := converse(ctx, out, model, b, engine); err != nil {
		return fmt.Errorf("%w (check AWS credentials, AWS_REGION and access to %s)", err, o.modelID)
	}
	return nil
}

// converse runs the conversations with model, the engine deciding every
// tool call.
func converse(ctx context.Context, out io.Writer, model bedrockkit.Model, b *bank, engine *policy.Engine) error {
	a := &agent.Agent{
		Name:  "harborview-teller-desk",
		Model: model,
		Instructions: "You are Harborview Bank's assistant. Use get_account and transfer to serve the user. " +
			"Amounts are in EUR. If a call is denied, tell the user plainly that it is not permitted; do not retry it.",
		Tools:      b.tools(),
		Authorizer: engine,
		OnEvent: func(ev agent.RunEvent) {
			switch e := ev.(type) {
			case agent.ToolAuthorized:
				fmt.Fprintf(out, "    [policy] %s(%s): %s\n", e.Call.Name, e.Call.Input, decisionLine(e.Decision, e.Err))
			case agent.ToolCalled:
				fmt.Fprintf(out, "    [tool] %s -> %s\n", e.Call.Name, bedrockkit.Message{Parts: e.Result.Parts}.Text())
			}
		},
	}
	conversations := []struct {
		caller int
		input  string
	}{
		{1, "What is the balance of account A-2001?"},
		{1, "Please move 5000 EUR from A-1002 to A-2001."},
		{0, "Look up account A-2001 for me."},
	}
	for i, c := range conversations {
		who := callers[c.caller]
		fmt.Fprintf(out, "%s: %s\n", who.label, c.input)
		res, err := a.Run(identity.WithCaller(ctx, who.Caller), fmt.Sprintf("conv-%d", i), c.input)
		if err != nil {
			return fmt.Errorf("conversation %d: %w", i, err)
		}
		fmt.Fprintf(out, "  assistant: %s\n\n", res.Output)
	}
	return nil
}
