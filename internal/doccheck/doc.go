// Package doccheck holds a test that enforces documentation on the public
// API: every package of the module that users can import (not internal, not
// a command, not an example) must have a package doc comment, and every
// exported type, function, method, constant and variable must have a doc
// comment, so `go doc` never shows an undocumented name.
//
// Run it with
//
//	go test ./internal/doccheck
//
// It reads the source with go/parser and go/doc from the standard library;
// it has no exported API of its own.
package doccheck
