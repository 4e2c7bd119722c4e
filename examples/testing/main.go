// Command testing shows how to test a RAG pipeline and an agent built on
// bedrockkit with the bedrockkittest kit, offline and deterministically. It
// runs the checks a test suite would run and prints each one with PASS or
// FAIL (and exits 1 if any fails):
//
//	go run ./examples/testing
//
// In your own code the same checks belong in _test.go files, with
// bedrockkittest.NewFakeBedrock(t) (closed by t.Cleanup) instead of
// StartFakeBedrock. The kit has three tools:
//
//   - HashEmbedder: deterministic embeddings (feature hashing, no model), so
//     retrieval rankings are stable and tests can assert them.
//   - ScriptedModel: a bedrockkit.Model replaying scripted replies and
//     recording every request, to check what your pipeline sends and how it
//     handles each kind of answer. It stands in for a model in tests; it is
//     not one.
//   - FakeBedrock: an HTTP server speaking Bedrock's wire protocol, so the
//     real aws-sdk-go-v2 client and the bedrockkit adapters built on it run
//     end to end, including error responses such as throttling.
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
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// checker prints one line per check and remembers failures.
type checker struct {
	out    io.Writer
	failed int
}

func (c *checker) check(name string, ok bool, detailf string, args ...any) {
	if ok {
		fmt.Fprintf(c.out, "  PASS  %s\n", name)
		return
	}
	c.failed++
	fmt.Fprintf(c.out, "  FAIL  %s: %s\n", name, fmt.Sprintf(detailf, args...))
}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./examples/testing\n\nThe example runs the test-kit checks (scripted model, fake Bedrock) and reports each.\nIt takes no flags.\n")
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	c := &checker{out: os.Stdout}
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "testing:", err)
		os.Exit(1)
	}
	if c.failed > 0 {
		fmt.Printf("\n%d check(s) failed\n", c.failed)
		os.Exit(1)
	}
	fmt.Println("\nall checks passed")
}

func run(ctx context.Context, c *checker) error {
	fmt.Fprintln(c.out, "RAG pipeline (kb + localindex + HashEmbedder):")
	if err := ragChecks(ctx, c); err != nil {
		return err
	}
	fmt.Fprintln(c.out, "\nAgent (ScriptedModel standing in for the model):")
	if err := agentChecks(ctx, c); err != nil {
		return err
	}
	fmt.Fprintln(c.out, "\nBedrock adapters through the real SDK client (FakeBedrock):")
	return fakeBedrockChecks(ctx, c)
}

func newKB(model bedrockkit.Model) (*kb.KnowledgeBase, *localindex.Index, error) {
	store, err := localindex.Open(localindex.Options{})
	if err != nil {
		return nil, nil, err
	}
	k, err := kb.New(kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(256), EmbedderID: "hash-256", Model: model})
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return k, store, nil
}

var corpus = []kb.MemoryDocument{
	{URI: "mem:cards.md", Data: []byte("# Lost cards\n\nIf you lose your card, freeze it in the app and call us within 2 days."), Metadata: map[string]any{"topic": "cards"}},
	{URI: "mem:fees.md", Data: []byte("# Fees\n\nThe monthly account fee is 5 dollars, waived above a 1,500 dollar balance."), Metadata: map[string]any{"topic": "fees"}},
	{URI: "mem:disputes.md", Data: []byte("# Disputes\n\nYou can dispute a card transaction within 60 days of the statement."), Metadata: map[string]any{"topic": "cards"}},
}

