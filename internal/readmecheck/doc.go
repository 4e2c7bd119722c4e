// Package readmecheck holds the test that compiles and runs every Go program
// in the repository's README.md, so the README never shows code that does not
// build or does not do what it says. It has no API.
package readmecheck
