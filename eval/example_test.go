package eval_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/eval"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// bankKB is a small knowledge base (offline embedder, no model: answers
// are extractive and cited).
func bankKB() (*kb.KnowledgeBase, func(), error) {
	store, err := localindex.Open(localindex.Options{})
	if err != nil {
		return nil, nil, err
	}
	base, err := kb.New(kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(256)})
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	_, err = base.Sync(context.Background(), kb.NewMemorySource(
		kb.MemoryDocument{URI: "mem:fees.md", Data: []byte("# Fees\n\nThe monthly fee is 6 dollars. It is waived with a balance of 1,500 dollars.")},
		kb.MemoryDocument{URI: "mem:cards.txt", Data: []byte("Report a lost card at once by phone. A replacement card is free.")},
		kb.MemoryDocument{URI: "mem:wires.txt", Data: []byte("Wire transfers cost 25 dollars and arrive the same day.")},
	))
	return base, func() { store.Close() }, err
}

// The dataset a user keeps next to their tests, as JSONL.
const bankCases = `{"id": "fee", "question": "When is the monthly fee waived?", "expected_answer": "It is waived with a balance of 1,500 dollars.", "relevant_documents": ["mem:fees.md"]}
{"id": "card", "question": "Is a replacement card free?", "expected_answer": "A replacement card is free.", "relevant_documents": ["mem:cards.txt"]}
{"id": "wire", "question": "How much does a wire transfer cost?", "expected_answer": "25 dollars", "relevant_documents": {"mem:wires.txt": 2}}
`

// A RAG pipeline (retrieve, answer, cite) evaluated on a JSONL dataset.
func ExampleRun_rag() {
	base, closeKB, err := bankKB()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closeKB()
	cases, err := eval.LoadCases(strings.NewReader(bankCases))
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := eval.Run(context.Background(), eval.NewRAGTarget(base, eval.RAGOptions{}), cases, eval.Options{Name: "bank RAG"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range []string{"ndcg@10", "recall@10", "mrr@10", eval.CitationPrecision, eval.CitationCoverage} {
		v, _ := rep.Metric(m)
		fmt.Printf("%s %.2f\n", m, v)
	}
	// Check returns the thresholds missed (Require fails a test on them).
	fmt.Println("missed:", rep.Check(eval.Min("ndcg@10", 0.9), eval.Min(eval.TokenF1, 0.5), eval.Max(eval.ErrorRate, 0)))
	fmt.Println("missed:", len(rep.Check(eval.Min(eval.ExactMatch, 1))))
	// Output:
	// ndcg@10 1.00
	// recall@10 1.00
	// mrr@10 1.00
	// citation_precision 1.00
	// citation_coverage 1.00
	// missed: []
	// missed: 1
}

// TestRAGPipeline is the same pipeline as a test with thresholds: it fails
// when retrieval or answers get worse, and prints the summary with -v.
func TestRAGPipeline(t *testing.T) {
	base, closeKB, err := bankKB()
	if err != nil {
		t.Fatal(err)
	}
	defer closeKB()
	cases, err := eval.LoadCases(strings.NewReader(bankCases))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eval.Run(context.Background(), eval.NewRAGTarget(base, eval.RAGOptions{}), cases, eval.Options{Name: "bank RAG"})
	if err != nil {
		t.Fatal(err)
	}
	rep.Require(t, eval.Min("ndcg@10", 0.9), eval.Min("recall@10", 1), eval.Min(eval.TokenF1, 0.7),
		eval.Min(eval.CitationCoverage, 0.9), eval.Max(eval.ErrorRate, 0))
	if testing.Verbose() {
		rep.WriteSummary(os.Stdout)
	}
}

// An agent's trajectory: did it call the right tools, with the right
// arguments, in the right order?
func ExampleNewAgentTarget() {
	type transferIn struct {
		From   string  `json:"from"`
		To     string  `json:"to"`
		Amount float64 `json:"amount"`
	}
	balance := agent.MustNewFuncTool("get_balance", "Balance of an account", func(ctx context.Context, in struct {
		Account string `json:"account"`
	}) (string, error) {
		return "1,200 dollars", nil
	})
	transfer := agent.MustNewFuncTool("transfer", "Move money between accounts", func(ctx context.Context, in transferIn) (string, error) {
		return "done", nil
	})
	// A scripted model stands in for Bedrock: it checks the balance, then
	// transfers 100.00 (the case says 100: equal as JSON numbers), then answers.
	model := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "1", Name: "get_balance", Input: json.RawMessage(`{"account":"checking"}`)}),
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "2", Name: "transfer", Input: json.RawMessage(`{"from":"checking","to":"savings","amount":100.00}`)}),
		bedrockkittest.TextStep("Moved 100 dollars to savings."),
	)
	a := &agent.Agent{Model: model, Instructions: "You are a bank assistant.", Tools: []*agent.Tool{balance, transfer}}
	cases := []eval.Case{{ID: "t1", Question: "Move 100 dollars from checking to savings if I can afford it.", ToolOrder: eval.InOrder,
		ExpectedToolCalls: []eval.ExpectedCall{
			{Name: "get_balance", Arguments: map[string]json.RawMessage{"account": json.RawMessage(`"checking"`)}},
			{Name: "transfer", Arguments: map[string]json.RawMessage{"from": json.RawMessage(`"checking"`), "to": json.RawMessage(`"savings"`), "amount": json.RawMessage(`100`)}},
		}}}
	rep, err := eval.Run(context.Background(), eval.NewAgentTarget(a, eval.AgentOptions{}), cases, eval.Options{Concurrency: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := rep.Cases[0]
	fmt.Println("answer:", c.Answer)
	for _, m := range []string{eval.TrajectoryMatch, eval.ToolRecall, eval.ToolPrecision, eval.ArgumentsValid, eval.Steps} {
		fmt.Printf("%s %.2f\n", m, c.Scores[m])
	}
	// Output:
	// answer: Moved 100 dollars to savings.
	// trajectory_match 1.00
	// tool_recall 1.00
	// tool_precision 1.00
	// arguments_valid 1.00
	// steps 3.00
}

// An LLM-as-judge metric: a model grades each answer with a rubric and
// gives its reasons. A scripted model stands in for the judge here; use a
// bedrockkit.ConverseModel for Bedrock.
func ExampleNewModelJudge() {
	judgeModel := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep(
		`{"reasons": "The response gives the reference date, 1793.", "grade": "correct"}`))
	judge, err := eval.NewModelJudge(judgeModel, eval.JudgeOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	target := eval.TargetFunc(func(ctx context.Context, c eval.Case) (*eval.Output, error) {
		return &eval.Output{Answer: "It opened in 1793."}, nil
	})
	cases := []eval.Case{{ID: "louvre", Question: "When did the Louvre open?", ExpectedAnswer: "1793"}}
	rep, err := eval.Run(context.Background(), target, cases, eval.Options{Judge: judge, Judged: []string{eval.Correctness}})
	if err != nil {
		fmt.Println(err)
		return
	}
	v := rep.Cases[0].Verdicts[0]
	fmt.Println(v.Metric, v.Score, v.Label)
	fmt.Println(v.Reasons)
	// Output:
	// Builtin.Correctness 1 correct
	// The response gives the reference date, 1793.
}
