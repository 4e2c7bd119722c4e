package agent_test

import (
	"context"
	"encoding/json"

	"github.com/bedrockkit/bedrockkit"
)

type contextT = context.Context

func noop(ctx context.Context, in json.RawMessage) ([]bedrockkit.Part, error) { return nil, nil }
