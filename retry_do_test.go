package bedrockkit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

func TestRetryPolicyDo(t *testing.T) {
	fast := bedrockkit.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Microsecond, MaxDelay: time.Microsecond}
	t.Run("retries retryable errors until success", func(t *testing.T) {
		calls := 0
		err := fast.Do(context.Background(), func(context.Context) error {
			if calls++; calls < 3 {
				return fmt.Errorf("embed: %w", bedrockkit.ErrThrottled)
			}
			return nil
		})
		if err != nil || calls != 3 {
			t.Fatalf("err = %v after %d calls; want nil after 3", err, calls)
		}
	})
	t.Run("stops at MaxAttempts with the last error", func(t *testing.T) {
		calls := 0
		err := fast.Do(context.Background(), func(context.Context) error {
			calls++
			return bedrockkit.ErrThrottled
		})
		if !errors.Is(err, bedrockkit.ErrThrottled) || calls != 4 {
			t.Fatalf("err = %v after %d calls; want ErrThrottled after 4", err, calls)
		}
	})
	t.Run("does not retry other errors", func(t *testing.T) {
		calls := 0
		err := fast.Do(context.Background(), func(context.Context) error {
			calls++
			return bedrockkit.ErrInvalidInput
		})
		if !errors.Is(err, bedrockkit.ErrInvalidInput) || calls != 1 {
			t.Fatalf("err = %v after %d calls; want ErrInvalidInput after 1", err, calls)
		}
	})
	t.Run("never waits past the deadline", func(t *testing.T) {
		slow := bedrockkit.RetryPolicy{BaseDelay: time.Hour, MaxDelay: time.Hour}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		calls := 0
		err := slow.Do(ctx, func(context.Context) error {
			calls++
			return bedrockkit.ErrThrottled
		})
		// A wait of at least 6 minutes (a tenth of an hour) would pass the
		// deadline, so the first error comes back without waiting.
		if !errors.Is(err, bedrockkit.ErrThrottled) || calls != 1 {
			t.Fatalf("err = %v after %d calls; want ErrThrottled after 1", err, calls)
		}
	})
	t.Run("a cancelled context ends the retries with its error", func(t *testing.T) {
		slow := bedrockkit.RetryPolicy{BaseDelay: time.Hour, MaxDelay: time.Hour}
		ctx, cancel := context.WithCancel(context.Background())
		err := slow.Do(ctx, func(context.Context) error {
			cancel() // the caller gives up during the call; Do must not wait an hour
			return bedrockkit.ErrThrottled
		})
		if !errors.Is(err, context.Canceled) || bedrockkit.IsRetryable(err) {
			t.Fatalf("err = %v; want context.Canceled, not retryable", err)
		}
	})
}
