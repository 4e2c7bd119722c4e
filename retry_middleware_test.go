package bedrockkit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

var mwRetry = bedrockkit.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond}

func TestRetryMiddlewareGenerate(t *testing.T) {
	throttled := fmt.Errorf("provider said slow down: %w", bedrockkit.ErrThrottled)
	tests := []struct {
		name      string
		steps     []bedrockkittest.Step
		wantCalls int
		wantErr   error
	}{
		{"retryable then ok", []bedrockkittest.Step{{Err: throttled}, bedrockkittest.TextStep("hi")}, 2, nil},
		{"gives up after MaxAttempts", []bedrockkittest.Step{{Err: throttled}, {Err: throttled}, {Err: throttled}, bedrockkittest.TextStep("late")}, 3, bedrockkit.ErrThrottled},
		{"not retryable", []bedrockkittest.Step{{Err: bedrockkit.ErrValidation}, bedrockkittest.TextStep("never")}, 1, bedrockkit.ErrValidation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inner := bedrockkittest.NewScriptedModel(tc.steps...)
			m := bedrockkit.Chain(inner, mwRetry.Middleware())
			resp, err := m.Generate(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hello")}})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && resp.Message.Text() != "hi" {
				t.Fatalf("text %q", resp.Message.Text())
			}
			if inner.Calls() != tc.wantCalls {
				t.Fatalf("calls = %d, want %d", inner.Calls(), tc.wantCalls)
			}
		})
	}
}

func TestRetryMiddlewareStream(t *testing.T) {
	throttled := fmt.Errorf("slow down: %w", bedrockkit.ErrThrottled)
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hello")}}

	// Failing before any event: retried, and the caller sees one clean stream.
	inner := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Err: throttled}, bedrockkittest.TextStep("hello there"))
	resp, err := bedrockkit.Collect(mwRetry.Middleware()(inner).Stream(context.Background(), req))
	if err != nil || resp.Message.Text() != "hello there" || inner.Calls() != 2 {
		t.Fatalf("early failure: resp %q err %v calls %d", resp.Message.Text(), err, inner.Calls())
	}

	// Failing after text was yielded: never retried, the error reaches the caller.
	inner = bedrockkittest.NewScriptedModel(
		bedrockkittest.Step{Events: []bedrockkit.StreamEvent{bedrockkit.TextDelta{Text: "partial"}}, Err: throttled},
		bedrockkittest.TextStep("must not be used"),
	)
	resp, err = bedrockkit.Collect(mwRetry.Middleware()(inner).Stream(context.Background(), req))
	if !errors.Is(err, bedrockkit.ErrThrottled) || resp.Message.Text() != "partial" || inner.Calls() != 1 {
		t.Fatalf("late failure: resp %q err %v calls %d", resp.Message.Text(), err, inner.Calls())
	}

	// The caller breaking out early stops the stream without an error or retry.
	inner = bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("one two three four five six"))
	n := 0
	for _, err := range mwRetry.Middleware()(inner).Stream(context.Background(), req) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		break
	}
	if n != 1 || inner.Calls() != 1 {
		t.Fatalf("early break: %d events, %d calls", n, inner.Calls())
	}
}

func TestRetryMiddlewareHonoursCancel(t *testing.T) {
	throttled := fmt.Errorf("slow down: %w", bedrockkit.ErrThrottled)
	inner := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Err: throttled}, bedrockkittest.TextStep("late"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	slow := bedrockkit.RetryPolicy{MaxAttempts: 5, BaseDelay: time.Hour}
	_, err := slow.Middleware()(inner).Generate(ctx, &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("x")}})
	if err == nil {
		t.Fatal("want an error from a cancelled context")
	}
}
