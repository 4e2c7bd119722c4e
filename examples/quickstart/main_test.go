package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestIndexKeptOnDisk: with -dir, the first run embeds every document and
// the second, a new process in real use, reads the index back: its first
// sync finds every document unchanged and embeds nothing.
func TestIndexKeptOnDisk(t *testing.T) {
	dir := t.TempDir()
	for i, want := range []string{
		"Sync: scanned 5, new 5, modified 0, deleted 0, unchanged 0, skipped 0, failed 0",
		"Sync: scanned 5, new 0, modified 0, deleted 0, unchanged 5, skipped 0, failed 0; 0 chunks in 0 embedding calls",
	} {
		var out strings.Builder
		if err := run(context.Background(), &out, options{modelID: "us.amazon.nova-lite-v1:0", dir: dir}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "Index: "+dir) {
			t.Fatalf("run %d: output lacks %q:\n%s", i+1, want, out.String())
		}
	}
}

func TestOffline(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out, options{modelID: "us.amazon.nova-lite-v1:0"}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"Offline mode",
		"Sync: scanned 5, new 5, modified 0, deleted 0, unchanged 0, skipped 0, failed 0",
		"A (extractive, from the documents' own sentences and table rows): product: Everyday Checking; monthly_fee: $6; fee_waived_when: daily balance of $1,500 or $500 of direct deposits or under 25.[1] The Everyday Checking account has a monthly maintenance fee of $6.[2]",
		"[2] harborview:fees.md > Checking accounts",
		"We never sell your personal information.",
		"Second sync (nothing changed): scanned 5, new 0, modified 0, deleted 0, unchanged 5, skipped 0, failed 0; 0 chunks in 0 embedding calls",
		// The assistant part says plainly that no model runs, then shows
		// what does.
		"No model is configured, so the agent conversation is skipped",
		"go run ./examples/quickstart -bedrock",
		"ollama pull llama3.1\n  go run ./examples/quickstart -openai-base-url http://localhost:11434/v1 -openai-model llama3.1",
		`"account_number":"HV-****-****-57","balance":"$2,431.18"`,
		`"totals_by_category":{"dining":"-$18.40","groceries":"-$138.61","transport":"-$65.00","utilities":"-$74.10"}`,
		"transaction_summary({\"customer\":\"C-1001\"}): REFUSED by the tool's schema check",
		"harborview:disputes.html",
		`-> masked (regex "Harborview account number" ANONYMIZED) -> "Your Everyday Checking account {Harborview account number} has a balance of $2,431.18."`,
		`question: Should I invest my savings in tech stocks or bitcoin?
     -> BLOCKED (denied topic "Investment advice") -> "Sorry, I can't give investment advice.`,
		`-> BLOCKED (denied word "hot stocks")`,
		`question: How long do I have to dispute a card transaction?
     -> allowed unchanged`,
		"What one model call of the assistant would cost",
		"   us.amazon.nova-lite-v1:0  ",
		"   us.anthropic.claude-sonnet-4-5-20250929-v1:0  ",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	// The cost table prices the real first request: its token count is in
	// the hundreds (system prompt, three tool schemas, the message).
	if m := regexp.MustCompile(`about (\d+) input tokens`).FindStringSubmatch(s); m == nil {
		t.Errorf("no token count in the cost table:\n%s", s)
	} else if n, _ := strconv.Atoi(m[1]); n < 150 || n > 2000 {
		t.Errorf("first request estimated at %d input tokens", n)
	}
	for _, never := range []string{"Assistant:", "Cost per conversation"} {
		if strings.Contains(s, never) {
			t.Errorf("offline output has %q, which needs a model:\n%s", never, s)
		}
	}
}

func toolStep(id, name, input string) bedrockkittest.Reply {
	return bedrockkittest.Reply{
		Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
			bedrockkit.ToolCall{ID: id, Name: name, Input: json.RawMessage(input)}}},
		Usage: bedrockkit.Usage{InputTokens: 1000, OutputTokens: 40},
	}
}

func textStep(text string) bedrockkittest.Reply {
	return bedrockkittest.Reply{Message: bedrockkit.AssistantText(text), Usage: bedrockkit.Usage{InputTokens: 1500, OutputTokens: 60}}
}

