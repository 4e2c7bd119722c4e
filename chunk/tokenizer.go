package chunk

import (
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit/internal/tokenizer"
)

// Tokenizer counts the tokens of a text. Chunk sizes are measured with it.
//
// The exact CL100K and O200K counters are OpenAI's encodings, which are also
// what most open-source embedding pipelines use as a stand-in. Bedrock's own
// models tokenize differently — Amazon Titan and Anthropic Claude each have
// their own tokenizer, and Bedrock does not publish Titan's — so a Bedrock
// count can differ by several percent from cl100k's. If you need a model's
// exact count, implement Tokenizer with it and set it on the strategy.
//
// Count must be safe for concurrent use.
type Tokenizer interface {
	Count(text string) int
}

type bpe struct{ enc *tokenizer.Encoding }

func (b bpe) Count(text string) int { return b.enc.Count(text) }

// CL100K returns the exact cl100k_base counter (GPT-3.5/GPT-4 and OpenAI's
// text-embedding-3 models). The merge ranks are compiled into the binary and
// parsed on first use; no network is used. It is the default Tokenizer of
// every strategy.
func CL100K() Tokenizer { return bpe{tokenizer.CL100K()} }

// O200K returns the exact o200k_base counter (GPT-4o and later).
func O200K() Tokenizer { return bpe{tokenizer.O200K()} }

// Characters counts Unicode code points, like langchaingo's default length
// function; use it to size chunks in characters rather than tokens.
var Characters Tokenizer = characters{}

type characters struct{}

func (characters) Count(text string) int { return utf8.RuneCountInString(text) }

// Estimate is a cheap approximate token counter: one token per word-like run
// of up to four letters or digits, plus one per other non-space character,
// with spaces free. It reads each byte once and allocates nothing. Its error
// against exact cl100k_base counts is measured by `go run
// ./internal/cmd/bench chunk` (see the package documentation); use it when
// speed matters more than exact chunk sizes.
var Estimate Tokenizer = estimator{}

type estimator struct{}

func (estimator) Count(text string) int {
	n, word := 0, 0
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
				if word%4 == 0 {
					n++
				}
				word++
				continue
			case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			default:
				n++
			}
			word = 0
			continue
		}
		_, w := utf8.DecodeRuneInString(text[i:])
		i += w
		n++ // most non-ASCII characters are one token or more
		word = 0
	}
	return n
}

func encodingOf(t Tokenizer) *tokenizer.Encoding {
	if b, ok := t.(bpe); ok {
		return b.enc
	}
	return nil
}
