// Command structured asks a model for typed values instead of prose: an
// invoice extracted from an e-mail, streamed and validated, and a support
// ticket classified into a Go struct.
//
//	go run ./examples/structured                 # offline, scripted model
//	go run ./examples/structured -bedrock        # Amazon Bedrock
//	go run ./examples/structured -bedrock -model us.amazon.nova-lite-v1:0
//
// Offline the model is a bedrockkittest.ScriptedModel whose first invoice
// answer breaks the schema on purpose (a quantity of 0, an unknown
// currency), so the output shows the repair: the invalid answer goes back
// to the model with what is wrong, and the second answer validates. The
// ticket is answered through the forced-tool technique, as for a model
// without native structured output.
//
// With -bedrock the calls go to Amazon Bedrock through ConverseModel, with
// credentials from the default AWS chain (or a Bedrock API key in
// AWS_BEARER_TOKEN_BEDROCK) and the Region from AWS_REGION or -region.
// Models whose capabilities list native structured output (Claude 4.1, 4.5
// and 4.6, Nova 2 Lite) get the schema as outputConfig.textFormat; others
// get a forced answer tool. The output says which.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// LineItem is one line of an invoice.
type LineItem struct {
	Description string  `json:"description"`
	Quantity    int     `json:"quantity" jsonschema:"minimum=1"`
	UnitPrice   float64 `json:"unit_price" jsonschema:"minimum=0" description:"Price of one unit, without currency sign"`
}

// Invoice is what the model extracts from an e-mail.
type Invoice struct {
	Number   string     `json:"number" description:"The invoice number as written"`
	Currency string     `json:"currency" jsonschema:"enum=EUR|USD|NOK"`
	Lines    []LineItem `json:"lines" jsonschema:"minItems=1"`
	DueDate  string     `json:"due_date" jsonschema:"format=date" description:"YYYY-MM-DD"`
}

// Ticket is a classified support request.
type Ticket struct {
	Category string `json:"category" jsonschema:"enum=billing|card|fraud|other"`
	Priority int    `json:"priority" jsonschema:"minimum=1,maximum=3" description:"1 is most urgent"`
	Summary  string `json:"summary" jsonschema:"maxLength=80"`
}

const email = `Hi, please find invoice INV-2044 attached: 3 hours of consulting at 120 euros
each and one travel flat fee of 45 euros. Payment is due by 15 March 2026. Regards, Ola`

const complaint = `Someone used my card in another country last night and I did not make those purchases!!`

type options struct {
	bedrock bool
	model   string
	region  string
}