func ragChecks(ctx context.Context, c *checker) error {
	// The generator is a ScriptedModel: the test decides what it answers and
	// checks what the pipeline did with it.
	model := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Freeze the card in the app and call within 2 days [1]."))
	k, store, err := newKB(model)
	if err != nil {
		return err
	}
	defer store.Close()
	rep, err := k.Sync(ctx, kb.NewMemorySource(corpus...))
	if err != nil {
		return err
	}
	c.check("sync embeds every document", rep.New == len(corpus) && rep.Failed == 0, "report %+v", rep)

	res, err := k.Retrieve(ctx, "I lost my card, what do I do?", kb.RetrieveOptions{NumberOfResults: 3})
	if err != nil {
		return err
	}
	c.check("the relevant document ranks first", len(res) > 0 && res[0].DocumentID == "mem:cards.md", "got %v", ids(res))

	f := kb.Equals("topic", "fees")
	res, err = k.Retrieve(ctx, "I lost my card, what do I do?", kb.RetrieveOptions{Filter: f})
	if err != nil {
		return err
	}
	c.check("a metadata filter excludes other documents", len(res) == 1 && res[0].DocumentID == "mem:fees.md", "got %v", ids(res))

	ans, err := k.RetrieveAndGenerate(ctx, "I lost my card, what do I do?", kb.GenerateOptions{Retrieve: kb.RetrieveOptions{NumberOfResults: 2}})
	if err != nil {
		return err
	}
	c.check("the answer's [1] marker becomes a citation of the first passage",
		len(ans.Citations) == 1 && len(ans.Citations[0].Sources) == 1 &&
			ans.Citations[0].Sources[0].URI == "mem:cards.md" && !strings.Contains(ans.Text, "[1]"),
		"answer %q, citations %+v", ans.Text, ans.Citations)
	reqs := model.Requests()
	prompt := ""
	if len(reqs) == 1 {
		prompt = reqs[0].Messages[len(reqs[0].Messages)-1].Text()
	}
	c.check("the model was given the retrieved passage and the question",
		strings.Contains(prompt, "freeze it in the app") && strings.Contains(prompt, "I lost my card"), "prompt %q", prompt)

	none := kb.Equals("topic", "mortgages")
	ans, err = k.RetrieveAndGenerate(ctx, "What is my mortgage rate?", kb.GenerateOptions{Retrieve: kb.RetrieveOptions{Filter: none}})
	if err != nil {
		return err
	}
	c.check("with no passages it says it does not know, without calling the model",
		ans.Text == kb.NoAnswerText && model.Calls() == 1, "answer %q after %d model calls", ans.Text, model.Calls())
	return nil
}

func ids(res []kb.RetrievalResult) []string {
	var out []string
	for _, r := range res {
		out = append(out, r.DocumentID)
	}
	return out
}

type balanceIn struct {
	Account string `json:"account" description:"Account number"`
}

func agentChecks(ctx context.Context, c *checker) error {
	var gotAccount string
	balance := agent.MustNewFuncTool("balance", "Current balance of an account.",
		func(ctx context.Context, in balanceIn) (string, error) {
			gotAccount = in.Account
			return "1,234.56 USD", nil
		})
	model := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "t1", Name: "balance", Input: json.RawMessage(`{"account":"CHK-42"}`)}),
		bedrockkittest.TextStep("Your balance is 1,234.56 USD."),
	)
	a := &agent.Agent{Model: model, Tools: []*agent.Tool{balance}}
	res, err := a.Run(ctx, "s1", "What is the balance of CHK-42?")
	if err != nil {
		return err
	}
	c.check("the tool ran with the decoded, typed arguments", gotAccount == "CHK-42", "tool got %q", gotAccount)

	var sent *bedrockkit.ToolResult
	if reqs := model.Requests(); len(reqs) == 2 {
		for _, m := range reqs[1].Messages {
			for _, p := range m.Parts {
				if tr, ok := p.(bedrockkit.ToolResult); ok {
					sent = &tr
				}
			}
		}
	}
	c.check("the tool's result went back to the model in the next request",
		sent != nil && sent.CallID == "t1" && !sent.IsError, "tool result sent: %+v", sent)
	c.check("the run ends with the model's final text after two model calls",
		res.Output == "Your balance is 1,234.56 USD." && res.Iterations == 2, "output %q, %d iterations", res.Output, res.Iterations)

	// An error path: the model asks for a tool that does not exist.
	model = bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "t2", Name: "transfer", Input: json.RawMessage(`{}`)}),
		bedrockkittest.TextStep("I cannot make transfers."),
	)
	a = &agent.Agent{Model: model, Tools: []*agent.Tool{balance}}
	var invalid bool
	a.OnEvent = func(ev agent.RunEvent) {
		if tc, ok := ev.(agent.ToolCalled); ok && tc.Invalid {
			invalid = true
		}
	}
	if _, err := a.Run(ctx, "s2", "Send 100 USD to Bob."); err != nil {
		return err
	}
	c.check("an unknown tool is refused and reported to the model, and the run continues", invalid && model.Calls() == 2,
		"invalid=%v, %d model calls", invalid, model.Calls())
	return nil
}

