// Command codeinterp shows Harborview Bank's assistant computing a spending
// summary with a code interpreter instead of doing arithmetic in its head.
// The customer's transactions are put in the sandbox as transactions.csv;
// programs read it, compute, and return structured results (stdout, the last
// expression's value, files written).
//
//	go run ./examples/codeinterp                       # offline: calls the tool directly
//	go run ./examples/codeinterp -bedrock              # a Bedrock model writes the code
//	go run ./examples/codeinterp -bedrock -agentcore   # ... and it runs in AgentCore Code Interpreter (Python)
//
// Offline there is no model: the program calls the run_code tool itself with
// the JavaScript a model would write (as the quickstart calls its tools), so
// the sandbox, the limits and the results are real and nothing is scripted.
// With -bedrock an agent with a Converse model (-model) gets the tool and
// the question, and writes its own programs. With -agentcore as well, the
// sandbox is a remote AgentCore Code Interpreter session and the model writes
// Python.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/codeinterp"
	"github.com/bedrockkit/bedrockkit/agent/codeinterp/agentcore"
)

// transactionsCSV is customer C-1001's account history (invented data);
// amounts are negative for money out.
const transactionsCSV = `date,description,category,amount
2026-09-01,Salary ACME Corp,income,3120.00
2026-09-02,Harbor Apartments rent,housing,-1450.00
2026-09-06,FreshMart groceries,groceries,-92.17
2026-09-09,City Transit pass,transport,-65.00
2026-09-13,FreshMart groceries,groceries,-48.35
2026-09-17,Luna Cafe,dining,-21.40
2026-09-21,PowerGrid electricity,utilities,-81.90
2026-09-25,Streamflix,subscriptions,-15.99
2026-09-28,Bistro Nord,dining,-64.80
2026-10-01,Salary ACME Corp,income,3120.00
2026-10-02,Harbor Apartments rent,housing,-1450.00
2026-10-04,FreshMart groceries,groceries,-77.62
2026-10-09,City Transit pass,transport,-65.00
2026-10-11,Luna Cafe,dining,-18.25
2026-10-15,Corner Pharmacy,health,-34.10
2026-10-18,FreshMart groceries,groceries,-101.44
2026-10-21,PowerGrid electricity,utilities,-76.35
2026-10-25,Streamflix,subscriptions,-15.99
2026-10-30,Gift shop,shopping,-58.00
2026-11-02,Salary ACME Corp,income,3120.00
2026-11-03,Harbor Apartments rent,housing,-1450.00
2026-11-08,FreshMart groceries,groceries,-86.43
2026-11-12,City Transit pass,transport,-65.00
2026-11-15,FreshMart groceries,groceries,-52.18
2026-11-19,Luna Cafe,dining,-18.40
2026-11-22,PowerGrid electricity,utilities,-74.10
2026-11-25,Streamflix,subscriptions,-15.99
2026-11-27,Bistro Nord,dining,-71.30
`

const question = "How much did I spend in November 2026 in each category, what share of my spending was groceries, and how does November compare with September and October?"

// summaryJS is the program a model typically writes for the question.
const summaryJS = `const fs = require('fs');
const rows = fs.readFileSync('transactions.csv', 'utf8').trim().split('\n').slice(1).map(line => {
  const [date, description, category, amount] = line.split(',');
  return { date, description, category, amount: Number(amount) };
});
const spending = rows.filter(r => r.amount < 0);
const byMonth = {};
for (const r of spending) {
  const month = r.date.slice(0, 7);
  byMonth[month] ??= {};
  byMonth[month][r.category] = (byMonth[month][r.category] ?? 0) - r.amount;
}
const total = m => Object.values(byMonth[m]).reduce((a, b) => a + b, 0);
const nov = byMonth['2026-11'];
const novTotal = total('2026-11');
const fmt = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
console.table(Object.entries(nov).sort((a, b) => b[1] - a[1]).map(([category, amount]) => ({ category, amount: fmt.format(amount), share: (amount / novTotal * 100).toFixed(1) + '%' })));
({
  november: Object.fromEntries(Object.entries(nov).map(([c, v]) => [c, Math.round(v * 100) / 100])),
  novemberTotal: Math.round(novTotal * 100) / 100,
  groceriesShare: Math.round(nov.groceries / novTotal * 1000) / 10,
  monthTotals: Object.fromEntries(Object.keys(byMonth).sort().map(m => [m, Math.round(total(m) * 100) / 100])),
})`