func main() {
	var o options
	flag.BoolVar(&o.bedrock, "bedrock", false, "call Amazon Bedrock instead of the offline scripted model")
	flag.StringVar(&o.model, "model", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "Bedrock model or inference profile ID (with -bedrock)")
	flag.StringVar(&o.region, "region", "", "AWS Region (with -bedrock; default from AWS_REGION)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "structured:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, o options) error {
	invoiceModel, ticketModel, err := models(ctx, out, o)
	if err != nil {
		return err
	}

	// 1. An invoice, streamed: the JSON arrives as text, each invalid answer
	// is announced by an OutputRetry, and the last event is the validated
	// value. StructuredOutput validates and repairs (twice at most, by
	// default) for any Model.
	schema, err := bedrockkit.OutputSchemaFor[Invoice]("An invoice extracted from an e-mail")
	if err != nil {
		return err
	}
	req := &bedrockkit.Request{
		System:    []bedrockkit.Part{bedrockkit.Text{Text: "Extract the invoice from the user's e-mail."}},
		Messages:  []bedrockkit.Message{bedrockkit.UserText(email)},
		MaxTokens: 1024,
		Output:    schema,
	}
	fmt.Fprintln(out, "1. Invoice (streamed):")
	structured := bedrockkit.StructuredOutput(bedrockkit.StructuredOptions{})(invoiceModel)
	var final *bedrockkit.Response
	var answer strings.Builder
	for ev, err := range structured.Stream(ctx, req) {
		if err != nil {
			var oe *bedrockkit.OutputError
			if errors.As(err, &oe) {
				return fmt.Errorf("the invoice stayed invalid after %d answers, first problem at %q: %w", oe.Attempts, oe.Path(), err)
			}
			return err
		}
		switch e := ev.(type) {
		case bedrockkit.TextDelta:
			answer.WriteString(e.Text)
		case bedrockkit.OutputRetry:
			fmt.Fprintf(out, "   answer %d: %s\n", e.Attempt, answer.String())
			var oe *bedrockkit.OutputError
			if errors.As(e.Err, &oe) {
				fmt.Fprintf(out, "   invalid: %s\n   -> sent back to the model for repair\n", oe.Details())
			}
			answer.Reset()
		case bedrockkit.StreamMetadata:
			final = &bedrockkit.Response{Usage: e.Usage}
		case bedrockkit.OutputValue:
			fmt.Fprintf(out, "   validated: %s\n", e.Value)
			final.Message = bedrockkit.AssistantText(string(e.Value))
		}
	}
	if final == nil {
		return errors.New("the stream ended without a value")
	}
	inv, err := bedrockkit.DecodeOutput[Invoice](final)
	if err != nil {
		return err
	}
	total := 0.0
	for _, l := range inv.Lines {
		total += float64(l.Quantity) * l.UnitPrice
	}
	fmt.Fprintf(out, "   Go value: invoice %s, %d lines, total %.2f %s, due %s\n", inv.Number, len(inv.Lines), total, inv.Currency, inv.DueDate)
	fmt.Fprintf(out, "   tokens (all answers): %d in, %d out\n\n", final.Usage.InputTokens, final.Usage.OutputTokens)

	// 2. A ticket, decoded straight into a Go value. The schema is derived
	// from the type.
	ticket, resp, err := bedrockkit.GenerateValue[Ticket](ctx, ticketModel, &bedrockkit.Request{
		System:    []bedrockkit.Part{bedrockkit.Text{Text: "Classify the customer's message for the support queue."}},
		Messages:  []bedrockkit.Message{bedrockkit.UserText(complaint)},
		MaxTokens: 512,
	}, bedrockkit.StructuredOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "2. Ticket (GenerateValue):")
	fmt.Fprintf(out, "   %+v\n", ticket)
	fmt.Fprintf(out, "   tokens: %d in, %d out\n", resp.Usage.InputTokens, resp.Usage.OutputTokens)
	return nil
}

// models returns the models for the two tasks: both the Bedrock model, or
// two scripted models offline.
func models(ctx context.Context, out io.Writer, o options) (bedrockkit.Model, bedrockkit.Model, error) {
	if o.bedrock {
		client, err := bedrockkit.NewRuntimeClient(ctx, bedrockkit.RuntimeClientOptions{Region: o.region})
		if err != nil {
			return nil, nil, err
		}
		m, err := bedrockkit.NewConverseModel(client, o.model, bedrockkit.ConverseOptions{})
		if err != nil {
			return nil, nil, err
		}
		technique := "a forced answer tool (no native structured output in the capability table)"
		if m.Capabilities().StructuredOutput {
			technique = "native structured output (outputConfig.textFormat), with a forced tool if Bedrock refuses the schema"
		}
		fmt.Fprintf(out, "Model %s (%s): %s.\n\n", o.model, m.Capabilities().Family, technique)
		return m, m, nil
	}
	fmt.Fprintln(out, "Offline: a scripted model plays the answers (run with -bedrock for a real model).")
	fmt.Fprintln(out)
	// The first answer breaks the schema: quantity 0 and currency "euros".
	invoice := bedrockkittest.NewScriptedModel(
		usage(bedrockkittest.TextStep(`{"number":"INV-2044","currency":"euros","lines":[{"description":"Consulting","quantity":3,"unit_price":120},{"description":"Travel flat fee","quantity":0,"unit_price":45}],"due_date":"2026-03-15"}`), 310, 74),
		usage(bedrockkittest.TextStep(`{"number":"INV-2044","currency":"EUR","lines":[{"description":"Consulting","quantity":3,"unit_price":120},{"description":"Travel flat fee","quantity":1,"unit_price":45}],"due_date":"2026-03-15"}`), 452, 72),
	)
	// This one plays a model without native structured output: it answers
	// by calling the forced answer tool, named after the type.
	ticket := bedrockkittest.NewScriptedModel(usage(bedrockkittest.ToolStep(bedrockkit.ToolCall{
		ID: "tooluse_1", Name: "Ticket",
		Input: []byte(`{"category":"fraud","priority":1,"summary":"Unrecognised card purchases abroad last night"}`),
	}), 402, 38))
	ticket.SetSupportsOutput(false)
	return invoice, ticket, nil
}

func usage(s bedrockkittest.Step, in, out int) bedrockkittest.Step {
	s.Response.Usage = bedrockkit.Usage{InputTokens: in, OutputTokens: out}
	return s
}
