package bedrockkittest

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

func invoke(t *testing.T, c *bedrockruntime.Client, model, body string) (*bedrockruntime.InvokeModelOutput, error) {
	t.Helper()
	return c.InvokeModel(context.Background(), &bedrockruntime.InvokeModelInput{
		ModelId: aws.String(model), Body: []byte(body),
		ContentType: aws.String("application/json"), Accept: aws.String("application/json"),
	})
}

func TestTitanEmbeddings(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	out, err := invoke(t, c, "amazon.titan-embed-text-v2:0", `{"inputText":"hello world","dimensions":256,"normalize":true,"embeddingTypes":["float","binary"]}`)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Embedding           []float32 `json:"embedding"`
		InputTextTokenCount int       `json:"inputTextTokenCount"`
		EmbeddingsByType    struct {
			Float  []float32 `json:"float"`
			Binary []int     `json:"binary"`
		} `json:"embeddingsByType"`
	}
	if err := json.Unmarshal(out.Body, &resp); err != nil {
		t.Fatal(err)
	}
	want := NewHashEmbedder(256).Vector("hello world")
	if len(resp.Embedding) != 256 || len(resp.EmbeddingsByType.Float) != 256 || len(resp.EmbeddingsByType.Binary) != 256 || resp.InputTextTokenCount <= 0 {
		t.Fatalf("lens %d %d %d tokens %d", len(resp.Embedding), len(resp.EmbeddingsByType.Float), len(resp.EmbeddingsByType.Binary), resp.InputTextTokenCount)
	}
	for i := range want {
		if resp.Embedding[i] != want[i] {
			t.Fatalf("embedding differs from HashEmbedder at %d", i)
		}
	}
	if *out.ContentType != "application/json" {
		t.Errorf("content type %q", *out.ContentType)
	}
	// Default dimensions, inference-profile-free ARN form.
	out, err = invoke(t, c, "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0", `{"inputText":"x"}`)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(out.Body, &resp)
	if len(resp.Embedding) != 1024 {
		t.Fatalf("default dims %d", len(resp.Embedding))
	}
}

func TestCohereEmbeddings(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	out, err := invoke(t, c, "cohere.embed-multilingual-v3", `{"texts":["a","b c"],"input_type":"search_document","truncate":"END"}`)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		ID           string      `json:"id"`
		Embeddings   [][]float32 `json:"embeddings"`
		Texts        []string    `json:"texts"`
		ResponseType string      `json:"response_type"`
	}
	if err := json.Unmarshal(out.Body, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.ResponseType != "embeddings_floats" || len(resp.Embeddings) != 2 || len(resp.Embeddings[0]) != 1024 || resp.ID == "" || resp.Texts[1] != "b c" {
		t.Fatalf("%+v", resp)
	}
	var n float64
	for _, x := range resp.Embeddings[1] {
		n += float64(x) * float64(x)
	}
	if math.Abs(n-1) > 1e-4 {
		t.Errorf("norm² %v", n)
	}
	out, err = invoke(t, c, "cohere.embed-english-v3", `{"texts":["a"],"input_type":"search_query","embedding_types":["float","int8","ubinary"]}`)
	if err != nil {
		t.Fatal(err)
	}
	var byType struct {
		Embeddings struct {
			Float   [][]float32 `json:"float"`
			Int8    [][]int     `json:"int8"`
			Ubinary [][]int     `json:"ubinary"`
		} `json:"embeddings"`
		ResponseType string `json:"response_type"`
	}
	if err := json.Unmarshal(out.Body, &byType); err != nil {
		t.Fatal(err)
	}
	if byType.ResponseType != "embeddings_by_type" || len(byType.Embeddings.Float[0]) != 1024 || len(byType.Embeddings.Int8[0]) != 1024 || len(byType.Embeddings.Ubinary[0]) != 128 {
		t.Fatalf("%+v", byType.ResponseType)
	}
}

func TestEmbeddingValidation(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	long := strings.Repeat("a", 2049)
	many := `["` + strings.Repeat(`x","`, 96) + `x"]`
	for _, tc := range []struct{ model, body, want string }{
		{"amazon.titan-embed-text-v2:0", `{}`, "required key [inputText] not found"},
		{"amazon.titan-embed-text-v2:0", `{"inputText":""}`, "expected minLength: 1"},
		{"amazon.titan-embed-text-v2:0", `{"inputText":"x","dimensions":128}`, "#/dimensions: 128 is not a valid enum value"},
		{"amazon.titan-embed-text-v2:0", `{"inputText":"x","input_type":"search_query"}`, "extraneous key [input_type]"},
		{"amazon.titan-embed-text-v2:0", `{"inputText":"` + strings.Repeat("a", 50001) + `"}`, "expected maxLength: 50000"},
		{"amazon.titan-embed-text-v2:0", `not json`, "Malformed input request"},
		{"cohere.embed-english-v3", `{"texts":["a"]}`, "required key [input_type] not found"},
		{"cohere.embed-english-v3", `{"texts":["a"],"input_type":"query"}`, "#/input_type: query is not a valid enum value"},
		{"cohere.embed-english-v3", `{"texts":` + many + `,"input_type":"search_query"}`, "expected maximum item count: 96, found: 97"},
		{"cohere.embed-english-v3", `{"texts":["ok","` + long + `"],"input_type":"search_query"}`, "#/texts/1: expected maxLength: 2048, actual: 2049"},
		{"cohere.embed-english-v3", `{"input_type":"search_query"}`, "required key [texts] not found"},
		{"meta.llama3-8b-instruct-v1:0", `{"prompt":"hi"}`, "no scripted reply for InvokeModel"},
	} {
		_, err := invoke(t, c, tc.model, tc.body)
		var ve *types.ValidationException
		if !errors.As(err, &ve) || !strings.Contains(ve.ErrorMessage(), tc.want) {
			t.Errorf("%s %.60s: err = %v, want ValidationException containing %q", tc.model, tc.body, err, tc.want)
		}
	}
	// 0 texts is allowed.
	if _, err := invoke(t, c, "cohere.embed-english-v3", `{"texts":[],"input_type":"clustering"}`); err != nil {
		t.Errorf("empty texts: %v", err)
	}
}

func TestInvokeModelScriptedBody(t *testing.T) {
	f := NewFakeBedrock(t)
	f.Enqueue(OpInvokeModel, Reply{Body: json.RawMessage(`{"generation":"hi"}`)})
	out, err := invoke(t, f.Client(), "meta.llama3-8b-instruct-v1:0", `{"prompt":"x"}`)
	if err != nil || string(out.Body) != `{"generation":"hi"}` {
		t.Fatalf("%s %v", out.Body, err)
	}
}

func FuzzEmbeddingRequests(f *testing.F) {
	f.Add(`{"inputText":"hello","dimensions":512}`, `{"texts":["a"],"input_type":"search_document"}`)
	f.Add(`{"inputText":5}`, `{"texts":"a","input_type":1}`)
	f.Add(`[]`, `{"texts":["a"],"input_type":"clustering","embedding_types":["binary","uint8"]}`)
	f.Fuzz(func(t *testing.T, titan, cohere string) {
		if out, _, fault := titanEmbed([]byte(titan)); fault == nil && !json.Valid(out) {
			t.Fatalf("titan answered invalid JSON for %q", titan)
		}
		if out, _, fault := cohereEmbed([]byte(cohere), 1); fault == nil && !json.Valid(out) {
			t.Fatalf("cohere answered invalid JSON for %q", cohere)
		}
	})
}
