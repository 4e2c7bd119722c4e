// Command quickstart is the customer-service assistant of Harborview Bank, a
// fictional bank. It builds a knowledge base from the bank's bundled policy
// and product documents, answers a few questions with citations and prints
// the sync statistics. Then comes the assistant: an agent with two tools
// over fake account data (account_lookup, transaction_summary) and the
// knowledge base as a search tool, a guardrail that masks account numbers
// and blocks investment advice, a pricing meter, a trace of every step and
// the cost of each conversation.
//
//	go run ./examples/quickstart                 # offline, no credentials
//	go run ./examples/quickstart -bedrock        # Bedrock models and Titan embeddings
//	go run ./examples/quickstart -openai-base-url http://localhost:11434/v1 -openai-model llama3.1   # a local Ollama
//	go run ./examples/quickstart -q "What does a wire transfer cost?"
//	go run ./examples/quickstart -console            # and look at it all in the developer console
//
// Offline the knowledge base is keyword-only (BM25, no embedder at all) and,
// with no generation model, answers extractively: the retrieved passages'
// best-matching sentences and table rows, cited. The agent conversation needs a language model, so offline it is
// skipped with a note saying how to configure one (no scripted model stands
// in for it); the tools, the knowledge-base search, the guardrail and the
// price table still run for real.
//
// Two model options, one at a time:
//
//   - -bedrock uses the AWS credentials and region of the environment,
//     Titan Text Embeddings V2 and a Converse model (-model) for both the
//     answers and the agent, and prints each conversation's cost.
//   - -openai-base-url uses the chat model -openai-model behind an
//     OpenAI-compatible API (Ollama, vLLM, LM Studio, OpenAI) through
//     langchaingo's OpenAI client, made a bedrockkit.Model by
//     interop/langchaingo.FromLLM, for the answers and the agent; the key
//     comes from OPENAI_API_KEY, and a server on this machine or a private
//     network gets a placeholder when it is unset. Embeddings stay on
//     HashEmbedder, and since the pricing catalog holds Amazon Bedrock prices
//     only, each conversation's token counts are printed without a cost.
//     (langchaingo v0.1.14's own Ollama client has no tool calling, which
//     the agent needs; Ollama's OpenAI-compatible endpoint has.)
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

//go:embed corpus
var corpus embed.FS

var questions = []string{
	"How much is the monthly fee for Everyday Checking and how can I avoid it?",
	"I lost my debit card. What should I do?",
	"What is the deadline to dispute a card transaction?",
	"Do you sell my personal data?",
	"Which savings product pays the highest interest rate?",
}

func main() {
	args, withConsole := consoleFlag(os.Args[1:])
	o, err := parseOptions(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		var fe flagError
		if !errors.As(err, &fe) { // the flag package printed its own errors
			fmt.Fprintln(os.Stderr, "quickstart:", err)
		}
		os.Exit(2)
	}
	ctx := context.Background()
	if withConsole {
		if ctx, err = startConsole(ctx, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "quickstart:", err)
			os.Exit(1)
		}
	}
	if err := run(ctx, os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, o options) error {
	cfg := kb.Options{Concurrency: 4, BatchSize: 8}
	var p *provider // nil offline
	var err error
	switch {
	case o.bedrock:
		p, err = bedrockProvider(ctx, out, o, &cfg)
	case o.openaiBaseURL != "":
		p, err = openAIProvider(out, o)
	default:
		fmt.Fprintln(out, "Offline mode: keyword (BM25) search and extractive answers (no embedder, no generation model).")
		fmt.Fprintln(out, "Run with -bedrock (Amazon Bedrock) or -openai-base-url (a local Ollama or another")
		fmt.Fprintln(out, "OpenAI-compatible server) to use a model; the assistant section below shows how.")
		fmt.Fprintln(out)
	}
	if err != nil {
		return err
	}
	if p != nil {
		cfg.Model = p.model
	}

	// The index lives on disk, one folder per embedder (vectors of two
	// embedders cannot share an index; "keyword" without one), so a second
	// run reads it back and its sync finds nothing new to index.
	storeDir := ""
	if o.dir != "" {
		name := "keyword"
		if cfg.Embedder != nil {
			name = folderName(bedrockkit.ModelIDOf(cfg.Embedder) + cfg.EmbedderID)
		}
		storeDir = filepath.Join(o.dir, name)
		fmt.Fprintf(out, "Index: %s\n(kept between runs: run again and the sync reads it back instead of re-embedding; delete the folder to start over)\n\n", storeDir)
	}
	store, err := localindex.Open(localindex.Options{Dir: storeDir})
	if err != nil {
		return err
	}
	defer store.Close()
	cfg.Store = store
	base, err := kb.New(cfg)
	if err != nil {
		return err
	}
	dev := consoleFrom(ctx) // nil without -console
	dev.knowledgeBase(base)

	docs, err := fs.Sub(corpus, "corpus")
	if err != nil {
		return err
	}
	src := &kb.FSSource{FS: docs, URIPrefix: "harborview:"}
	bar := progressBar{start: time.Now(), enabled: isTerminal(os.Stderr)}
	rep, err := base.Sync(ctx, src, kb.SyncOptions{Progress: bar.update})
	bar.done()
	dev.sync(rep, err)
	if err != nil {
		return err
	}
	printReport(out, "Sync", rep)

	qs := questions
	if o.question != "" {
		qs = []string{o.question}
	}
	for _, q := range qs {
		ans, err := base.RetrieveAndGenerate(ctx, q, kb.GenerateOptions{Retrieve: kb.RetrieveOptions{NumberOfResults: 5}})
		if err != nil {
			if p != nil {
				return p.wrap(err)
			}
			return err
		}
		printAnswer(out, q, ans)
		dev.question(ctx, q, kb.RetrieveOptions{NumberOfResults: 5})
	}

	// A second sync finds nothing to do: no document is re-read into the
	// embedder.
	rep, err = base.Sync(ctx, src)
	dev.sync(rep, err)
	if err != nil {
		return err
	}
	printReport(out, "Second sync (nothing changed)", rep)

	err = runAssistant(ctx, out, o, base, p)
	dev.serve(ctx) // with -console: until Ctrl-C, while the index is open
	return err
}

