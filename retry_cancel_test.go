package bedrockkit

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

type alwaysThrottled struct{}

func (alwaysThrottled) Converse(context.Context, *bedrockruntime.ConverseInput, ...func(*bedrockruntime.Options)) (*bedrockruntime.ConverseOutput, error) {
	msg := "slow down"
	return nil, &types.ThrottlingException{Message: &msg}
}

func (alwaysThrottled) ConverseStream(context.Context, *bedrockruntime.ConverseStreamInput, ...func(*bedrockruntime.Options)) (*bedrockruntime.ConverseStreamOutput, error) {
	msg := "slow down"
	return nil, &types.ThrottlingException{Message: &msg}
}

// TestCancelDuringBackoffIsCancellation: a caller who cancels while the
// adapter waits to retry gets context.Canceled, not the last retryable error
// (which an outer loop would retry).
func TestCancelDuringBackoffIsCancellation(t *testing.T) {
	m, err := NewConverseModel(alwaysThrottled{}, "amazon.nova-lite-v1:0", ConverseOptions{Retry: RetryPolicy{BaseDelay: 10 * time.Second, MaxDelay: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = m.Generate(ctx, &Request{Messages: []Message{UserText("hi")}})
	if !errors.Is(err, context.Canceled) || IsRetryable(err) {
		t.Fatalf("err = %v (retryable %v); want context.Canceled, not retryable", err, IsRetryable(err))
	}
}

// TestTruncatedBodyIsRetryable: a connection dropped mid-body is transient.
func TestTruncatedBodyIsRetryable(t *testing.T) {
	err := classifyStream(errors.Join(errors.New("deserialization failed"), io.ErrUnexpectedEOF))
	if !IsRetryable(err) || errors.Is(err, ErrMalformedStream) {
		t.Fatalf("truncated body classified as %v", err)
	}
}
