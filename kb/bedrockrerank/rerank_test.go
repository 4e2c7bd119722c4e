package bedrockrerank_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime/types"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/bedrockrerank"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// stub answers Rerank in two pages, scoring sources that contain the query
// word "refund" highest, and records the inputs.
type stub struct {
	inputs []*bedrockagentruntime.RerankInput
	err    error
}

func (s *stub) Rerank(_ context.Context, in *bedrockagentruntime.RerankInput, _ ...func(*bedrockagentruntime.Options)) (*bedrockagentruntime.RerankOutput, error) {
	s.inputs = append(s.inputs, in)
	if s.err != nil {
		return nil, s.err
	}
	var res []types.RerankResult
	for i, src := range in.Sources {
		score := float32(0.1)
		if text := *src.InlineDocumentSource.TextDocument.Text; len(text) > 0 && contains(text, "refund") {
			score = 0.9
		}
		res = append(res, types.RerankResult{Index: aws.Int32(int32(i)), RelevanceScore: aws.Float32(score)})
	}
	half := len(res) / 2
	if in.NextToken == nil {
		return &bedrockagentruntime.RerankOutput{Results: res[:half], NextToken: aws.String("page2")}, nil
	}
	return &bedrockagentruntime.RerankOutput{Results: res[half:]}, nil
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestRerankMapsRequestAndScores(t *testing.T) {
	s := &stub{}
	rr, err := bedrockrerank.New(s, bedrockrerank.Options{ModelARN: "arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0"})
	if err != nil {
		t.Fatal(err)
	}
	scores, err := rr.Rerank(context.Background(), "refund policy", []string{"fees", "a refund takes 5 days", "privacy", "refund rules"})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{float64(float32(0.1)), float64(float32(0.9)), float64(float32(0.1)), float64(float32(0.9))}
	if fmt.Sprint(scores) != fmt.Sprint(want) {
		t.Fatalf("scores %v, want %v", scores, want)
	}
	if len(s.inputs) != 2 || *s.inputs[1].NextToken != "page2" {
		t.Fatalf("pagination: %d calls", len(s.inputs))
	}
	in := s.inputs[0]
	cfg := in.RerankingConfiguration
	if cfg.Type != types.RerankingConfigurationTypeBedrockRerankingModel || *cfg.BedrockRerankingConfiguration.ModelConfiguration.ModelArn == "" ||
		*cfg.BedrockRerankingConfiguration.NumberOfResults != 4 || *in.Queries[0].TextQuery.Text != "refund policy" || in.Sources[0].Type != types.RerankSourceTypeInline {
		t.Fatalf("request mapping: %+v", in)
	}
}

func TestRerankerInRetrieve(t *testing.T) {
	ctx := context.Background()
	store, _ := localindex.Open(localindex.Options{})
	defer store.Close()
	base, err := kb.New(kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(64)})
	if err != nil {
		t.Fatal(err)
	}
	base.Sync(ctx, kb.NewMemorySource(
		kb.MemoryDocument{URI: "mem:a.txt", Data: []byte("Our policy on fees and charges.")},
		kb.MemoryDocument{URI: "mem:b.txt", Data: []byte("A refund takes five days under this policy.")},
	))
	rr, _ := bedrockrerank.New(&stub{}, bedrockrerank.Options{ModelARN: "arn:x"})
	res, err := base.Retrieve(ctx, "policy", kb.RetrieveOptions{Reranker: rr, NumberOfResults: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].DocumentID != "mem:b.txt" || res[0].Score < 0.89 {
		t.Fatalf("reranked results %+v", res)
	}
}

func TestRerankErrors(t *testing.T) {
	if _, err := bedrockrerank.New(nil, bedrockrerank.Options{ModelARN: "x"}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatal(err)
	}
	if _, err := bedrockrerank.New(&stub{}, bedrockrerank.Options{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatal(err)
	}
	boom := errors.New("access denied")
	rr, _ := bedrockrerank.New(&stub{err: boom}, bedrockrerank.Options{ModelARN: "x"})
	if _, err := rr.Rerank(context.Background(), "q", []string{"a"}); !errors.Is(err, boom) {
		t.Fatalf("want the SDK error wrapped, got %v", err)
	}
}
