// Package codeinterp gives agents a code interpreter: a sandbox where the
// model's programs compute totals, ratios, tables and dates exactly, instead
// of the model guessing at arithmetic.
//
// One interface, two implementations:
//
//   - Local (NewLocal) runs JavaScript in-process with the pure-Go engine
//     goja: no cgo, no external binaries, no network, no host files, no
//     environment, dates in UTC, and every execution bounded in wall-clock
//     time, CPU time, memory, output and the size of built-in operations.
//   - The agentcore sub-package runs Python, JavaScript or TypeScript
//     remotely in Amazon Bedrock AgentCore Code Interpreter sessions.
//
// An Interpreter starts Sandboxes. A Sandbox keeps its variables and files
// from one Execute to the next; the caller puts files in with WriteFiles
// (a CSV of transactions, say) and takes results out with ReadFiles. A Pool
// keeps one sandbox per agent session and closes idle ones, and NewTool
// turns a Pool into an agent tool whose description tells the model what the
// language offers and whose result is structured JSON (CodeOutput: status,
// stdout, stderr, the last expression's value, the files written).
//
// A program's own failure (an exception, a syntax error) is a normal
// Execution with Error set; reaching a limit ends the call with a
// *LimitError (errors.Is ErrLimitExceeded) returned with what the program
// printed before it was stopped. Package codeinterptest holds the
// adversarial programs every local sandbox must survive and the task set
// `go run ./internal/cmd/evaluate codeinterp` scores.
package codeinterp
