// Command evaluate measures Harborview Bank's help-centre assistant on its
// own test set (cases.jsonl: questions, expected answers, relevant
// documents) with the eval package, and fails when a metric falls under its
// threshold — the check a team runs before shipping a change to the
// knowledge base, the prompts or the model.
//
//	go run ./examples/evaluate                        # offline: retrieval and extractive answers
//	go run ./examples/evaluate -bedrock               # a Bedrock model answers; a Bedrock judge grades
//	go run ./examples/evaluate -bedrock -agentcore    # AgentCore Evaluations grades what it can
//
// Offline the knowledge base embeds with bedrockkittest.HashEmbedder and
// answers extractively (no model): the run scores retrieval (nDCG, recall,
// MRR), answers (token F1 against the expected answers) and citations. With
// -bedrock a Converse model (-model) answers and another (-judge) grades
// every answer on Bedrock's Correctness, Completeness, Faithfulness and
// Helpfulness with its reasons, within a budget (-budget) the run is priced
// against before it starts. With -agentcore as well, AgentCore Evaluations'
// built-in evaluators grade correctness, faithfulness and helpfulness; the
// model judge keeps completeness, which AgentCore does not have.
//
// -progress FILE records finished cases: stop the run at any point (even
// kill it) and run it again to finish without repeating them. -json FILE
// writes the full report.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/eval"
	evalagentcore "github.com/bedrockkit/bedrockkit/eval/agentcore"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
	"github.com/bedrockkit/bedrockkit/pricing"
)

//go:embed cases.jsonl
var casesJSONL []byte

// docs are the bank's help-centre articles (invented).
var docs = []kb.MemoryDocument{
	{URI: "mem:fees.md", Data: []byte("# Account fees\n\nThe monthly maintenance fee of a Harborview checking account is 6 dollars. The fee is waived in any month the balance stays at or above 1,500 dollars. Paper statements cost 2 dollars a month.")},
	{URI: "mem:cards.md", Data: []byte("# Cards\n\nReport a lost or stolen card at once by phone or in the app. The card is blocked immediately and a replacement card is free. Card transactions can be disputed within 60 days of the statement date.")},
	{URI: "mem:wires.md", Data: []byte("# Wire transfers\n\nDomestic wires cost 25 dollars. Domestic wires sent before 3 pm Eastern arrive the same business day. An outgoing international wire costs 35 dollars and takes one to three business days.")},
	{URI: "mem:savings.md", Data: []byte("# Savings\n\nThe High Tide savings account pays 3.1 percent APY on every balance. There is no monthly fee and no minimum deposit.")},
	{URI: "mem:overdraft.md", Data: []byte("# Overdraft\n\nAn overdraft costs 29 dollars, charged at most three times a day. No fee is charged when the account is overdrawn by 50 dollars or less.")},
	{URI: "mem:disputes.md", Data: []byte("# Disputes\n\nTo dispute a card transaction, open it in the app and choose Dispute. You have 60 days from the statement date. We answer within 10 business days.")},
}

// thresholds are the bar the assistant must clear.
var thresholds = []eval.Threshold{
	eval.Min("ndcg@10", 0.85), eval.Min("recall@10", 0.95), eval.Min("mrr@10", 0.85),
	eval.Min(eval.TokenF1, 0.45), eval.Min(eval.CitationCoverage, 0.9), eval.Max(eval.ErrorRate, 0),
}

// judgedThresholds apply when a judge grades the answers.
var judgedThresholds = []eval.Threshold{
	eval.Min(eval.Correctness, 0.8), eval.Min(eval.Completeness, 0.7), eval.Min(eval.Faithfulness, 0.8), eval.Min(eval.Helpfulness, 0.6),
}

// setup is what a run needs; main builds it from flags, tests from fakes.
type setup struct {
	answerModel bedrockkit.Model // nil: extractive answers
	answerID    string
	judge       eval.Judge // nil: no judged metrics
	catalog     *pricing.Catalog
	budget      pricing.Money
	concurrency int
	progress    string
	jsonPath    string
	limit       int
}

