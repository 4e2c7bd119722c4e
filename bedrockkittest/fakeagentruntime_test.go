package bedrockkittest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime/types"
	"github.com/aws/smithy-go"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func retrieveInput(kbID, q string, n int32, f types.RetrievalFilter) *bedrockagentruntime.RetrieveInput {
	return &bedrockagentruntime.RetrieveInput{
		KnowledgeBaseId: aws.String(kbID),
		RetrievalQuery:  &types.KnowledgeBaseQuery{Text: aws.String(q)},
		RetrievalConfiguration: &types.KnowledgeBaseRetrievalConfiguration{
			VectorSearchConfiguration: &types.KnowledgeBaseVectorSearchConfiguration{NumberOfResults: aws.Int32(n), Filter: f},
		},
	}
}

func TestFakeAgentRuntimeRetrieve(t *testing.T) {
	f := bedrockkittest.NewFakeAgentRuntime(t)
	f.AddChunks("KB1",
		bedrockkittest.KBChunk{Text: "alpha beta", Location: "s3://b/1", Metadata: map[string]any{"n": 1}},
		bedrockkittest.KBChunk{Text: "beta gamma", Location: "s3://b/2", Metadata: map[string]any{"n": 2}},
		bedrockkittest.KBChunk{Text: "delta", Location: "s3://b/3"},
	)
	c := f.Client()
	ctx := context.Background()
	out, err := c.Retrieve(ctx, retrieveInput("KB1", "alpha beta", 10, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.RetrievalResults) != 3 || aws.ToFloat64(out.RetrievalResults[0].Score) != 1 ||
		aws.ToString(out.RetrievalResults[0].Location.S3Location.Uri) != "s3://b/1" || out.NextToken != nil {
		t.Fatalf("results %+v", out.RetrievalResults)
	}
	var n float64
	if err := out.RetrievalResults[1].Metadata["n"].UnmarshalSmithyDocument(&n); err != nil || n != 2 {
		t.Fatalf("metadata n = %v, %v", n, err)
	}
	flt := &types.RetrievalFilterMemberGreaterThan{Value: types.FilterAttribute{Key: aws.String("n"), Value: document.NewLazyDocument(1)}}
	out, err = c.Retrieve(ctx, retrieveInput("KB1", "beta", 10, flt))
	if err != nil || len(out.RetrievalResults) != 1 || aws.ToString(out.RetrievalResults[0].Content.Text) != "beta gamma" {
		t.Fatalf("filtered: %+v, %v", out, err)
	}
	// Paging.
	f.SetPageSize(2)
	out, err = c.Retrieve(ctx, retrieveInput("KB1", "beta", 3, nil))
	if err != nil || len(out.RetrievalResults) != 2 || out.NextToken == nil {
		t.Fatalf("page 1: %+v, %v", out, err)
	}
	in := retrieveInput("KB1", "beta", 3, nil)
	in.NextToken = out.NextToken
	out, err = c.Retrieve(ctx, in)
	if err != nil || len(out.RetrievalResults) != 1 || out.NextToken != nil {
		t.Fatalf("page 2: %+v, %v", out, err)
	}
	if got := len(f.Requests()); got != 4 {
		t.Fatalf("%d requests recorded, want 4", got)
	}
}

func TestFakeAgentRuntimeErrors(t *testing.T) {
	f := bedrockkittest.NewFakeAgentRuntime(t)
	f.AddChunks("KB1", bedrockkittest.KBChunk{Text: "x"})
	c := f.Client()
	ctx := context.Background()
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return fmt.Sprint("not an API error: ", err)
	}
	one := &types.RetrievalFilterMemberEquals{Value: types.FilterAttribute{Key: aws.String("a"), Value: document.NewLazyDocument("x")}}
	for name, c2 := range map[string]struct {
		in   *bedrockagentruntime.RetrieveInput
		want string
	}{
		"unknown KB":     {retrieveInput("NOPE", "x", 5, nil), "ResourceNotFoundException"},
		"too many":       {retrieveInput("KB1", "x", 101, nil), "ValidationException"},
		"zero":           {retrieveInput("KB1", "x", 0, nil), "ValidationException"},
		"andAll of one":  {retrieveInput("KB1", "x", 5, &types.RetrievalFilterMemberAndAll{Value: []types.RetrievalFilter{one}}), "ValidationException"},
		"empty question": {retrieveInput("KB1", "", 5, nil), "ValidationException"},
	} {
		if _, err := c.Retrieve(ctx, c2.in); code(err) != c2.want {
			t.Errorf("%s: %v, want %s", name, err, c2.want)
		}
	}
	f.FailNext(bedrockkittest.Fault{Code: "Throttling"})
	if _, err := c.Retrieve(ctx, retrieveInput("KB1", "x", 5, nil)); code(err) != "ThrottlingException" {
		t.Fatalf("scripted fault: %v", err)
	}
	if _, err := c.Retrieve(ctx, retrieveInput("KB1", "x", 5, nil)); err != nil {
		t.Fatalf("the fault was not consumed: %v", err)
	}
}

// FuzzFakeAgentRuntimeFilter sends arbitrary filter JSON to the fake: it
// answers 200 or a ValidationException, never anything else.
func FuzzFakeAgentRuntimeFilter(f *testing.F) {
	for _, s := range []string{
		`{"equals":{"key":"a","value":"x"}}`,
		`{"orAll":[{"in":{"key":"a","value":[1,"x"]}},{"notIn":{"key":"b","value":[true]}}]}`,
		`{"andAll":[{"greaterThan":{"key":"n","value":1}},{"stringContains":{"key":"s","value":""}}]}`,
		`{"listContains":{"key":"l","value":null}}`,
		`{"startsWith":{"key":"a","value":3}}`,
		`{}`, `[]`, `null`, `{"equals":{"key":"a","value":"x"},"in":{}}`,
	} {
		f.Add(s)
	}
	srv := bedrockkittest.StartFakeAgentRuntime()
	defer srv.Close()
	srv.AddChunks("KB1", bedrockkittest.KBChunk{Text: "x", Metadata: map[string]any{"a": "x", "n": 2, "l": []any{"x", 1}}})
	f.Fuzz(func(t *testing.T, s string) {
		filter := s
		if !json.Valid([]byte(s)) {
			b, _ := json.Marshal(s) // a JSON string: not a filter object
			filter = string(b)
		}
		body := `{"retrievalQuery":{"text":"x"},"retrievalConfiguration":{"vectorSearchConfiguration":{"numberOfResults":5,"filter":` + filter + `}}}`
		resp, err := http.Post(srv.URL()+"/knowledgebases/KB1/retrieve", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 && resp.StatusCode != 400 {
			t.Fatalf("filter %q: status %d: %s", s, resp.StatusCode, out)
		}
	})
}
