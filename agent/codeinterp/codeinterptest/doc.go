// Package codeinterptest holds the test material for code interpreters:
// Attacks, the escape and exhaustion attempts a sandbox must survive, and
// Tasks, typical data tasks with reference programs in JavaScript and
// Python written the way models write them and their expected answers.
// The local interpreter's tests and `go run ./internal/cmd/evaluate
// codeinterp` both use them.
package codeinterptest