// followUpJS uses the variables the first program left in the session.
const followUpJS = `const avg = (total('2026-09') + total('2026-10')) / 2;
const change = (novTotal - avg) / avg * 100;
console.log('November vs the Sep-Oct average: ' + (change >= 0 ? '+' : '') + change.toFixed(1) + '%');
writeFile('summary.md', '# November 2026\n\nTotal spent: ' + fmt.format(novTotal) + '\n');
Math.round(change * 10) / 10`

func main() {
	var o options
	flag.BoolVar(&o.bedrock, "bedrock", false, "let a Bedrock Converse model write the code (AWS credentials and region from the environment)")
	flag.StringVar(&o.modelID, "model", "us.amazon.nova-pro-v1:0", "Bedrock model or inference profile (with -bedrock)")
	flag.StringVar(&o.endpoint, "endpoint", "", "Bedrock runtime endpoint override (with -bedrock)")
	flag.BoolVar(&o.agentcore, "agentcore", false, "run the code in Amazon Bedrock AgentCore Code Interpreter (Python) instead of the local sandbox (with -bedrock)")
	flag.StringVar(&o.agentcoreEndpoint, "agentcore-endpoint", "", "AgentCore data-plane endpoint override (with -agentcore)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "codeinterp:", err)
		os.Exit(1)
	}
}

type options struct {
	bedrock, agentcore                   bool
	modelID, endpoint, agentcoreEndpoint string
}

func run(ctx context.Context, out io.Writer, o options) error {
	if o.agentcore && !o.bedrock {
		return fmt.Errorf("-agentcore runs the model's Python remotely; use it with -bedrock")
	}
	var interp codeinterp.Interpreter = codeinterp.NewLocal(codeinterp.Options{Timeout: 3 * time.Second})
	if o.agentcore {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("load AWS configuration: %w", err)
		}
		client := bedrockagentcore.NewFromConfig(cfg, func(opts *bedrockagentcore.Options) {
			if o.agentcoreEndpoint != "" {
				opts.BaseEndpoint = aws.String(o.agentcoreEndpoint)
			}
		})
		interp = agentcore.New(client, agentcore.Options{SessionName: "harborview-spending"})
	}
	pool := codeinterp.NewPool(interp, codeinterp.PoolOptions{})
	defer pool.Close(context.WithoutCancel(ctx))
	tool, err := codeinterp.NewTool(pool, codeinterp.ToolOptions{})
	if err != nil {
		return err
	}

	// The conversation's sandbox gets the customer's data. A tool call made
	// in an agent run uses the run's session ID; a direct call uses "".
	sessionID := ""
	if o.bedrock {
		sessionID = "customer-C-1001"
	}
	sb, err := pool.Get(ctx, sessionID)
	if err != nil {
		return err
	}
	if err := sb.WriteFiles(ctx, codeinterp.File{Path: "transactions.csv", Content: []byte(transactionsCSV)}); err != nil {
		return err
	}
	if o.bedrock {
		return withModel(ctx, out, o, tool)
	}
	return offline(ctx, out, tool)
}

