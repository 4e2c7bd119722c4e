package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOffline(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out, options{}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"teller Tina         get_account({\"account_id\":\"A-2001\"})\n    [policy] ALLOW by teller-lookup\n    result: account A-2001",
		"customer Ana (C-1)  get_account({\"account_id\":\"A-1001\"})\n    [policy] ALLOW by customer-own-lookup",
		"customer Ana (C-1)  get_account({\"account_id\":\"A-2001\"})\n    [policy] DENY: no policy permits this call\n    not run",
		"\"amount\":5000})\n    [policy] DENY by transfer-limit",
		"customer Ben (C-2)  transfer({\"account_id\":\"A-1001\",\"to\":\"A-2001\",\"amount\":10})\n    [policy] DENY",
		"\"amount\":1000.01})\n    [policy] DENY by transfer-limit",
		"Balances: A-1001=3293.00 EUR A-1002=11000.00 EUR A-2001=1130.50 EUR",
		"a reload with a syntax error is refused",
		"[policy] DENY by freeze-transfers",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(s)
	}
}

// TestWithModel drives the -bedrock path with a scripted model: the
// customer's call for another's account and the large transfer are refused
// and the model reads the refusals; the trace shows the decisions.
func TestWithModel(t *testing.T) {
	call := func(id, name, in string) bedrockkit.ToolCall {
		return bedrockkit.ToolCall{ID: id, Name: name, Input: json.RawMessage(in)}
	}
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("1", "get_account", `{"account_id":"A-2001"}`)),
		bedrockkittest.TextStep("Sorry, you may not see that account."),
		bedrockkittest.ToolStep(call("2", "transfer", `{"account_id":"A-1002","to":"A-2001","amount":5000}`)),
		bedrockkittest.TextStep("That transfer is above the limit."),
		bedrockkittest.ToolStep(call("3", "get_account", `{"account_id":"A-2001"}`)),
		bedrockkittest.TextStep("A-2001 holds 880.50 EUR."),
	)
	b := newBank()
	engine, err := newEngine(b)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := converse(context.Background(), &out, m, b, engine); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		`[policy] get_account({"account_id":"A-2001"}): DENY: no policy permits this call`,
		`[policy] transfer({"account_id":"A-1002","to":"A-2001","amount":5000}): DENY by transfer-limit`,
		`[policy] get_account({"account_id":"A-2001"}): ALLOW by teller-lookup`,
		"[tool] get_account -> account A-2001 of customer C-2",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q\n%s", want, s)
		}
	}
	// The model read the refusal of the first call.
	req := m.Requests()[1]
	last := req.Messages[len(req.Messages)-1].Parts[0].(bedrockkit.ToolResult)
	if !last.IsError || !strings.Contains(bedrockkit.Message{Parts: last.Parts}.Text(), "denied by policy") {
		t.Fatalf("the model saw %+v", last)
	}
	if !strings.Contains(b.balances(), "A-1002=12000.00 EUR") {
		t.Fatalf("a refused transfer moved money: %s", b.balances())
	}
}
