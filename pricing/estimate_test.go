package pricing_test

import (
	"os"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// TestEstimatorError measures the default estimator (and chunk.Estimate)
// against exact cl100k_base counts on a few kinds of text. cl100k is a
// stand-in: Claude, Nova and Titan tokenize differently and no offline source
// of their real counts exists here, so this bounds the estimator's error
// against one real tokenizer, not against Bedrock's billing.
func TestEstimatorError(t *testing.T) {
	goSrc, err := os.ReadFile("meter.go")
	if err != nil {
		t.Fatal(err)
	}
	jsonSrc, err := os.ReadFile("prices.json")
	if err != nil {
		t.Fatal(err)
	}
	prose := strings.Join(pricing.Default().Notes(), " ")
	for _, r := range pricing.Default().Rows() {
		prose += " " + r.Note
	}
	cjk := strings.Repeat("料金は入力トークンと出力トークンごとに課金されます。予算を超える前に停止します。", 20)
	exact := chunk.CL100K()
	cases := []struct {
		name string
		text string
		// bound on |EstimateBytes/cl100k - 1| that the default must meet
		maxErr float64
	}{
		{"english prose", prose, 0.35},
		{"go source", string(goSrc), 0.50},
		{"json", string(jsonSrc), 0.50},
		{"japanese", cjk, 0.35},
	}
	for _, tc := range cases {
		want := exact.Count(tc.text)
		byBytes := pricing.EstimateBytes(tc.text)
		byChunk := pricing.Estimator(chunk.Estimate.Count)(tc.text)
		errBytes := float64(byBytes)/float64(want) - 1
		errChunk := float64(byChunk)/float64(want) - 1
		t.Logf("%-13s cl100k %6d  EstimateBytes %6d (%+.0f%%)  chunk.Estimate %6d (%+.0f%%)", tc.name, want, byBytes, 100*errBytes, byChunk, 100*errChunk)
		if errBytes > tc.maxErr || errBytes < -tc.maxErr {
			t.Errorf("%s: EstimateBytes off by %+.0f%%, documented bound %.0f%%", tc.name, 100*errBytes, 100*tc.maxErr)
		}
	}
	// A request estimate is at least the sum of its texts.
	req := &bedrockkit.Request{System: []bedrockkit.Part{bedrockkit.Text{Text: prose}}, Messages: []bedrockkit.Message{bedrockkit.UserText(cjk)}}
	if got, min := pricing.EstimateRequest(req, exact.Count), exact.Count(prose)+exact.Count(cjk); got < min {
		t.Fatalf("EstimateRequest %d < %d", got, min)
	}
}