// progressBar draws the sync's progress on one terminal line; it draws
// nothing when stderr is not a terminal (a log file or a pipe would fill
// with carriage-return frames).
type progressBar struct {
	start   time.Time
	enabled bool
	drawn   bool
}

// isTerminal reports whether f is a character device, such as a terminal.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// folderName makes an embedder ID usable as a folder name.
func folderName(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, id)
}

func (b *progressBar) update(p kb.SyncProgress) {
	if !b.enabled {
		return
	}
	total := p.Scanned
	const width = 30
	filled := 0
	if total > 0 {
		filled = width * p.Done / total
	}
	more := "+"
	if p.Listed {
		more = ""
	}
	fmt.Fprintf(os.Stderr, "\rSyncing [%s%s] %d/%d%s documents, %d chunks embedded",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.Done, total, more, p.Chunks)
	b.drawn = true
}

func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprintf(os.Stderr, " (%s)\n", time.Since(b.start).Round(time.Millisecond))
	}
}

func printReport(out io.Writer, title string, r *kb.SyncReport) {
	fmt.Fprintf(out, "%s: scanned %d, new %d, modified %d, deleted %d, unchanged %d, skipped %d, failed %d; %d chunks in %d embedding calls\n",
		title, r.Scanned, r.New, r.Modified, r.Deleted, r.Unchanged, r.Skipped, r.Failed, r.Chunks, r.EmbedCalls)
	for _, f := range r.Failures {
		fmt.Fprintln(out, "  ", f)
	}
	if r.FailuresOmitted > 0 {
		fmt.Fprintf(out, "   ... and %d more failed or skipped documents\n", r.FailuresOmitted)
	}
	fmt.Fprintln(out)
}

func printAnswer(out io.Writer, q string, ans *kb.Answer) {
	fmt.Fprintln(out, "Q:", q)
	// Number the cited sources and mark each cited span in the answer.
	num := map[string]int{}
	var sources []bedrockkit.CitationSource
	var b strings.Builder
	last := 0
	for _, c := range ans.Citations {
		b.WriteString(ans.Text[last:c.Span.End])
		last = c.Span.End
		for _, r := range c.Sources {
			n, ok := num[r.ID]
			if !ok {
				sources = append(sources, r)
				n = len(sources)
				num[r.ID] = n
			}
			fmt.Fprintf(&b, "[%d]", n)
		}
	}
	b.WriteString(ans.Text[last:])
	label := "A:"
	switch {
	case ans.Text == kb.NoAnswerText:
		label = "A (no answer: nothing in the documents matches):"
	case ans.Extractive:
		label = "A (extractive, from the documents' own sentences and table rows):"
	}
	fmt.Fprintln(out, label, b.String())
	for i, r := range sources {
		where := r.URI
		if h, ok := r.Metadata[kb.KeyHeadings].([]any); ok && len(h) > 0 {
			where += " > " + fmt.Sprint(h[len(h)-1])
		}
		fmt.Fprintf(out, "   [%d] %s\n", i+1, where)
	}
	fmt.Fprintln(out)
}
