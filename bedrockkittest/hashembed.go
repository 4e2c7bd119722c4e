package bedrockkittest

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode"

	"github.com/bedrockkit/bedrockkit"
)

// HashEmbedder is a deterministic bedrockkit.Embedder for tests and offline
// development. It needs no model: each text is turned into features — its
// lower-cased words, pairs of adjacent words, and the character 3-grams of
// each word padded with boundary markers — which are hashed with 64-bit
// FNV-1a into Dimensions() buckets with a hash-derived sign, then
// L2-normalised.
//
// The same text always gives the same vector, in every process and on every
// platform. Texts that share words or word pieces get a high cosine
// similarity; unrelated texts get a similarity near zero. Words are maximal
// runs of Unicode letters, digits and marks, so any script works.
//
// Vectors always have unit length. A text with no letters or digits is
// embedded from its other non-space characters; a text with no non-space
// character at all (the empty string, white space) embeds to one fixed unit
// vector shared by all such texts.
//
// The purpose (document or query) is ignored: the embedding is symmetric.
// HashEmbedder is safe for concurrent use. Its zero value is not usable;
// call NewHashEmbedder.
type HashEmbedder struct {
	dims int
}

var _ bedrockkit.Embedder = (*HashEmbedder)(nil)

// NewHashEmbedder returns an embedder producing vectors of dims floats. It
// panics if dims <= 0, like httptest.NewServer panics on a setup error: a
// test kit's constructor is only ever misused by the test's own code.
func NewHashEmbedder(dims int) *HashEmbedder {
	if dims <= 0 {
		panic(fmt.Sprintf("bedrockkittest: NewHashEmbedder(%d): dims must be > 0", dims))
	}
	return &HashEmbedder{dims: dims}
}

// Dimensions returns the length of the vectors.
func (e *HashEmbedder) Dimensions() int { return e.dims }

// Embed returns one unit vector per text, in order. purpose is ignored.
func (e *HashEmbedder) Embed(ctx context.Context, texts []string, _ bedrockkit.Purpose) ([][]float32, error) {
	if e == nil || e.dims <= 0 {
		return nil, fmt.Errorf("bedrockkittest: HashEmbedder has no dimensions; create it with NewHashEmbedder: %w", bedrockkit.ErrInvalidInput)
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = e.Vector(t)
	}
	return out, nil
}

// Feature weights: whole words count most, word pairs add order, character
// 3-grams give partial credit to inflections and typos.
const (
	weightWord    = 1.0
	weightBigram  = 0.7
	weightTrigram = 0.35
	weightSymbol  = 1.0
)

// Vector returns the embedding of one text.
func (e *HashEmbedder) Vector(text string) []float32 {
	acc := make([]float64, e.dims)
	words := splitWords(text)
	for i, w := range words {
		e.add(acc, "w\x00"+w, weightWord)
		if i > 0 {
			e.add(acc, "b\x00"+words[i-1]+"\x00"+w, weightBigram)
		}
		rs := []rune("\x02" + w + "\x03")
		for j := 0; j+3 <= len(rs); j++ {
			e.add(acc, "c\x00"+string(rs[j:j+3]), weightTrigram)
		}
	}
	if len(words) == 0 {
		for _, r := range strings.ToLower(text) {
			if !unicode.IsSpace(r) {
				e.add(acc, "s\x00"+string(r), weightSymbol)
			}
		}
	}
	var norm float64
	for _, v := range acc {
		norm += v * v
	}
	if norm == 0 {
		// Empty text, or features that cancelled out exactly.
		e.add(acc, "empty\x00", 1)
		norm = 1
	}
	norm = math.Sqrt(norm)
	out := make([]float32, e.dims)
	for i, v := range acc {
		out[i] = float32(v / norm)
	}
	return out
}

// add hashes feature into acc with weight w and a sign from the hash.
func (e *HashEmbedder) add(acc []float64, feature string, w float64) {
	h := fnv1a(feature)
	idx := (h & 0x7fffffffffffffff) % uint64(e.dims)
	if h>>63 == 1 {
		w = -w
	}
	acc[idx] += w
}

// fnv1a is 64-bit FNV-1a; fixed constants make vectors stable everywhere.
func fnv1a(s string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return h
}

// splitWords returns the lower-cased runs of letters, digits and marks.
func splitWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
	})
}
