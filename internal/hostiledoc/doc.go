// Package hostiledoc writes small documents built to make parsers use
// unbounded memory or time: PDFs whose cross-reference tables claim
// billions of objects, object streams that extend themselves, content
// streams that inflate to gigabytes, DOCX files of deeply nested or
// countless elements, zip bombs, JSON whose flattened key paths explode,
// CSV records of millions of fields. Tests of the loaders, and the
// hostile-sync check CI runs under an address-space limit, use them.
//
// Each generator is deterministic and returns the file's bytes; none is
// larger than a few hundred kilobytes.
package hostiledoc
