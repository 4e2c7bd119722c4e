package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// novemberByCategory computes the expected summary in Go, independently of
// the sandbox.
func novemberByCategory(t *testing.T) (map[string]float64, float64) {
	rows, err := csv.NewReader(strings.NewReader(transactionsCSV)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]float64{}
	total := 0.0
	for _, r := range rows[1:] {
		amt, _ := strconv.ParseFloat(r[3], 64)
		if amt < 0 && strings.HasPrefix(r[0], "2026-11") {
			by[r[2]] -= amt
			total -= amt
		}
	}
	return by, total
}

func TestOfflineComputesTheSummaryInTheSandbox(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out, options{}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	by, total := novemberByCategory(t)
	i := strings.Index(s, "value: ")
	if i < 0 {
		t.Fatalf("no value in:\n%s", s)
	}
	var v struct {
		November       map[string]float64 `json:"november"`
		NovemberTotal  float64            `json:"novemberTotal"`
		GroceriesShare float64            `json:"groceriesShare"`
	}
	line, _, _ := strings.Cut(s[i+len("value: "):], "\n")
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		t.Fatalf("value %q: %v", line, err)
	}
	if math.Abs(v.NovemberTotal-total) > 0.005 || len(v.November) != len(by) {
		t.Fatalf("sandbox total %v (%d categories), computed %v (%d)", v.NovemberTotal, len(v.November), total, len(by))
	}
	for c, want := range by {
		if math.Abs(v.November[c]-want) > 0.005 {
			t.Errorf("%s: sandbox %v, computed %v", c, v.November[c], want)
		}
	}
	if share := math.Round(by["groceries"]/total*1000) / 10; v.GroceriesShare != share {
		t.Errorf("groceries share %v, want %v", v.GroceriesShare, share)
	}
	for _, want := range []string{"│   'groceries'   │  '$138.61'", "file summary.md", "status limit", "time limit exceeded"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func fakeAWSEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_BEARER_TOKEN_BEDROCK", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
}

// TestBedrock runs the -bedrock path against a fake Bedrock: the "model"
// asks for the summary program, and the tool result it gets back must hold
// the numbers the sandbox computed from the customer's file.
func TestBedrock(t *testing.T) {
	fake := bedrockkittest.NewFakeBedrock(t)
	fakeAWSEnv(t)
	in, _ := json.Marshal(map[string]string{"code": summaryJS})
	fake.Enqueue(bedrockkittest.OpConverse,
		bedrockkittest.Reply{Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
			bedrockkit.ToolCall{ID: "c1", Name: "run_code", Input: in}}}},
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("You spent $1,833.40 in November.")},
	)
	var out strings.Builder
	if err := run(context.Background(), &out, options{bedrock: true, modelID: "us.amazon.nova-pro-v1:0", endpoint: fake.URL()}); err != nil {
		t.Fatal(err)
	}
	_, total := novemberByCategory(t)
	s := out.String()
	if !strings.Contains(s, fmt.Sprintf(`"novemberTotal":%v`, math.Round(total*100)/100)) || !strings.Contains(s, "Answer: You spent $1,833.40") {
		t.Fatalf("output:\n%s", s)
	}
	// The tool result went back to the model in the second request.
	reqs := fake.Requests()
	if len(reqs) != 2 || !strings.Contains(string(reqs[1].Body), "groceriesShare") {
		t.Fatalf("the model did not get the tool result: %d requests", len(reqs))
	}
}

// TestAgentCore runs -bedrock -agentcore against fake Bedrock and fake
// AgentCore: the model's Python goes to the AgentCore session, which holds
// the customer's file.
func TestAgentCore(t *testing.T) {
	fake := bedrockkittest.NewFakeBedrock(t)
	ci := bedrockkittest.NewFakeCodeInterpreter(t)
	fakeAWSEnv(t)
	ci.SetExecutor(func(c bedrockkittest.CodeCall) bedrockkittest.CodeReply {
		if c.Language != "python" || len(c.Files["transactions.csv"]) != len(transactionsCSV) {
			return bedrockkittest.CodeReply{Stderr: fmt.Sprintf("unexpected call: %s with %d files", c.Language, len(c.Files)), ExitCode: 1}
		}
		return bedrockkittest.CodeReply{Stdout: "total 1833.40\n"}
	})
	fake.Enqueue(bedrockkittest.OpConverse,
		bedrockkittest.Reply{Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
			bedrockkit.ToolCall{ID: "c1", Name: "run_code", Input: json.RawMessage(`{"code":"import pandas as pd\nprint('total', 1833.40)"}`)}}}},
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("You spent $1,833.40.")},
	)
	var out strings.Builder
	err := run(context.Background(), &out, options{bedrock: true, agentcore: true, modelID: "us.amazon.nova-pro-v1:0", endpoint: fake.URL(), agentcoreEndpoint: ci.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, `"stdout":"total 1833.40\n"`) || !strings.Contains(s, "AgentCore Code Interpreter (Python)") {
		t.Fatalf("output:\n%s", s)
	}
	if ci.Calls("executeCode") != 1 || ci.Calls("writeFiles") != 1 || ci.Calls("StopCodeInterpreterSession") != 1 {
		t.Fatalf("AgentCore calls: execute %d write %d stop %d", ci.Calls("executeCode"), ci.Calls("writeFiles"), ci.Calls("StopCodeInterpreterSession"))
	}
}
