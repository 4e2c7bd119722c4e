package bedrockkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/bedrockkit/bedrockkit"
)

// offlineTitan stands in for a *bedrockruntime.Client so the examples run
// offline: it answers Titan requests with a vector whose first element is
// the text's length. In production, pass
// bedrockruntime.NewFromConfig(cfg) with cfg from config.LoadDefaultConfig.
type offlineTitan struct{}

func (offlineTitan) InvokeModel(_ context.Context, in *bedrockruntime.InvokeModelInput, _ ...func(*bedrockruntime.Options)) (*bedrockruntime.InvokeModelOutput, error) {
	var req struct {
		InputText  string `json:"inputText"`
		Dimensions int    `json:"dimensions"`
	}
	if err := json.Unmarshal(in.Body, &req); err != nil {
		return nil, err
	}
	vec := make([]float32, req.Dimensions)
	vec[0] = float32(len(req.InputText))
	body, _ := json.Marshal(map[string]any{"embedding": vec, "inputTextTokenCount": len(req.InputText) / 4})
	return &bedrockruntime.InvokeModelOutput{Body: body}, nil
}

func ExampleTitanEmbedder() {
	emb, err := bedrockkit.NewTitanEmbedder(offlineTitan{}, bedrockkit.TitanOptions{
		Dimensions:  256, // 256, 512 or 1024 (default)
		Concurrency: 4,   // at most 4 InvokeModel calls at once
	})
	if err != nil {
		panic(err)
	}
	vecs, usage, err := emb.EmbedWithUsage(context.Background(),
		[]string{"What is Bedrock?", "Bedrock is a managed model service."}, bedrockkit.PurposeDocument)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(vecs), "vectors of", emb.Dimensions(), "floats")
	fmt.Println("first elements:", vecs[0][0], vecs[1][0])
	fmt.Println("input tokens:", usage.InputTokens)
	// Output:
	// 2 vectors of 256 floats
	// first elements: 16 35
	// input tokens: 12
}

func ExampleEmbedError() {
	emb, err := bedrockkit.NewTitanEmbedder(offlineTitan{}, bedrockkit.TitanOptions{})
	if err != nil {
		panic(err)
	}
	_, err = emb.Embed(context.Background(), []string{"fine", "", "also fine"}, bedrockkit.PurposeQuery)
	var ee *bedrockkit.EmbedError
	if errors.As(err, &ee) {
		fmt.Println("failed input:", ee.Index)
		fmt.Println("invalid input:", errors.Is(err, bedrockkit.ErrInvalidInput))
		fmt.Println(err)
	}
	// Output:
	// failed input: 1
	// invalid input: true
	// bedrockkit: embedding input 1 with amazon.titan-embed-text-v2:0 failed: text is empty or blank; drop or replace empty texts before embedding: bedrockkit: invalid input
}

// offlineCohere answers Cohere Embed v3 requests with 1024-dimensional
// vectors and reports each request's size and input_type.
type offlineCohere struct{}

func (offlineCohere) InvokeModel(_ context.Context, in *bedrockruntime.InvokeModelInput, _ ...func(*bedrockruntime.Options)) (*bedrockruntime.InvokeModelOutput, error) {
	var req struct {
		Texts     []string `json:"texts"`
		InputType string   `json:"input_type"`
	}
	if err := json.Unmarshal(in.Body, &req); err != nil {
		return nil, err
	}
	fmt.Printf("request: %d texts, input_type %s\n", len(req.Texts), req.InputType)
	vecs := make([][]float32, len(req.Texts))
	for i := range vecs {
		vecs[i] = make([]float32, 1024)
	}
	body, _ := json.Marshal(map[string]any{"embeddings": vecs, "response_type": "embeddings_floats"})
	return &bedrockruntime.InvokeModelOutput{Body: body}, nil
}

func ExampleCohereEmbedder() {
	emb, err := bedrockkit.NewCohereEmbedder(offlineCohere{}, bedrockkit.CohereOptions{
		ModelID:     bedrockkit.CohereEmbedMultilingualV3,
		Concurrency: 1, // one batch at a time, so the output order is fixed
	})
	if err != nil {
		panic(err)
	}
	docs := make([]string, 100)
	for i := range docs {
		docs[i] = fmt.Sprintf("document %d", i)
	}
	vecs, err := emb.Embed(context.Background(), docs, bedrockkit.PurposeDocument)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(vecs), "document vectors")
	q, err := emb.Embed(context.Background(), []string{"which document?"}, bedrockkit.PurposeQuery)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(q), "query vector of", len(q[0]), "floats")
	// Output:
	// request: 96 texts, input_type search_document
	// request: 4 texts, input_type search_document
	// 100 document vectors
	// request: 1 texts, input_type search_query
	// 1 query vector of 1024 floats
}
