// Package eval measures a knowledge base, a model or an agent on your own
// dataset, and a guardrail on labelled texts.
//
// A dataset is JSONL, one Case per line: a question and what a good answer
// looks like — an expected answer, the relevant documents, the tool calls
// an agent should make (see Case and LoadCasesFile). Run sends every
// question to a Target (NewRetrieverTarget, NewRAGTarget, NewModelTarget,
// NewAgentTarget, or your own TargetFunc) and scores the outputs:
//
//   - retrieval: nDCG@k, recall@k and MRR@k against the relevant documents;
//   - answers: exact and token-F1 match against the expected answer,
//     citation precision (cited documents that are relevant) and citation
//     coverage (answer text inside cited spans);
//   - judged metrics, named as Amazon Bedrock's evaluation jobs name them
//     (Correctness, Completeness, Faithfulness to the retrieved context,
//     Helpfulness): a Judge grades each output. ModelJudge asks any
//     bedrockkit.Model with a rubric and gets a typed verdict with its
//     reasons through structured output; eval/agentcore's Judge asks
//     Amazon Bedrock AgentCore Evaluations' built-in evaluators instead,
//     through the same interface;
//   - agents: whether the tool calls match the expected trajectory (right
//     tools, arguments valid for the tool and equal where the case says,
//     order where the case says it matters), tool precision and recall,
//     steps (model calls) and cost per case.
//
// Cases run concurrently, a bounded number at a time. With
// Options.Progress a run records each finished case in a file and, started
// again after any interruption (even a killed process), runs only the cases
// it has not finished. Before running, the run is priced from the targets'
// and judges' estimates (Options.Budget refuses a run that could cost more
// than you allow); after, the usage the models reported is priced with the
// pricing package.
//
// The Report holds each case's scores, answers, trajectories and verdicts
// and each metric's mean. In a test, Report.Require fails the test when a
// metric misses its threshold:
//
//	rep, err := eval.Run(ctx, eval.NewRAGTarget(base, eval.RAGOptions{}), cases, eval.Options{})
//	...
//	rep.Require(t, eval.Min("ndcg@10", 0.6), eval.Min(eval.TokenF1, 0.5))
//
// Report.WriteJSON keeps it; Report.WriteSummary prints it.
//
// EvaluateGuard scores a guardrail.Guard on labelled texts per policy:
// precision, recall, F2 and false-positive rate.
package eval
