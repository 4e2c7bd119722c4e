// Package tokenizer is an exact, offline byte-pair encoder for OpenAI's
// cl100k_base and o200k_base encodings.
//
// The pre-tokenizer regular expression of each encoding is hand-coded as a
// scanner (no regexp engine, no lookahead machinery) and the byte-pair merge
// runs on stack buffers with one hash lookup per candidate pair. Counts of
// short pre-tokens (frequent words and identifiers) are remembered in a
// small direct-mapped cache per goroutine, pooled by the Encoding, so
// counting allocates nothing in the steady state. Token counts equal tiktoken-go's on valid UTF-8 (this is
// checked by the tests and, on a 20 MB corpus, by `go run ./internal/cmd/bench
// chunk`).
//
// The merge ranks are the .tiktoken files published with OpenAI's tiktoken
// (MIT licence), read from the embedded copies in the
// github.com/pkoukk/tiktoken-go-loader module (MIT licence); nothing is
// fetched over the network. They are parsed on first use (tens of
// milliseconds).
//
// Invalid UTF-8: every invalid byte is treated as one "other" character and
// encoded as its raw byte. tiktoken-go instead replaces it by U+FFFD, so counts
// differ on invalid input; package chunk rejects invalid UTF-8 before counting.
package tokenizer
