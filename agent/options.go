package agent

// RunOption configures one Run or Stream.
type RunOption func(*runConfig)

type runConfig struct {
	sessionAttrs map[string]string
	promptAttrs  map[string]string
}

// WithSessionAttributes merges attrs into the session's attributes, which
// persist for the whole session and are passed to tools (CallInfo), not to
// the model.
func WithSessionAttributes(attrs map[string]string) RunOption {
	return func(c *runConfig) { c.sessionAttrs = attrs }
}

// WithPromptAttributes sets attributes for this turn only; they are shown to
// the model in the system prompt (Bedrock's promptSessionAttributes).
func WithPromptAttributes(attrs map[string]string) RunOption {
	return func(c *runConfig) { c.promptAttrs = attrs }
}
