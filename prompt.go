package bedrockkit

import (
	"context"
	"fmt"
	"iter"
)

// Prompt returns a request holding one user message with text, the
// shortest way to ask a model something:
//
//	resp, err := model.Generate(ctx, bedrockkit.Prompt("What is Amazon Bedrock?"))
//
// Set the other Request fields (System, MaxTokens, Tools, ...) on the
// result as needed.
func Prompt(text string) *Request {
	return &Request{Messages: []Message{UserText(text)}}
}

// TextStream is a text-only view of a model stream: it yields the text of
// each TextDelta in order and passes on the stream's error, skipping every
// other event (reasoning, tool calls, citations, stop reason, usage). Use
// it to print an answer as it arrives:
//
//	for text, err := range bedrockkit.TextStream(model.Stream(ctx, bedrockkit.Prompt("Hi"))) {
//		if err != nil {
//			return err
//		}
//		fmt.Print(text)
//	}
//
// Because the stop reason is dropped, an answer cut short by MaxTokens or a
// guardrail ends like a complete one: use Collect when that matters. A
// structured stream (see StructuredOutput) that repairs its answer cannot
// take back text already yielded, so an OutputRetry ends the view with an
// error wrapping ErrUnsupported; read such streams with Collect. A nil
// event ends it with an error wrapping ErrMalformedStream. Breaking out of
// the loop stops the underlying stream.
func TextStream(stream iter.Seq2[StreamEvent, error]) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for ev, err := range stream {
			if err != nil {
				yield("", err)
				return
			}
			switch e := ev.(type) {
			case TextDelta:
				if e.Text != "" && !yield(e.Text, nil) {
					return
				}
			case OutputRetry:
				yield("", fmt.Errorf("bedrockkit: TextStream cannot take back text it already yielded, and the structured stream is repairing its answer (attempt %d); read structured streams with Collect or GenerateValue: %w", e.Attempt, ErrUnsupported))
				return
			case nil:
				yield("", fmt.Errorf("bedrockkit: nil event: %w", ErrMalformedStream))
				return
			}
		}
	}
}

// ModelIDOf returns the Bedrock model ID that v (a Model or an Embedder)
// calls, or "" when it does not say. ConverseModel, TitanEmbedder and
// CohereEmbedder say, and so do the RetryPolicy and StructuredOutput
// middlewares around a model that says. Middleware factories use it to
// take the ID from the model instead of asking for it again.
//
// A value says through a ModelID method returning a string or a ModelID.
// A middleware that wraps a single model and calls only that model can
// forward the ID with
//
//	func (m *myMiddleware) ModelID() string { return bedrockkit.ModelIDOf(m.next) }
//
// Middleware that may call another model (Fallback, Cascade) must not.
// A model that does not say its ID can be given one with WithModelID.
func ModelIDOf(v any) string {
	switch x := v.(type) {
	case interface{ ModelID() string }:
		return x.ModelID()
	case interface{ ModelID() ModelID }:
		return x.ModelID().Raw
	}
	return ""
}

// WithModelID returns m reporting id to ModelIDOf, for the middleware that
// takes a model's ID from the model (pricing, tracing, response caching).
// Use it for a model that does not say its ID (a custom Model, a
// bedrockkittest.ScriptedModel), or to name a model by another ID than
// its own (an application inference profile ARN priced as the model it
// copies):
//
//	model := bedrockkit.Chain(bedrockkit.WithModelID(custom, "us.amazon.nova-lite-v1:0"), meter.Middleware())
//
// Calls go to m unchanged; the OutputCapable answer is m's.
func WithModelID(m Model, id string) Model { return &namedModel{next: m, id: id} }

type namedModel struct {
	next Model
	id   string
}

// ModelID returns the ID given to WithModelID.
func (n *namedModel) ModelID() string { return n.id }

// SupportsOutput forwards the wrapped model's OutputCapable answer.
func (n *namedModel) SupportsOutput() bool {
	oc, ok := n.next.(OutputCapable)
	return ok && oc.SupportsOutput()
}

func (n *namedModel) Generate(ctx context.Context, req *Request) (*Response, error) {
	return n.next.Generate(ctx, req)
}

func (n *namedModel) Stream(ctx context.Context, req *Request) iter.Seq2[StreamEvent, error] {
	return n.next.Stream(ctx, req)
}
