// Package jsonschema derives JSON Schemas from Go types and validates JSON
// values against schemas, for the packages of this module that need either:
// agent tools (arguments derived from a typed function's input) and
// structured output in the root package (a reply derived from a Go type).
//
// Derivation follows encoding/json (see Derive). Validation uses
// github.com/santhosh-tekuri/jsonschema/v6 with draft 2020-12 as the default
// draft, never loads a schema from a URL or a file (a "$ref" outside the
// schema fails to compile), and reports each violation with the JSON Pointer
// of the value that broke it.
package jsonschema
