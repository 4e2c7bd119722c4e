package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/bedrockkit/bedrockkit/console"
	"github.com/bedrockkit/bedrockkit/kb"
)

// With -console the quickstart serves the developer console (package
// console) on 127.0.0.1 while it runs and afterwards, until Ctrl-C: the
// knowledge base's syncs, what each question retrieved, a query playground
// over the same index, the guardrail to test, and — with a model — every
// agent conversation step by step with its cost.

// consoleFlag takes -console out of args (the other flags are parseOptions').
func consoleFlag(args []string) ([]string, bool) {
	out := make([]string, 0, len(args))
	on := false
	for _, a := range args {
		switch a {
		case "-console", "--console", "-console=true", "--console=true":
			on = true
		case "-console=false", "--console=false":
			on = false
		default:
			out = append(out, a)
		}
	}
	return out, on
}

// quickConsole is the console of one quickstart run. A nil *quickConsole
// (no -console) does nothing.
type quickConsole struct {
	c   *console.Console
	srv *console.Server
	out io.Writer
	// wait blocks until the user is done with the console; nil waits for
	// Ctrl-C.
	wait func(ctx context.Context)
	// questions records what each question retrieved.
	questions console.Retriever
}

type consoleKey struct{}

const kbName = "harborview"

// startConsole starts the console, prints its address and returns a
// context that carries it and records every agent run made with it.
func startConsole(ctx context.Context, out io.Writer) (context.Context, error) {
	c := console.New(console.Options{})
	srv, err := c.Start("127.0.0.1:0")
	if err != nil {
		return ctx, err
	}
	if g, err := newGuard(); err == nil {
		c.AddGuardrail("harborview (assistant.go)", g)
	}
	fmt.Fprintf(out, "Developer console: %s (live while the quickstart runs)\n\n", srv.URL)
	q := &quickConsole{c: c, srv: srv, out: out}
	ctx = c.Observe(ctx, console.RunInfo{Agent: "harborview assistant"})
	return context.WithValue(ctx, consoleKey{}, q), nil
}

func consoleFrom(ctx context.Context) *quickConsole {
	q, _ := ctx.Value(consoleKey{}).(*quickConsole)
	return q
}

// knowledgeBase makes base searchable in the console's playground.
func (q *quickConsole) knowledgeBase(base *kb.KnowledgeBase) {
	if q == nil {
		return
	}
	q.questions = q.c.Retriever(kbName, base)
}

// sync records a sync's report in the knowledge base's history.
func (q *quickConsole) sync(rep *kb.SyncReport, err error) {
	if q != nil {
		q.c.RecordSync(kbName, kb.SyncOptions{}, rep, err)
	}
}

// question records what a question retrieves: the retrieval
// RetrieveAndGenerate made, asked again with the same options (one more
// query embedding, which offline costs nothing).
func (q *quickConsole) question(ctx context.Context, question string, opts kb.RetrieveOptions) {
	if q == nil || q.questions == nil {
		return
	}
	_, _ = q.questions.Retrieve(ctx, question, opts) // an error is recorded and shown there
}

// serve keeps the console up until the user is done (Ctrl-C), then stops
// it. It runs before the index closes, so the playground still works.
func (q *quickConsole) serve(ctx context.Context) {
	if q == nil {
		return
	}
	defer q.srv.Close()
	if q.wait != nil {
		q.wait(ctx)
		return
	}
	fmt.Fprintf(q.out, "\nDeveloper console: %s — press Ctrl-C to stop.\n", q.srv.URL)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
}
