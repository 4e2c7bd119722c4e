package agent

import (
	"fmt"

	"github.com/bedrockkit/bedrockkit"
)

// RunOptions are the settings of one Run, Stream or RunValue call, passed as
// an optional last argument; the zero value (or no argument) means none.
type RunOptions struct {
	// SessionAttributes are merged into the session's attributes, which
	// persist for the whole session and are passed to tools (CallInfo), not
	// to the model.
	SessionAttributes map[string]string
	// PromptAttributes hold for this turn only; they are shown to the model
	// in the system prompt (Bedrock's promptSessionAttributes).
	PromptAttributes map[string]string
}

// runOptions returns the one RunOptions of a call, or the zero value when
// there is none. More than one is a mistake the call refuses rather than
// silently dropping settings.
func runOptions(opts []RunOptions) (RunOptions, error) {
	switch len(opts) {
	case 0:
		return RunOptions{}, nil
	case 1:
		return opts[0], nil
	}
	return RunOptions{}, fmt.Errorf("agent: %d RunOptions passed; pass at most one (merge the settings into one struct): %w", len(opts), bedrockkit.ErrInvalidInput)
}