func main() {
	useBedrock := flag.Bool("bedrock", false, "answer with a Bedrock model and grade with a Bedrock judge (needs AWS credentials)")
	useAgentCore := flag.Bool("agentcore", false, "with -bedrock: grade with AgentCore Evaluations where it has the metric")
	model := flag.String("model", "us.amazon.nova-lite-v1:0", "answering model")
	judgeModel := flag.String("judge", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "judge model")
	budget := flag.String("budget", "0.50", "refuse to run when the estimate exceeds this many dollars")
	progress := flag.String("progress", "", "progress file: rerun to resume an interrupted run")
	jsonPath := flag.String("json", "", "write the full report as JSON to this file")
	concurrency := flag.Int("concurrency", 4, "cases run at once")
	flag.Parse()

	s := setup{concurrency: *concurrency, progress: *progress, jsonPath: *jsonPath, catalog: pricing.Default()}
	ctx := context.Background()
	if *useBedrock {
		b, err := pricing.ParseMoney(*budget)
		if err != nil {
			fail(err)
		}
		s.budget = b
		client, err := bedrockkit.NewRuntimeClient(ctx, bedrockkit.RuntimeClientOptions{})
		if err != nil {
			fail(err)
		}
		answer, err := bedrockkit.NewConverseModel(client, *model, bedrockkit.ConverseOptions{})
		if err != nil {
			fail(err)
		}
		judge, err := bedrockkit.NewConverseModel(client, *judgeModel, bedrockkit.ConverseOptions{})
		if err != nil {
			fail(err)
		}
		s.answerModel, s.answerID = answer, *model
		mj, err := eval.NewModelJudge(judge, eval.JudgeOptions{})
		if err != nil {
			fail(err)
		}
		s.judge = mj
		if *useAgentCore {
			cfg, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				fail(err)
			}
			remote, err := evalagentcore.New(bedrockagentcore.NewFromConfig(cfg), evalagentcore.Options{AgentName: "harborview-help"})
			if err != nil {
				fail(err)
			}
			s.judge = eval.Combine(remote, mj)
			if s.catalog, err = s.catalog.Override(evalagentcore.PriceRow()); err != nil {
				fail(err)
			}
		}
	}
	if err := run(ctx, s, os.Stdout); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "evaluate:", err)
	os.Exit(1)
}

// run builds the knowledge base, evaluates it on the test set, prints the
// summary and returns an error listing the thresholds missed.
func run(ctx context.Context, s setup, w io.Writer) error {
	store, err := localindex.Open(localindex.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	base, err := kb.New(kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(256), Model: s.answerModel})
	if err != nil {
		return err
	}
	if _, err := base.Sync(ctx, kb.NewMemorySource(docs...)); err != nil {
		return err
	}
	cases, err := eval.LoadCases(bytes.NewReader(casesJSONL))
	if err != nil {
		return err
	}
	if s.limit > 0 && s.limit < len(cases) {
		cases = cases[:s.limit]
	}
	opts := eval.Options{Name: "harborview help centre", Concurrency: s.concurrency, Progress: s.progress, Catalog: s.catalog, Budget: s.budget}
	bar := thresholds
	if s.judge != nil {
		opts.Judge = s.judge
		opts.Judged = []string{eval.Correctness, eval.Completeness, eval.Faithfulness, eval.Helpfulness}
		bar = append(append([]eval.Threshold(nil), thresholds...), judgedThresholds...)
	}
	target := eval.NewRAGTarget(base, eval.RAGOptions{ModelID: s.answerID, Generate: kb.GenerateOptions{Retrieve: kb.RetrieveOptions{NumberOfResults: 3}}})
	rep, err := eval.Run(ctx, target, cases, opts)
	if err != nil {
		return err
	}
	if err := rep.WriteSummary(w); err != nil {
		return err
	}
	if s.jsonPath != "" {
		f, err := os.Create(s.jsonPath)
		if err != nil {
			return err
		}
		if err := rep.WriteJSON(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if misses := rep.Check(bar...); len(misses) > 0 {
		return fmt.Errorf("%d thresholds missed: %v", len(misses), misses)
	}
	fmt.Fprintln(w, "all thresholds met")
	return nil
}
