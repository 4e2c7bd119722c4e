package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func init() { suites["answers"] = runAnswers }

// runAnswers scores the knowledge base's offline (extractive) answers on a
// question set written over the quickstart's bundled corpus: each question
// names the span of the documents that answers it, or none when the
// documents hold no answer and the knowledge base should say so.
//
// Metrics: exact is the share of answerable questions whose answer
// contains the expected span; lead is the share whose leading sentence
// contains it (what a reader sees first); partial is the mean share of the
// span's words found in the answer; refusal is the share of unanswerable
// questions answered with kb.NoAnswerText; false_refusal the share of
// answerable questions answered so.
func runAnswers(args []string) error {
	fs := flag.NewFlagSet("answers", flag.ContinueOnError)
	corpus := fs.String("corpus", "examples/quickstart/corpus", "folder of documents (the quickstart's corpus)")
	qpath := fs.String("questions", "internal/cmd/evaluate/testdata/quickstart-questions.jsonl", "JSONL of {id, question, answer}; an empty answer means unanswerable, \"a || b\" accepts either")
	embedder := fs.String("embedder", "hash", "hash (bedrockkittest.HashEmbedder, as the quickstart) or none (keyword only)")
	n := fs.Int("n", 5, "passages retrieved per question")
	verbose := fs.Bool("v", false, "print every question and answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	data, err := os.ReadFile(*qpath)
	if err != nil {
		return err
	}
	type question struct{ ID, Question, Answer string }
	var qs []question
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var q question
		if err := json.Unmarshal([]byte(line), &q); err != nil {
			return fmt.Errorf("%s:%d: %w", *qpath, i+1, err)
		}
		qs = append(qs, q)
	}
	ctx := context.Background()
	store, err := localindex.Open(localindex.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	cfg := kb.Options{Store: store}
	switch *embedder {
	case "hash":
		cfg.Embedder, cfg.EmbedderID = bedrockkittest.NewHashEmbedder(512), "bedrockkittest.HashEmbedder"
	case "none":
	default:
		return fmt.Errorf("-embedder %q: use hash or none", *embedder)
	}
	base, err := kb.New(cfg)
	if err != nil {
		return err
	}
	if _, err := base.Sync(ctx, &kb.FSSource{FS: os.DirFS(*corpus), URIPrefix: "harborview:"}); err != nil {
		return err
	}
	var answerable, unanswerable, exact, lead, refused, falseRefusal int
	var partial float64
	for _, q := range qs {
		ans, err := base.RetrieveAndGenerate(ctx, q.Question, kb.GenerateOptions{Retrieve: kb.RetrieveOptions{NumberOfResults: *n}})
		if err != nil {
			return fmt.Errorf("%s: %w", q.ID, err)
		}
		text := ans.Text
		isRefusal := text == kb.NoAnswerText
		mark := ""
		if q.Answer == "" {
			unanswerable++
			if isRefusal {
				refused++
				mark = "ok"
			} else {
				mark = "ANSWERED"
			}
		} else {
			answerable++
			leading := text
			if len(ans.Citations) > 0 {
				leading = text[ans.Citations[0].Span.Start:ans.Citations[0].Span.End]
			}
			// An answer may be written several ways in the corpus (a
			// sentence and a table row): "a || b" accepts either.
			var in, inLead bool
			best := 0.0
			for _, alt := range strings.Split(q.Answer, "||") {
				alt = strings.TrimSpace(alt)
				in = in || containsNorm(text, alt)
				inLead = inLead || containsNorm(leading, alt)
				best = max(best, wordRecall(alt, text))
			}
			if in {
				exact++
			}
			if inLead {
				lead++
			}
			if isRefusal {
				falseRefusal++
			}
			partial += best
			switch {
			case inLead:
				mark = "ok"
			case in:
				mark = "not first"
			default:
				mark = "MISSED"
			}
		}
		if *verbose || (mark != "ok" && mark != "") {
			fmt.Printf("%-4s %-9s Q: %s\n               A: %.300s\n", q.ID, mark, q.Question, strings.ReplaceAll(text, "\n", " "))
		}
	}
	fmt.Printf("%d answerable and %d unanswerable questions over %s (embedder %s, %d passages)\n", answerable, unanswerable, *corpus, *embedder, *n)
	fmt.Printf("exact=%.3f lead=%.3f partial=%.3f refusal=%.3f false_refusal=%.3f\n",
		ratio(exact, answerable), ratio(lead, answerable), partial/float64(max(answerable, 1)), ratio(refused, unanswerable), ratio(falseRefusal, answerable))
	return nil
}

// containsNorm reports whether want occurs in text, ignoring case and runs
// of white space.
func containsNorm(text, want string) bool {
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	return strings.Contains(norm(text), norm(want))
}

// wordRecall is the share of want's words found in text (case-insensitive).
func wordRecall(want, text string) float64 {
	words := strings.Fields(strings.ToLower(want))
	if len(words) == 0 {
		return 0
	}
	have := map[string]bool{}
	for _, w := range strings.Fields(strings.ToLower(text)) {
		have[strings.Trim(w, ".,;:!?\"'()")] = true
	}
	found := 0
	for _, w := range words {
		if have[strings.Trim(w, ".,;:!?\"'()")] {
			found++
		}
	}
	return float64(found) / float64(len(words))
}
