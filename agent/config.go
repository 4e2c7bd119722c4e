package agent

import "time"

// Limits bound a run. The zero value gives the defaults.
type Limits struct {
	// MaxIterations is the most model calls in one turn; 0 means 10.
	MaxIterations int
	// MaxToolRetries is how many invalid tool calls (unknown tool, bad JSON,
	// schema violation) the model may make in one turn before the run fails
	// with ErrTooManyInvalidCalls; 0 means 3, a negative value means none.
	MaxToolRetries int
	// ToolTimeout bounds each tool run unless the tool sets its own; 0 means
	// none. A tool still running at its deadline is told through its context;
	// one that does not return within AbandonGrace after that is abandoned
	// (see Tool.Abandoned): the model gets a timeout error result and the run
	// goes on. Cancelling the run abandons a stuck tool the same way.
	ToolTimeout time.Duration
	// Parallelism is how many tool calls of one model turn run at once; 0 means 4.
	Parallelism int
	// MaxTokens caps the tokens (Usage.Total) one turn may use across its
	// model calls; 0 means no cap. Exceeding it ends the run with an error
	// wrapping bedrockkit.ErrBudgetExceeded.
	MaxTokens int
}

func (l Limits) withDefaults() Limits {
	if l.MaxIterations <= 0 {
		l.MaxIterations = 10
	}
	if l.MaxToolRetries == 0 {
		l.MaxToolRetries = 3
	} else if l.MaxToolRetries < 0 {
		l.MaxToolRetries = 0
	}
	if l.Parallelism <= 0 {
		l.Parallelism = 4
	}
	return l
}

// Inference holds the model parameters copied into every request.
type Inference struct {
	MaxTokens     int
	Temperature   *float32
	TopP          *float32
	StopSequences []string
	Extra         map[string]any
}
