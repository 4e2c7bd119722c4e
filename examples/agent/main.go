// Command agent runs a tool-calling agent with a typed tool and prints a trace
// of every step: model calls, tool calls (with their validated arguments and
// results) and the final answer.
//
//	go run ./examples/agent                  # offline: a SCRIPTED model, see below
//	go run ./examples/agent -bedrock         # a real model on Amazon Bedrock
//
// Offline there is no language model. The agent then runs on a
// bedrockkittest.ScriptedModel whose replies are written in this file: it
// shows how the agent loop validates tool arguments against the schema
// derived from a Go struct, runs the tool and feeds results back, but the
// "model" decides nothing, and the output says so. With -bedrock the same
// agent runs on a Bedrock Converse model (AWS credentials, or a Bedrock API
// key in AWS_BEARER_TOKEN_BEDROCK, and model access in your region), which
// chooses the tool calls itself.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// orderQuery is the typed input of the order_status tool; the JSON Schema the
// model sees is derived from it (json tags, required fields, descriptions).
type orderQuery struct {
	OrderID string `json:"order_id" description:"Order number, such as A-1001"`
}

// orderStatus is what the tool returns; the model sees it as JSON.
type orderStatus struct {
	OrderID  string `json:"order_id"`
	Status   string `json:"status"`
	Carrier  string `json:"carrier,omitempty"`
	Expected string `json:"expected_delivery,omitempty"`
}

// orders is the fake order database the tool reads.
var orders = map[string]orderStatus{
	"A-1001": {OrderID: "A-1001", Status: "shipped", Carrier: "DHL", Expected: "2026-12-02"},
	"A-1002": {OrderID: "A-1002", Status: "processing"},
}

const question = "Where is my order A-1001, and when will it arrive?"

func main() {
	useBedrock := flag.Bool("bedrock", false, "use a Bedrock Converse model (AWS credentials and region from the environment)")
	modelID := flag.String("model", "us.amazon.nova-lite-v1:0", "Bedrock model or inference profile (with -bedrock)")
	endpoint := flag.String("endpoint", "", "Bedrock runtime endpoint override, such as a VPC endpoint (with -bedrock)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, options{bedrock: *useBedrock, modelID: *modelID, endpoint: *endpoint}); err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		os.Exit(1)
	}
}

type options struct {
	bedrock           bool
	modelID, endpoint string
}

func run(ctx context.Context, out io.Writer, o options) error {
	useBedrock, modelID := o.bedrock, o.modelID
	lookup := agent.MustNewFuncTool("order_status", "Look up the status and expected delivery date of an order.",
		func(ctx context.Context, in orderQuery) (orderStatus, error) {
			o, ok := orders[strings.ToUpper(strings.TrimSpace(in.OrderID))]
			if !ok {
				return orderStatus{}, fmt.Errorf("no order %q; order numbers look like A-1001", in.OrderID)
			}
			return o, nil
		})

	var model bedrockkit.Model
	if useBedrock {
		client, err := bedrockkit.NewRuntimeClient(ctx, bedrockkit.RuntimeClientOptions{Endpoint: o.endpoint})
		if err != nil {
			return fmt.Errorf("%w\nSet AWS credentials (or AWS_BEARER_TOKEN_BEDROCK) and AWS_REGION, or run without -bedrock for the scripted demonstration", err)
		}
		m, err := bedrockkit.NewConverseModel(client, modelID, bedrockkit.ConverseOptions{})
		if err != nil {
			return err
		}
		model = m
		fmt.Fprintf(out, "Model: %s on Amazon Bedrock.\n\n", modelID)
	} else {
		// The scripted replies: a call with a wrong argument name (the agent
		// refuses it against the schema and tells the model), a correct call,
		// then the answer. A real model would write these itself.
		model = bedrockkittest.NewScriptedModel(
			bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "call-1", Name: "order_status", Input: json.RawMessage(`{"order":"A-1001"}`)}),
			bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "call-2", Name: "order_status", Input: json.RawMessage(`{"order_id":"A-1001"}`)}),
			bedrockkittest.TextStep("Your order A-1001 has shipped with DHL and should arrive on 2 December 2026."),
		)
		fmt.Fprintln(out, "NOTE: no model is configured, so this run uses a SCRIPTED model (bedrockkittest.ScriptedModel):")
		fmt.Fprintln(out, "its three replies are fixed in examples/agent/main.go. The tool calls, schema validation and")
		fmt.Fprintln(out, "tool results below are real; the model's choices and final wording are not. Run with -bedrock")
		fmt.Fprintln(out, "(AWS credentials or AWS_BEARER_TOKEN_BEDROCK, and AWS_REGION) to use a real model.")
		fmt.Fprintln(out)
	}

	a := &agent.Agent{
		Name:         "support",
		Model:        model,
		Instructions: "You are a shop's support assistant. Use the order_status tool to answer questions about orders. Be brief.",
		Tools:        []*agent.Tool{lookup},
		Limits:       agent.Limits{MaxIterations: 5},
		OnEvent:      func(ev agent.RunEvent) { trace(out, ev) },
	}
	fmt.Fprintln(out, "User:", question)
	res, err := a.Run(ctx, "session-1", question)
	if err != nil {
		if useBedrock {
			return fmt.Errorf("%w\n(check AWS credentials or AWS_BEARER_TOKEN_BEDROCK, AWS_REGION and access to %s)", err, modelID)
		}
		return err
	}
	label := "Answer"
	if !useBedrock {
		label = "Answer (scripted text)"
	}
	fmt.Fprintf(out, "\n%s: %s\n", label, res.Output)
	fmt.Fprintf(out, "(%d model calls, %d input and %d output tokens reported by the model)\n",
		res.Iterations, res.Usage.InputTokens, res.Usage.OutputTokens)
	return nil
}

// trace prints one agent event.
func trace(out io.Writer, ev agent.RunEvent) {
	switch e := ev.(type) {
	case agent.ModelCalled:
		if e.Err != nil {
			fmt.Fprintf(out, "  [step %d] model call failed: %v\n", e.Iteration, e.Err)
			return
		}
		fmt.Fprintf(out, "  [step %d] model answered (stop reason %s)\n", e.Iteration, e.StopReason)
	case agent.ToolCalled:
		status := "ok"
		switch {
		case e.Invalid:
			status = "REFUSED by the schema check, error sent back to the model"
		case e.Result.IsError:
			status = "tool error sent back to the model"
		}
		fmt.Fprintf(out, "  [step %d] tool %s(%s): %s\n", e.Iteration, e.Call.Name, e.Call.Input, status)
		fmt.Fprintf(out, "           result: %s\n", partsText(e.Result.Parts))
	}
}

func partsText(parts []bedrockkit.Part) string {
	var b strings.Builder
	for _, p := range parts {
		switch p := p.(type) {
		case bedrockkit.Text:
			b.WriteString(p.Text)
		case bedrockkit.JSON:
			b.Write(p.Value)
		default:
			fmt.Fprintf(&b, "%T", p)
		}
	}
	return b.String()
}
