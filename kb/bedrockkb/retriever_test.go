package bedrockkb_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/bedrockkb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/kbstore/kbstoretest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ctx = context.Background()

func newRetriever(t *testing.T, chunks ...bedrockkittest.KBChunk) (*bedrockkb.Retriever, *bedrockkittest.FakeAgentRuntime) {
	t.Helper()
	f := bedrockkittest.NewFakeAgentRuntime(t)
	f.AddChunks("KB12345678", chunks...)
	r, err := bedrockkb.New(f.Client(), "KB12345678")
	if err != nil {
		t.Fatal(err)
	}
	return r, f
}

func TestRetrieveConvertsResults(t *testing.T) {
	r, _ := newRetriever(t,
		bedrockkittest.KBChunk{Text: "Card fees are waived for students.", Location: "s3://docs/fees.md",
			Metadata: map[string]any{"year": 2024, "tags": []any{"fees", 3, true}, "x-amz-bedrock-kb-source-uri": "s3://docs/fees.md"}},
		bedrockkittest.KBChunk{Text: "Lost cards are blocked.", Location: "https://example.com/lost"},
		bedrockkittest.KBChunk{Text: "Unrelated text.", Location: "doc-7"},
	)
	res, err := r.Query(ctx, bedrockkb.QueryRequest{Query: "card fees", NumberOfResults: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("%d results, want 3", len(res))
	}
	want0 := bedrockkb.RetrievedChunk{Text: "Card fees are waived for students.", Score: 1,
		Location: kb.Location{Type: "S3", URI: "s3://docs/fees.md"},
		Metadata: map[string]any{"year": 2024.0, "tags": []any{"fees", 3.0, true}, "x-amz-bedrock-kb-source-uri": "s3://docs/fees.md"}}
	if !reflect.DeepEqual(res[0], want0) {
		t.Fatalf("result 0 = %#v\nwant %#v", res[0], want0)
	}
	if res[1].Location != (kb.Location{Type: "WEB", URI: "https://example.com/lost"}) || res[1].Metadata != nil {
		t.Fatalf("result 1 = %#v", res[1])
	}
	if res[2].Location != (kb.Location{Type: "CUSTOM", URI: "doc-7"}) || res[2].Score != 0 {
		t.Fatalf("result 2 = %#v", res[2])
	}
}

// TestRequestShape checks what goes over the wire for every option.
func TestRequestShape(t *testing.T) {
	r, f := newRetriever(t, bedrockkittest.KBChunk{Text: "a b c", Location: "s3://x/a"})
	f1 := kb.AndAll(kb.Equals("type", "faq"), kb.OrAll(kb.GreaterThan("year", 2020), kb.In("lang", "en", "de")))
	_, err := r.Query(ctx, bedrockkb.QueryRequest{
		Query: "a", NumberOfResults: 7, SearchType: kb.Hybrid, Filter: f1,
		Reranking: &bedrockkb.Reranking{ModelARN: "arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0", NumberOfResults: 3,
			IncludeFields: []string{"title"}, AdditionalModelRequestFields: map[string]any{"top_k": 3}},
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.Requests()
	if len(reqs) != 1 || reqs[0].KnowledgeBaseID != "KB12345678" {
		t.Fatalf("requests %+v", reqs)
	}
	var got, want any
	json.Unmarshal(reqs[0].Body, &got)
	json.Unmarshal([]byte(`{
		"retrievalQuery": {"text": "a"},
		"retrievalConfiguration": {"vectorSearchConfiguration": {
			"numberOfResults": 7,
			"overrideSearchType": "HYBRID",
			"filter": {"andAll": [{"equals": {"key": "type", "value": "faq"}},
				{"orAll": [{"greaterThan": {"key": "year", "value": 2020}}, {"in": {"key": "lang", "value": ["en", "de"]}}]}]},
			"rerankingConfiguration": {"type": "BEDROCK_RERANKING_MODEL", "bedrockRerankingConfiguration": {
				"modelConfiguration": {"modelArn": "arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0", "additionalModelRequestFields": {"top_k": 3}},
				"numberOfRerankedResults": 3,
				"metadataConfiguration": {"selectionMode": "SELECTIVE", "selectiveModeConfiguration": {"fieldsToInclude": [{"fieldName": "title"}]}}}}
		}}}`), &want)
	if !reflect.DeepEqual(got, want) {
		b, _ := json.MarshalIndent(got, "", " ")
		t.Fatalf("request body:\n%s", b)
	}
	// The filter JSON is kb.Filter's own Bedrock JSON.
	ours, _ := json.Marshal(f1)
	var a, b any
	json.Unmarshal(ours, &a)
	b = got.(map[string]any)["retrievalConfiguration"].(map[string]any)["vectorSearchConfiguration"].(map[string]any)["filter"]
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("SDK filter %v differs from kb.Filter JSON %v", b, a)
	}
}

// TestFilterSemantics: random filters, translated and sent through the SDK,
// select exactly what kb.Filter.Match selects (the fake evaluates filters
// with its own implementation of Bedrock's rules).
func TestFilterSemantics(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var chunks []bedrockkittest.KBChunk
	var mds []map[string]any
	for i := range 60 {
		md := kbstoretest.RandomMetadata(rng)
		mds = append(mds, md)
		chunks = append(chunks, bedrockkittest.KBChunk{Text: fmt.Sprint("chunk ", i), Location: fmt.Sprint("id-", i), Metadata: md})
	}
	r, _ := newRetriever(t, chunks...)
	for range 120 {
		f := kbstoretest.RandomFilter(rng)
		n, _ := f.Normalize()
		var want []string
		for i, md := range mds {
			m, _ := kbstore.NormalizeMetadata(md)
			if n.Match(m) {
				want = append(want, fmt.Sprint("id-", i))
			}
		}
		res, err := r.Query(ctx, bedrockkb.QueryRequest{Query: "chunk", NumberOfResults: 100, Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range res {
			got = append(got, x.Location.URI)
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			b, _ := json.Marshal(f)
			t.Fatalf("filter %s: Bedrock (fake) selected %v, kb.Filter.Match %v", b, got, want)
		}
	}
}

func TestPagination(t *testing.T) {
	var chunks []bedrockkittest.KBChunk
	for i := range 9 {
		chunks = append(chunks, bedrockkittest.KBChunk{Text: "same words", Location: fmt.Sprint("d", i)})
	}
	r, f := newRetriever(t, chunks...)
	f.SetPageSize(2)
	res, err := r.Query(ctx, bedrockkb.QueryRequest{Query: "words", NumberOfResults: 5})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range res {
		got = append(got, x.Location.URI)
	}
	if !slices.Equal(got, []string{"d0", "d1", "d2", "d3", "d4"}) {
		t.Fatalf("paged results %v", got)
	}
	reqs := f.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d calls for 5 results at 2 per page, want 3", len(reqs))
	}
	var last struct{ NextToken string }
	json.Unmarshal(reqs[2].Body, &last)
	if last.NextToken == "" {
		t.Fatal("the third call sent no nextToken")
	}
	// One page at a time.
	page, next, err := r.QueryPage(ctx, bedrockkb.QueryRequest{Query: "words", NumberOfResults: 3}, "")
	if err != nil || len(page) != 2 || next == "" {
		t.Fatalf("RetrievePage = %d results, next %q, %v", len(page), next, err)
	}
	page, next, err = r.QueryPage(ctx, bedrockkb.QueryRequest{Query: "words", NumberOfResults: 3}, next)
	if err != nil || len(page) != 1 || next != "" {
		t.Fatalf("second page = %d results, next %q, %v", len(page), next, err)
	}
}

func TestErrors(t *testing.T) {
	r, f := newRetriever(t, bedrockkittest.KBChunk{Text: "x", Location: "l"})
	f.FailNext(bedrockkittest.Fault{Code: "ThrottlingException", Message: "slow down"})
	_, err := r.Query(ctx, bedrockkb.QueryRequest{Query: "x"})
	var ae *bedrockkit.APIError
	if !errors.Is(err, bedrockkit.ErrThrottled) || !errors.As(err, &ae) || ae.Code != "ThrottlingException" || ae.Op != "Retrieve" || !bedrockkit.IsRetryable(err) {
		t.Fatalf("throttled: %v", err)
	}
	other, _ := bedrockkb.New(f.Client(), "NOSUCHKB00")
	if _, err := other.Query(ctx, bedrockkb.QueryRequest{Query: "x"}); !errors.Is(err, bedrockkit.ErrNotFound) {
		t.Fatalf("unknown knowledge base: %v, want ErrNotFound", err)
	}
	before := len(f.Requests())
	bad := kb.AndAll(kb.Equals("a", 1))
	for name, req := range map[string]bedrockkb.QueryRequest{
		"empty query":       {Query: " "},
		"too many":          {Query: "x", NumberOfResults: 101},
		"negative":          {Query: "x", NumberOfResults: -1},
		"search type":       {Query: "x", SearchType: "FUZZY"},
		"andAll of one":     {Query: "x", Filter: bad},
		"reranker no ARN":   {Query: "x", Reranking: &bedrockkb.Reranking{}},
		"reranker both":     {Query: "x", Reranking: &bedrockkb.Reranking{ModelARN: "arn", IncludeFields: []string{"a"}, ExcludeFields: []string{"b"}}},
		"reranker too many": {Query: "x", Reranking: &bedrockkb.Reranking{ModelARN: "arn", NumberOfResults: 101}},
	} {
		if _, err := r.Query(ctx, req); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
	if n := len(f.Requests()); n != before {
		t.Fatalf("invalid requests reached the service (%d calls)", n-before)
	}
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Query(c, bedrockkb.QueryRequest{Query: "x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := bedrockkb.New(nil, "KB"); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("New(nil): %v", err)
	}
	if _, err := bedrockkb.New(f.Client(), ""); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("New with no ID: %v", err)
	}
}

func FuzzTranslateFilter(f *testing.F) {
	for _, s := range []string{
		`{"equals":{"key":"a","value":1}}`,
		`{"andAll":[{"in":{"key":"a","value":["x",2]}},{"notEquals":{"key":"b","value":true}}]}`,
		`{"orAll":[{"startsWith":{"key":"a","value":"p"}},{"listContains":{"key":"t","value":"x"}},{"stringContains":{"key":"s","value":"y"}}]}`,
		`{"lessThan":{"key":"n","value":2.5}}`,
		`{"andAll":[]}`,
		`[]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var flt kb.Filter
		if err := json.Unmarshal([]byte(s), &flt); err != nil {
			return
		}
		if _, err := bedrockkb.TranslateFilter(flt); err != nil {
			t.Fatalf("a filter kb accepted was refused: %s: %v", s, err)
		}
	})
}

// kbRetriever is what code written against a local knowledge base needs;
// both *kb.KnowledgeBase and *bedrockkb.Retriever provide it.
type kbRetriever interface {
	Retrieve(ctx context.Context, query string, opts ...kb.RetrieveOptions) ([]kb.RetrievalResult, error)
}

var (
	_ kbRetriever = (*kb.KnowledgeBase)(nil)
	_ kbRetriever = (*bedrockkb.Retriever)(nil)
)

func TestRetrieveKBShaped(t *testing.T) {
	r, f := newRetriever(t,
		bedrockkittest.KBChunk{Text: "card fees for students", Location: "s3://d/a.md",
			Metadata: map[string]any{kb.KeyChunkID: "chunk-1", kb.KeySourceURI: "s3://d/a.md", "type": "faq"}},
		bedrockkittest.KBChunk{Text: "card fees", Location: "s3://d/b.md", Metadata: map[string]any{"type": "faq"}},
		bedrockkittest.KBChunk{Text: "fees", Location: "s3://d/c.md", Metadata: map[string]any{"type": "news"}},
	)
	var kr kbRetriever = r
	faq := kb.Equals("type", "faq")
	res, err := kr.Retrieve(ctx, "card fees", kb.RetrieveOptions{NumberOfResults: 2, SearchType: kb.Semantic, Filter: faq})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].ID != "chunk-1" || res[0].DocumentID != "s3://d/a.md" || res[0].Location != (kb.Location{Type: "S3", URI: "s3://d/a.md"}) ||
		res[1].ID != "" || res[1].DocumentID != "s3://d/b.md" {
		t.Fatalf("results %+v", res)
	}
	var body struct {
		RetrievalConfiguration struct {
			VectorSearchConfiguration struct {
				NumberOfResults    int
				OverrideSearchType string
			}
		}
	}
	json.Unmarshal(f.Requests()[0].Body, &body)
	if vc := body.RetrievalConfiguration.VectorSearchConfiguration; vc.NumberOfResults != 2 || vc.OverrideSearchType != "SEMANTIC" {
		t.Fatalf("sent %+v", vc)
	}
	// A local reranker reorders a larger candidate set (the shortest text wins here).
	rr := kb.RerankerFunc(func(_ context.Context, _ string, texts []string) ([]float64, error) {
		out := make([]float64, len(texts))
		for i, s := range texts {
			out[i] = 1 / float64(len(s))
		}
		return out, nil
	})
	res, err = kr.Retrieve(ctx, "card fees", kb.RetrieveOptions{NumberOfResults: 1, Reranker: rr})
	if err != nil || len(res) != 1 || res[0].Text != "fees" || res[0].Score != 0.25 {
		t.Fatalf("reranked: %+v, %v", res, err)
	}
	json.Unmarshal(f.Requests()[1].Body, &body)
	if n := body.RetrievalConfiguration.VectorSearchConfiguration.NumberOfResults; n != 50 {
		t.Fatalf("reranking fetched %d candidates, want 50", n)
	}
	for name, o := range map[string]kb.RetrieveOptions{
		"partition": {Partition: "t1"},
		"keyword":   {SearchType: kb.Keyword},
		"weights":   {SemanticWeight: 2},
	} {
		if _, err := kr.Retrieve(ctx, "x", o); !errors.Is(err, bedrockkit.ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
	if _, err := kr.Retrieve(ctx, "x", kb.RetrieveOptions{NumberOfResults: 101}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("101 results: %v, want ErrInvalidInput", err)
	}
}