// offline calls the tool as the agent would, with the programs a model
// writes for the question.
func offline(ctx context.Context, out io.Writer, tool *agent.Tool) error {
	fmt.Fprintln(out, "No model is configured (run with -bedrock for one), so this run calls the run_code tool")
	fmt.Fprintln(out, "directly with the JavaScript a model writes for the question. Everything below is computed")
	fmt.Fprintln(out, "in the sandbox; nothing is scripted.")
	fmt.Fprintln(out)
	fmt.Fprintln(out, "User:", question)
	for i, code := range []string{summaryJS, followUpJS, "for (;;) {} // a runaway program is stopped at the sandbox's limits"} {
		in, _ := json.Marshal(codeinterp.CodeInput{Code: code})
		parts, err := tool.Call(ctx, in)
		if err != nil {
			return err
		}
		var res codeinterp.CodeOutput
		if err := json.Unmarshal(parts[0].(bedrockkit.JSON).Value, &res); err != nil {
			return err
		}
		fmt.Fprintf(out, "\n--- run_code call %d: status %s\n", i+1, res.Status)
		if res.Stdout != "" {
			fmt.Fprint(out, res.Stdout)
		}
		if len(res.Value) > 0 {
			fmt.Fprintf(out, "value: %s\n", res.Value)
		}
		for _, f := range res.Files {
			fmt.Fprintf(out, "file %s (%d bytes): %q\n", f.Path, f.Size, f.Content)
		}
		if res.Error != "" {
			fmt.Fprintf(out, "error: %s\n", res.Error)
		}
	}
	return nil
}

// withModel lets a Bedrock model answer the question with the tool.
func withModel(ctx context.Context, out io.Writer, o options, tool *agent.Tool) error {
	client, err := bedrockkit.NewRuntimeClient(ctx, bedrockkit.RuntimeClientOptions{Endpoint: o.endpoint})
	if err != nil {
		return fmt.Errorf("%w\nSet AWS credentials and AWS_REGION, or run without -bedrock", err)
	}
	model, err := bedrockkit.NewConverseModel(client, o.modelID, bedrockkit.ConverseOptions{})
	if err != nil {
		return err
	}
	where := "the local JavaScript sandbox"
	if o.agentcore {
		where = "AgentCore Code Interpreter (Python)"
	}
	fmt.Fprintf(out, "Model: %s on Amazon Bedrock; code runs in %s.\n\n", o.modelID, where)
	a := &agent.Agent{
		Name:  "harborview-assistant",
		Model: model,
		Instructions: "You are Harborview Bank's assistant for customer C-1001. Their transactions are in the file transactions.csv " +
			"(columns date,description,category,amount; amounts are negative for money out, income is positive). " +
			"Use the run_code tool for every number you report: never do arithmetic yourself. Answer briefly, with a small table.",
		Tools:   []*agent.Tool{tool},
		Limits:  agent.Limits{MaxIterations: 8},
		OnEvent: func(ev agent.RunEvent) { trace(out, ev) },
	}
	fmt.Fprintln(out, "User:", question)
	res, err := a.Run(ctx, "customer-C-1001", question)
	if err != nil {
		return fmt.Errorf("%w\n(check AWS credentials, AWS_REGION and access to %s)", err, o.modelID)
	}
	fmt.Fprintf(out, "\nAnswer: %s\n", res.Output)
	fmt.Fprintf(out, "(%d model calls, %d input and %d output tokens)\n", res.Iterations, res.Usage.InputTokens, res.Usage.OutputTokens)
	return nil
}

func trace(out io.Writer, ev agent.RunEvent) {
	e, ok := ev.(agent.ToolCalled)
	if !ok {
		return
	}
	var in codeinterp.CodeInput
	_ = json.Unmarshal(e.Call.Input, &in)
	fmt.Fprintf(out, "\n--- the model ran (step %d):\n%s\n", e.Iteration, strings.TrimSpace(in.Code))
	for _, p := range e.Result.Parts {
		switch p := p.(type) {
		case bedrockkit.JSON:
			fmt.Fprintf(out, "--- result: %s\n", p.Value)
		case bedrockkit.Text:
			fmt.Fprintf(out, "--- result: %s\n", p.Text)
		}
	}
}
