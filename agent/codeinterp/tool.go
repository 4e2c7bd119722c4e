package codeinterp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
)

// ToolOptions configure NewTool. The zero value gives the defaults.
type ToolOptions struct {
	// Name is the tool's name; "" means "run_code".
	Name string
	// Description replaces the default description, which tells the model
	// what the language offers, how to read files and return results, and
	// the limits.
	Description string
	// MaxFileBytes is the largest changed file whose content is returned in
	// the result (text files only); 0 means 4 KiB, a negative value none.
	MaxFileBytes int
}

// CodeInput is the tool's input: the program to run.
type CodeInput struct {
	Code string `json:"code" description:"the complete program to run; print results, or end with an expression whose value is the result" jsonschema:"minLength=1"`
}

// CodeOutput is the tool's result as the model sees it (JSON).
type CodeOutput struct {
	// Status is "ok", "error" (the program failed; see Error) or "limit"
	// (it was stopped at a limit; see Error).
	Status string `json:"status"`
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
	// Value is the last expression's value, as JSON.
	Value json.RawMessage `json:"value,omitempty"`
	Error string          `json:"error,omitempty"`
	// Files lists the files the program created or changed, with the
	// content of small text files.
	Files     []CodeFile `json:"files,omitempty"`
	Truncated bool       `json:"truncated,omitempty"`
}

// CodeFile is a file in a CodeOutput.
type CodeFile struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	Content string `json:"content,omitempty"`
}

// NewTool returns an agent tool that runs the model's code in the pool's
// sandboxes: one sandbox per agent session (agent.CallInfo.SessionID; calls
// made outside a run share the key ""), so variables and files persist
// across the calls of a conversation. Its result is a CodeOutput as JSON.
//
// A program's own failure and a limit are results the model sees (status
// "error" or "limit") so it can correct its code; the tool returns an error
// only when the sandbox could not run the call (pool full, sandbox closed,
// context ended, service failure).
//
// The error wraps agent.ErrInvalidTool when opts.Name breaks Bedrock's rule
// for tool names.
func NewTool(p *Pool, opts ToolOptions) (*agent.Tool, error) {
	if opts.Name == "" {
		opts.Name = "run_code"
	}
	if opts.Description == "" {
		opts.Description = Describe(p.Interpreter())
	}
	if opts.MaxFileBytes == 0 {
		opts.MaxFileBytes = 4 << 10
	}
	return agent.NewFuncTool(opts.Name, opts.Description, func(ctx context.Context, in CodeInput) ([]bedrockkit.Part, error) {
		if strings.TrimSpace(in.Code) == "" {
			return nil, fmt.Errorf("codeinterp: the code is empty: send the program to run in \"code\": %w", bedrockkit.ErrInvalidInput)
		}
		key := ""
		if ci, ok := agent.CallInfoFrom(ctx); ok {
			key = ci.SessionID
		}
		sb, err := p.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		out, err := Run(ctx, sb, in.Code, opts.MaxFileBytes)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, err
		}
		return []bedrockkit.Part{bedrockkit.JSON{Value: b}}, nil
	})
}

// Run executes code in sb and shapes the outcome as the tool's result:
// limits and program failures become a CodeOutput with status "limit" or
// "error"; other failures are returned as errors. Changed text files up to
// maxFileBytes are included with their content (none when maxFileBytes < 0).
func Run(ctx context.Context, sb Sandbox, code string, maxFileBytes int) (*CodeOutput, error) {
	ex, err := sb.Execute(ctx, code)
	var le *LimitError
	if err != nil && !errors.As(err, &le) {
		return nil, err
	}
	out := &CodeOutput{Status: "ok"}
	if ex != nil {
		out.Stdout, out.Stderr, out.Value, out.Truncated = ex.Stdout, ex.Stderr, json.RawMessage(ex.Value), ex.Truncated
		if ex.Error != "" {
			out.Status, out.Error = "error", ex.Error
		}
		for _, f := range ex.Files {
			cf := CodeFile{Path: f.Path, Size: f.Size}
			if maxFileBytes > 0 && f.Size <= int64(maxFileBytes) {
				if got, err := sb.ReadFiles(ctx, f.Path); err == nil && len(got) == 1 && isText(got[0].Content) {
					cf.Content = string(got[0].Content)
				}
			}
			out.Files = append(out.Files, cf)
		}
	}
	if le != nil {
		out.Status, out.Error = "limit", le.Error()
	}
	if len(out.Value) > 0 && !json.Valid(out.Value) {
		out.Value = nil
	}
	return out, nil
}

func isText(b []byte) bool {
	return !strings.ContainsRune(string(b), 0) && strings.ToValidUTF8(string(b), "") == string(b)
}

// Describe returns the default tool description for an interpreter: what
// its language offers, how to use files and return results, and its limits.
func Describe(interp Interpreter) string {
	if l, ok := interp.(*Local); ok {
		o := l.Options()
		return fmt.Sprintf(`Runs JavaScript in a sandbox. Use it for any arithmetic or data work — totals, averages, percentages, grouping, sorting, dates, parsing CSV or JSON — instead of computing in your head.
Language: modern JavaScript (ES2023: let/const, arrow functions, classes, destructuring, spread, template literals, Map/Set, optional chaining, async/await), with Math, JSON, Date (always UTC), RegExp, Intl.NumberFormat and toLocaleString for en-US number and currency formatting, Object.groupBy and structuredClone. Not available: network (fetch), npm packages, eval, typed arrays; timers do not exist.
Results: print with console.log (console.table for tables); the value of the last expression is returned as JSON too. Print only what you need; output is cut at %d KiB.
State: variables and files persist between calls in this conversation. Files: readFile(path) and writeFile(path, text), or require('fs').readFileSync(path, 'utf8') / writeFileSync(path, text); listFiles() lists them. Files you write are returned with the result.
Limits per call: %s, %d MiB of memory, call depth %d.`, o.MaxOutput>>10, o.Timeout, o.MemoryLimit>>20, o.MaxCallDepth)
	}
	switch interp.Language() {
	case Python:
		return `Runs Python 3 in a sandboxed session (Amazon Bedrock AgentCore Code Interpreter). Use it for any arithmetic or data work — totals, averages, percentages, grouping, sorting, dates, parsing CSV or JSON — instead of computing in your head.
The standard library and common data packages (pandas, numpy) are available. Print every result you need with print(); only printed output is returned.
State: variables and files persist between calls in this conversation; files are in the working directory (open('data.csv')). Files you write are listed in the result.`
	case TypeScript:
		return `Runs TypeScript in a sandboxed session. Use it for any arithmetic or data work instead of computing in your head. Print every result with console.log; only printed output is returned. Variables and files persist between calls in this conversation.`
	}
	return `Runs JavaScript in a sandboxed session. Use it for any arithmetic or data work instead of computing in your head. Print every result with console.log; only printed output is returned. Variables and files persist between calls in this conversation.`
}