func fakeBedrockChecks(ctx context.Context, c *checker) error {
	fake := bedrockkittest.StartFakeBedrock()
	defer fake.Close()
	const modelID = "us.anthropic.claude-3-5-haiku-20241022-v1:0"

	model, err := bedrockkit.NewConverseModel(fake.Client(), modelID, bedrockkit.ConverseOptions{
		Retry: bedrockkit.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
	})
	if err != nil {
		return err
	}
	fake.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{
		Message: bedrockkit.AssistantText("Bonjour !"),
		Usage:   bedrockkit.Usage{InputTokens: 12, OutputTokens: 3},
	})
	resp, err := model.Generate(ctx, &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("Say hello in French.")}, MaxTokens: 50})
	if err != nil {
		return err
	}
	c.check("Converse through the SDK client returns text and usage",
		resp.Message.Text() == "Bonjour !" && resp.Usage.InputTokens == 12 && resp.Usage.OutputTokens == 3, "response %+v", resp)
	reqs := fake.Requests()
	c.check("the request on the wire names the model and carries the prompt and maxTokens",
		len(reqs) == 1 && reqs[0].ModelID == modelID && strings.Contains(string(reqs[0].Body), "Say hello in French.") &&
			strings.Contains(string(reqs[0].Body), `"maxTokens":50`),
		"recorded %d requests: %+v", len(reqs), reqs)

	// Throttling twice, then an answer: the retry policy absorbs it.
	throttle := bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ThrottlingException"}}
	fake.Enqueue(bedrockkittest.OpConverse, throttle, throttle, bedrockkittest.Reply{Message: bedrockkit.AssistantText("ok")})
	before := fake.Calls(bedrockkittest.OpConverse)
	resp, err = model.Generate(ctx, &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("ping")}})
	attempts := fake.Calls(bedrockkittest.OpConverse) - before
	c.check("two throttled attempts are retried and the third succeeds",
		err == nil && resp.Message.Text() == "ok" && attempts == 3, "err %v, %d attempts", err, attempts)

	// Throttling that persists surfaces as bedrockkit.ErrThrottled.
	fake.Enqueue(bedrockkittest.OpConverse, throttle, throttle, throttle)
	_, err = model.Generate(ctx, &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("ping")}})
	c.check("persistent throttling is an error matching errors.Is(err, bedrockkit.ErrThrottled)",
		errors.Is(err, bedrockkit.ErrThrottled), "err %v", err)

	// Titan embeddings: FakeBedrock answers InvokeModel with HashEmbedder
	// vectors and Titan's request validation.
	emb, err := bedrockkit.NewTitanEmbedder(fake.Client(), bedrockkit.TitanOptions{Dimensions: 256})
	if err != nil {
		return err
	}
	vecs, err := emb.Embed(ctx, []string{"lost card", "monthly fee"}, bedrockkit.PurposeDocument)
	c.check("Titan embeddings through InvokeModel have the requested dimensions",
		err == nil && len(vecs) == 2 && len(vecs[0]) == 256, "err %v, %d vectors", err, len(vecs))
	return nil
}
