package bedrockkittest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime/types"
	"github.com/bedrockkit/bedrockkit/kb/bedrockrerank"
)

const rerankARN = "arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0"

func TestRerankThroughBedrockrerank(t *testing.T) {
	f := NewFakeAgentRuntime(t)
	f.SetPageSize(2) // bedrockrerank must follow nextToken
	rr, err := bedrockrerank.New(f.Client(), bedrockrerank.Options{ModelARN: rerankARN})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"card fees and limits", "refund policy: refunds are paid in 5 days", "opening hours", "refund of card fees"}
	scores, err := rr.Rerank(context.Background(), "card refund", texts)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.5, 0.5, 0, 1}
	for i := range want {
		if scores[i] != want[i] {
			t.Fatalf("scores %v, want %v", scores, want)
		}
	}
	if n := len(f.RerankRequests()); n != 2 {
		t.Fatalf("%d Rerank calls, want 2 pages", n)
	}
	if !strings.Contains(string(f.RerankRequests()[0]), `"modelArn":"`+rerankARN+`"`) {
		t.Fatalf("body %s", f.RerankRequests()[0])
	}
}

func TestRerankValidation(t *testing.T) {
	f := NewFakeAgentRuntime(t)
	c := f.Client()
	src := func(s string) types.RerankSource {
		return types.RerankSource{Type: types.RerankSourceTypeInline, InlineDocumentSource: &types.RerankDocument{Type: types.RerankDocumentTypeText, TextDocument: &types.RerankTextDocument{Text: aws.String(s)}}}
	}
	in := func(arn string, n int32, sources ...types.RerankSource) *bedrockagentruntime.RerankInput {
		return &bedrockagentruntime.RerankInput{
			Queries: []types.RerankQuery{{Type: types.RerankQueryContentTypeText, TextQuery: &types.RerankTextDocument{Text: aws.String("q")}}},
			Sources: sources,
			RerankingConfiguration: &types.RerankingConfiguration{Type: types.RerankingConfigurationTypeBedrockRerankingModel,
				BedrockRerankingConfiguration: &types.BedrockRerankingConfiguration{NumberOfResults: aws.Int32(n), ModelConfiguration: &types.BedrockRerankingModelConfiguration{ModelArn: aws.String(arn)}}},
		}
	}
	for name, tc := range map[string]struct {
		in   *bedrockagentruntime.RerankInput
		want string
	}{
		"not a rerank model": {in("arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-lite-v1:0", 1, src("a")), "modelArn' failed to satisfy constraint"},
		"no sources":         {in(rerankARN, 1, []types.RerankSource{}...), "at 'sources' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		"zero results":       {in(rerankARN, 0, src("a")), "numberOfResults' failed to satisfy constraint"},
	} {
		_, err := c.Rerank(context.Background(), tc.in)
		var ve *types.ValidationException
		if !errors.As(err, &ve) || !strings.Contains(ve.ErrorMessage(), tc.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	out, err := c.Rerank(context.Background(), in(rerankARN, 1, src("x"), src("q q")))
	if err != nil || len(out.Results) != 1 || *out.Results[0].Index != 1 || *out.Results[0].RelevanceScore != 1 {
		t.Fatalf("top 1: %+v %v", out, err)
	}
	f.FailNext(Fault{Code: "ThrottlingException"})
	var te *types.ThrottlingException
	if _, err := c.Rerank(context.Background(), in(rerankARN, 1, src("x"))); !errors.As(err, &te) {
		t.Fatalf("scripted fault: %v", err)
	}
}