// TestBedrock runs the -bedrock path against a fake Bedrock endpoint: Titan
// embeddings through InvokeModel, the cited answer and the agent's turns
// through Converse, all on the real SDK client.
func TestBedrock(t *testing.T) {
	fake := bedrockkittest.NewFakeBedrock(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_BEARER_TOKEN_BEDROCK", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	fake.Enqueue(bedrockkittest.OpConverse,
		// The knowledge base's cited answer to -q.
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("Lock the card in the app and call us [1]. The replacement is free [2].")},
		// ana, turn 1: a tool call, then an answer that leaks the full
		// account number, which the guardrail must mask.
		toolStep("c1", "account_lookup", `{"customer_id":"C-1001"}`),
		textStep("Your Everyday Checking account HV-4821-0093-57 has $2,431.18."),
		// ana, turn 2.
		toolStep("c2", "transaction_summary", `{"customer_id":"C-1001","last":5}`),
		textStep("Groceries: $138.61 of your last 5 transactions."),
		// ben, turn 1: the knowledge-base search tool.
		toolStep("c3", "bank_policies", `{"query":"dispute a card transaction"}`),
		textStep("You have 60 days (disputes.html)."),
		// ben, turn 2 is blocked by the guardrail before any model call.
	)
	var out strings.Builder
	err := run(context.Background(), &out, options{bedrock: true, modelID: "us.amazon.nova-lite-v1:0", endpoint: fake.URL(), question: "I lost my card"})
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"Using Amazon Bedrock",
		"A: Lock the card in the app and call us.[1] The replacement is free.[2]",
		"-- Conversation ana-C-1001 --",
		"[step 1] model call: 1000 input + 40 output tokens, stop reason tool_use",
		`[step 1] tool call account_lookup({"customer_id":"C-1001"}): ok`,
		`"account_number":"HV-****-****-57"`,
		`[guardrail] output masked (regex "Harborview account number" ANONYMIZED)`,
		"Assistant: Your Everyday Checking account {Harborview account number} has $2,431.18.",
		`tool call transaction_summary({"customer_id":"C-1001","last":5}): ok`,
		`tool call bank_policies({"query":"dispute a card transaction"}): ok`,
		"(source: harborview:disputes.html)",
		`[guardrail] input BLOCKED (denied topic "Investment advice")`,
		"Assistant: Sorry, I can't give investment advice.",
		"Cost per conversation (prices from the pricing catalog dated",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "No model is configured") {
		t.Errorf("the -bedrock run says no model is configured:\n%s", s)
	}
	if !strings.Contains(s, "[step 1] the guardrail answered with its blocked message; the model was not called") {
		t.Errorf("the blocked turn's trace is missing:\n%s", s)
	}
	// Every metered call reported 1000 input + 40 output (tool step) or
	// 1500 + 60 (answer); nova-lite costs $0.06/M input, $0.24/M output.
	// ana: 2 turns of 2 calls; ben: one turn of 2 calls, one turn blocked
	// before the model (not metered).
	if !lineHas(s, "ana-C-1001", "4", "5000", "200", "$0.000348") {
		t.Errorf("cost table lacks ana's row:\n%s", s)
	}
	if !lineHas(s, "ben-C-1002", "2", "2500", "100", "$0.000174") {
		t.Errorf("cost table lacks ben's row:\n%s", s)
	}
	if !lineHas(s, "total", "6", "7500", "300", "$0.000522") {
		t.Errorf("cost table lacks the total:\n%s", s)
	}
	if got := fake.Calls(bedrockkittest.OpConverse); got != 7 {
		t.Errorf("%d Converse calls, want 7 (1 answer, 6 agent steps; the blocked turn never reaches the model)", got)
	}
	if fake.Calls(bedrockkittest.OpInvokeModel) == 0 {
		t.Error("no Titan embedding call reached the fake")
	}
}

// lineHas reports whether some line starting with first (after spaces) has
// exactly the fields want after it.
func lineHas(s, first string, want ...string) bool {
	for _, l := range strings.Split(s, "\n") {
		f := strings.Fields(l)
		if len(f) == len(want)+1 && f[0] == first && strings.Join(f[1:], " ") == strings.Join(want, " ") {
			return true
		}
	}
	return false
}

// TestAnswersAreDeterministic: the same corpus and questions give the same
// answers on every run. (Extractive scores were once summed in map order,
// so tied sentences swapped places between runs.)
func TestAnswersAreDeterministic(t *testing.T) {
	answers := func() string {
		var out bytes.Buffer
		if err := run(context.Background(), &out, options{modelID: "us.amazon.nova-lite-v1:0"}); err != nil {
			t.Fatal(err)
		}
		var keep []string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, "A ") || strings.HasPrefix(l, "   [") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	first := answers()
	for range 8 {
		if got := answers(); got != first {
			t.Fatalf("answers changed between runs:\n%s\n---\n%s", first, got)
		}
	}
}
