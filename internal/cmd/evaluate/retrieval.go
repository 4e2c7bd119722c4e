package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/eval"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func init() { suites["retrieval"] = runRetrieval }

// runRetrieval ingests a BEIR-format folder (corpus.jsonl, queries.jsonl,
// qrels/SPLIT.tsv) into a knowledge base, one chunk per document (title and
// text, as Pyserini's "flat" index), and scores keyword, semantic and hybrid
// retrieval on the split's queries.
func runRetrieval(args []string) error {
	fs := flag.NewFlagSet("retrieval", flag.ContinueOnError)
	data := fs.String("data", filepath.Join(defaultDataDir(), "scifact"), "BEIR folder with corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv")
	split := fs.String("split", "train", "qrels split name (qrels/NAME.tsv)")
	embedder := fs.String("embedder", "hash", "semantic embedder: hash (offline bedrockkittest.HashEmbedder) or titan (Bedrock, needs AWS credentials)")
	dims := fs.Int("dims", 512, "embedding dimensions")
	k1 := fs.Float64("k1", 0, "BM25 k1 (0: the kb default)")
	b := fs.Float64("b", 0, "BM25 b (0 with k1 0: the kb default)")
	rpm := fs.Int("rpm", 0, "embedding requests per minute (0: unlimited)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	qrels, err := rtReadQrels(filepath.Join(*data, "qrels", *split+".tsv"))
	if err != nil {
		return err
	}
	queries, err := rtReadQueries(filepath.Join(*data, "queries.jsonl"), qrels)
	if err != nil {
		return err
	}
	var emb bedrockkit.Embedder = bedrockkittest.NewHashEmbedder(*dims)
	id := fmt.Sprintf("hash-%d", *dims)
	if *embedder == "titan" {
		client, err := bedrockkit.NewRuntimeClient(ctx, bedrockkit.RuntimeClientOptions{})
		if err != nil {
			return err
		}
		t, err := bedrockkit.NewTitanEmbedder(client, bedrockkit.TitanOptions{Dimensions: *dims})
		if err != nil {
			return err
		}
		emb, id = t, t.ModelID()
	} else if *embedder != "hash" {
		return fmt.Errorf("-embedder %q: use hash or titan", *embedder)
	}
	store, err := localindex.Open(localindex.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	base, err := kb.New(kb.Options{
		Store: store, Embedder: emb, EmbedderID: id, Chunker: chunk.None{Tokenizer: chunk.Estimate},
		Loaders:   map[string]kb.Loader{"beir": kb.LoaderFunc(rtLoad)},
		BatchSize: 64, Concurrency: 8, RequestsPerMinute: *rpm,
		Keyword: kb.BM25Params{K1: *k1, B: *b},
	})
	if err != nil {
		return err
	}
	start := time.Now()
	rep, err := base.Sync(ctx, rtCorpus(filepath.Join(*data, "corpus.jsonl")))
	if err != nil {
		return err
	}
	fmt.Printf("ingested %s: %d documents (%d new, %d failed) in %s; %d queries with qrels in %s\n",
		*data, rep.Scanned, rep.New, rep.Failed, time.Since(start).Round(time.Millisecond), len(queries), *split)
	for _, f := range rep.Failures {
		fmt.Println("  failed:", f)
	}

	cases := make([]eval.Case, len(queries))
	for i, q := range queries {
		cases[i] = eval.Case{ID: q.id, Question: q.text, RelevantDocuments: qrels[q.id]}
	}
	type row struct{ ndcg, recall, mrr float64 }
	results := map[kb.SearchType]row{}
	fmt.Printf("%-8s  %8s  %10s  %7s  %s\n", "search", "nDCG@10", "recall@100", "MRR@10", "time")
	for _, st := range []kb.SearchType{kb.Keyword, kb.Semantic, kb.Hybrid} {
		t0 := time.Now()
		target := eval.NewRetrieverTarget(base, eval.RetrieverOptions{
			Retrieve:   kb.RetrieveOptions{SearchType: st, NumberOfResults: 100},
			DocumentID: func(r kb.RetrievalResult) string { return strings.TrimPrefix(r.DocumentID, "beir:") },
		})
		rep, err := eval.Run(ctx, target, cases, eval.Options{Name: "retrieval " + string(st), Cutoffs: []int{10, 100}})
		if err != nil {
			return err
		}
		if rep.Failed > 0 {
			for _, c := range rep.Cases {
				if c.Error != "" {
					return fmt.Errorf("query %s: %s", c.ID, c.Error)
				}
			}
		}
		// A query that retrieved nothing has no retrieval metrics: it
		// counts as 0, as trec_eval counts it.
		n := float64(len(cases))
		m := rep.Metrics
		r := row{m["ndcg@10"] * float64(rep.Counts["ndcg@10"]) / n, m["recall@100"] * float64(rep.Counts["recall@100"]) / n, m["mrr@10"] * float64(rep.Counts["mrr@10"]) / n}
		results[st] = r
		fmt.Printf("%-8s  %8.4f  %10.4f  %7.4f  %s\n", strings.ToLower(string(st)), r.ndcg, r.recall, r.mrr, time.Since(t0).Round(time.Millisecond))
	}
	fmt.Printf("keyword_ndcg10=%.4f semantic_ndcg10=%.4f hybrid_ndcg10=%.4f keyword_recall100=%.4f hybrid_recall100=%.4f\n",
		results[kb.Keyword].ndcg, results[kb.Semantic].ndcg, results[kb.Hybrid].ndcg, results[kb.Keyword].recall, results[kb.Hybrid].recall)
	return nil
}

// rtLoad reads one corpus record as rtCorpus serves it: the title and text
// joined (as Pyserini's flat index) with the title also the document's
// heading, so keyword search can weigh it as a field.
func rtLoad(_ context.Context, _ kb.SourceItem, data []byte) (chunk.ParsedDocument, error) {
	var d rtDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return chunk.ParsedDocument{}, fmt.Errorf("corpus record: %w", err)
	}
	doc := chunk.ParsedDocument{Text: strings.TrimSpace(d.Title + "\n" + d.Text)}
	if t := strings.TrimSpace(d.Title); t != "" {
		doc.Headings = []chunk.Heading{{Offset: 0, Level: 1, Text: t}}
	}
	return doc, nil
}

// rtDoc is one corpus.jsonl record.
type rtDoc struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

type rtQuery struct{ id, text string }

// rtCorpus streams corpus.jsonl as a kb.Source: one document per line,
// served as its JSON record (read by rtLoad), keyed "beir:<_id>".
type rtCorpus string

func (c rtCorpus) Items(ctx context.Context) iter.Seq2[kb.SourceItem, error] {
	return func(yield func(kb.SourceItem, error) bool) {
		f, err := os.Open(string(c))
		if err != nil {
			yield(kb.SourceItem{}, err)
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		line := 0
		for sc.Scan() {
			line++
			var d rtDoc
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil || d.ID == "" {
				if !yield(kb.SourceItem{}, &kb.ItemError{URI: fmt.Sprintf("%s:%d", c, line), Err: fmt.Errorf("bad corpus line: %v", err)}) {
					return
				}
				continue
			}
			rec, _ := json.Marshal(d)
			item := kb.SourceItem{URI: "beir:" + d.ID, Name: d.ID + ".beir", Size: int64(len(rec)),
				Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(rec)), nil }}
			if !yield(item, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(kb.SourceItem{}, err)
		}
	}
}

// rtReadQrels reads a BEIR qrels TSV (query-id, corpus-id, score; optional
// header) into query -> document -> grade (grades > 0 only).
func rtReadQrels(path string) (map[string]eval.Relevance, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]eval.Relevance{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		grade, err := strconv.Atoi(fields[2])
		if err != nil || grade <= 0 {
			continue // header or non-relevant
		}
		if out[fields[0]] == nil {
			out[fields[0]] = eval.Relevance{}
		}
		out[fields[0]][fields[1]] = grade
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no relevance judgements", path)
	}
	return out, sc.Err()
}

func rtReadQueries(path string, qrels map[string]eval.Relevance) ([]rtQuery, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []rtQuery
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var q struct {
			ID   string `json:"_id"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if qrels[q.ID] != nil {
			out = append(out, rtQuery{q.ID, q.Text})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	if len(out) == 0 {
		return nil, fmt.Errorf("no query of %s has relevance judgements", path)
	}
	return out, sc.Err()
}
