// Command rag shows the knowledge-base pipeline in one page: documents with
// metadata in a kb.MemorySource, synced into the embedded kb/localindex store,
// retrieved with a metadata filter, and answered with citations.
//
//	go run ./examples/rag
//
// It runs offline: embeddings come from bedrockkittest.HashEmbedder (a
// deterministic bag-of-words hash, not a neural model) and, with no
// generation model configured, RetrieveAndGenerate answers extractively by
// quoting the best-matching sentences of the retrieved passages. Set
// kb.Options.Model to a bedrockkit.Model (for example a Bedrock Converse
// model) to get generated answers with the same citations.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// docs are a few help-centre articles of a fictional shop; the metadata is
// what a sidecar (.metadata.json) would give them.
var docs = []kb.MemoryDocument{
	{
		URI:      "mem:returns.md",
		Data:     []byte("# Returns\n\nYou can return any item within 30 days of delivery for a full refund. Items must be unused and in their original packaging. Refunds are paid to the original payment method within 5 business days of us receiving the item."),
		Metadata: map[string]any{"category": "policy", "region": "eu"},
	},
	{
		URI:      "mem:returns-us.md",
		Data:     []byte("# Returns (United States)\n\nIn the United States you can return an item within 60 days of delivery. Return shipping is free with the prepaid label in the box."),
		Metadata: map[string]any{"category": "policy", "region": "us"},
	},
	{
		URI:      "mem:shipping.md",
		Data:     []byte("# Shipping\n\nStandard shipping takes 3 to 5 business days and is free on orders over 50 euros. Express shipping arrives the next business day when you order before 2 pm."),
		Metadata: map[string]any{"category": "policy", "region": "eu"},
	},
	{
		URI:      "mem:kettle.md",
		Data:     []byte("# Kettle K2\n\nThe K2 kettle boils 1.7 litres in about four minutes. Descale it monthly with citric acid. The K2 has a two-year warranty."),
		Metadata: map[string]any{"category": "product", "region": "eu"},
	},
}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./examples/rag\n\nThe example builds a knowledge base from a folder and answers with citations, offline.\nIt takes no flags.\n")
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rag:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	store, err := localindex.Open(localindex.Options{}) // in memory; set Dir to persist
	if err != nil {
		return err
	}
	defer store.Close()

	base, err := kb.New(kb.Options{
		Store:      store,
		Embedder:   bedrockkittest.NewHashEmbedder(256),
		EmbedderID: "bedrockkittest.HashEmbedder",
		// No Model: answers are extractive.
	})
	if err != nil {
		return err
	}

	src := kb.NewMemorySource(docs...)
	rep, err := base.Sync(ctx, src)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Synced %d documents into %d chunks (%d new, %d failed).\n\n", rep.Scanned, rep.Chunks, rep.New, rep.Failed)

	question := "How many days do I have to return an item?"

	// Without a filter both return policies compete.
	fmt.Fprintf(out, "Retrieve %q (no filter):\n", question)
	res, err := base.Retrieve(ctx, question, kb.RetrieveOptions{NumberOfResults: 3})
	if err != nil {
		return err
	}
	printResults(out, res)

	// A filter is applied inside the search, the way Bedrock's
	// RetrievalFilter is: only EU policy documents are candidates.
	filter := kb.AndAll(kb.Equals("region", "eu"), kb.Equals("category", "policy"))
	fmt.Fprintf(out, "Retrieve %q with filter region=eu AND category=policy:\n", question)
	res, err = base.Retrieve(ctx, question, kb.RetrieveOptions{NumberOfResults: 3, Filter: filter})
	if err != nil {
		return err
	}
	printResults(out, res)

	// RetrieveAndGenerate with no Model answers extractively, with citations.
	ans, err := base.RetrieveAndGenerate(ctx, question, kb.GenerateOptions{
		Retrieve: kb.RetrieveOptions{NumberOfResults: 2, Filter: filter},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "RetrieveAndGenerate %q (extractive=%v):\n", question, ans.Extractive)
	fmt.Fprintf(out, "  answer: %s\n", ans.Text)
	for i, c := range ans.Citations {
		for _, r := range c.Sources {
			fmt.Fprintf(out, "  citation %d: answer[%d:%d] is supported by %s\n", i+1, c.Span.Start, c.Span.End, r.URI)
		}
	}

	// A question the documents cannot answer gets an honest "I don't know"
	// instead of a guess.
	ans, err = base.RetrieveAndGenerate(ctx, "What is the capital of Peru?", kb.GenerateOptions{
		Retrieve: kb.RetrieveOptions{Filter: filter, SearchType: kb.Keyword},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nAn unrelated question (keyword search finds no passage): %s\n", ans.Text)
	return nil
}

func printResults(out io.Writer, res []kb.RetrievalResult) {
	for i, r := range res {
		text := []rune(strings.Join(strings.Fields(r.Text), " "))
		if len(text) > 60 {
			text = append(text[:60], []rune("...")...)
		}
		fmt.Fprintf(out, "  %d. %-20s region=%-3v score=%.4f  %s\n", i+1, r.Location.URI, r.Metadata["region"], r.Score, string(text))
	}
	fmt.Fprintln(out)
}
