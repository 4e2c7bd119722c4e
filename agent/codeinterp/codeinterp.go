package codeinterp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

// Language is a programming language an Interpreter runs.
type Language string

// Languages the interpreters in this module run. The local interpreter runs
// JavaScript only; AgentCore Code Interpreter runs all three.
const (
	JavaScript Language = "javascript"
	Python     Language = "python"
	TypeScript Language = "typescript"
)

// Interpreter starts sandboxes: isolated sessions that run code and keep
// their state (variables, files) from one Execute to the next.
// Implementations are safe for concurrent use.
type Interpreter interface {
	// Start opens a new sandbox. The caller must Close it.
	Start(ctx context.Context) (Sandbox, error)
	// Language is the language Execute runs by default.
	Language() Language
}

// Sandbox is one interpreter session. Its methods may be called from several
// goroutines, but executions run one at a time, in call order.
type Sandbox interface {
	// ID identifies the session (AgentCore's sessionId for a remote one).
	ID() string
	// Execute runs code. A program that throws or exits with an error is a
	// normal outcome: the returned Execution has Error set and err is nil.
	// err is for calls that could not complete: a limit was reached (an
	// error wrapping ErrLimitExceeded, returned with the partial Execution),
	// ctx ended, the sandbox is closed (ErrClosed) or the service failed.
	Execute(ctx context.Context, code string) (*Execution, error)
	// WriteFiles creates or replaces files in the sandbox's file space.
	WriteFiles(ctx context.Context, files ...File) error
	// ReadFiles returns the named files; a missing one is an error wrapping
	// bedrockkit.ErrNotFound.
	ReadFiles(ctx context.Context, paths ...string) ([]File, error)
	// ListFiles lists the files in the sandbox's file space.
	ListFiles(ctx context.Context) ([]FileInfo, error)
	// Close ends the session and releases its resources. Later calls fail
	// with ErrClosed; calling Close again does nothing.
	Close(ctx context.Context) error
}

// File is a file in a sandbox's file space. Paths are relative to the
// sandbox's working directory ("transactions.csv", "out/report.md").
type File struct {
	Path    string
	Content []byte
}

// FileInfo describes a file in a sandbox.
type FileInfo struct {
	Path string
	Size int64
}

// Execution is the outcome of one Execute.
type Execution struct {
	// Stdout and Stderr are what the program printed (console.log and
	// console.error for JavaScript), cut at the output limit.
	Stdout string
	Stderr string
	// Value is the value of the program's last expression as JSON, when it
	// has one that JSON can represent; otherwise nil. Remote interpreters
	// leave it nil: their programs print their results.
	Value []byte
	// Error is the program's own failure (an uncaught exception, a syntax
	// error, a non-zero exit), with its location when known; empty on
	// success.
	Error string
	// Files lists the files the program created or changed.
	Files []FileInfo
	// Truncated reports that output was cut at the output limit.
	Truncated bool
	// Duration is how long the execution took.
	Duration time.Duration
}

// OK reports whether the program ran to the end without an error.
func (e *Execution) OK() bool { return e != nil && e.Error == "" }

var (
	// ErrLimitExceeded: an execution reached one of its limits (time, CPU,
	// memory, output, sizes of built-in operations) and was stopped. The
	// error is a *LimitError saying which limit and what to do.
	ErrLimitExceeded = errors.New("codeinterp: limit exceeded")
	// ErrClosed: the sandbox was closed or expired. Start a new one.
	ErrClosed = errors.New("codeinterp: sandbox is closed")
	// ErrBusy: the pool holds its maximum number of sandboxes and all of
	// them are running code. Retry later or raise PoolOptions.MaxSandboxes.
	ErrBusy = fmt.Errorf("codeinterp: every sandbox is busy: %w", bedrockkit.ErrQuotaExceeded)
)

// Limit names a limit an execution can reach.
type Limit string

// The limits of an execution.
const (
	LimitTime   Limit = "time"   // wall-clock time of one execution
	LimitCPU    Limit = "cpu"    // CPU time of one execution
	LimitMemory Limit = "memory" // memory an execution may allocate
	LimitOutput Limit = "output" // bytes printed by one execution
	LimitSize   Limit = "size"   // a single string, array, file or operation too large
	LimitStack  Limit = "stack"  // call depth (runaway recursion)
)

// LimitError is an execution stopped at a limit. It wraps ErrLimitExceeded.
// After a time, CPU, memory or stack limit the local sandbox discards its
// variables (its files are kept), since the program may have left them in
// any state.
type LimitError struct {
	Limit Limit
	// Detail says what was exceeded and what to do, in words a model can
	// act on.
	Detail string
}

// Error says which limit and what to do.
func (e *LimitError) Error() string {
	return fmt.Sprintf("codeinterp: %s limit exceeded: %s", e.Limit, e.Detail)
}

// Unwrap returns ErrLimitExceeded.
func (e *LimitError) Unwrap() error { return ErrLimitExceeded }
