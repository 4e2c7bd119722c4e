// Package classify is a logistic-regression text classifier over hashed word
// and character n-grams. The same Features function is used by the training
// program (./train, run through go generate) and at run time, so a model file
// always sees the features it was trained on.
package classify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"
)

// Bits is the log2 of the number of hash buckets.
const Bits = 18

// Dim is the number of hash buckets.
const Dim = 1 << Bits

// Feature is one hashed feature with its value.
type Feature struct {
	Index uint32
	Value float32
}

func fnv(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

const fnvBasis = 2166136261

// Features returns hashed features of already-folded text: word unigrams and
// bigrams, and character 3- to 5-grams of each padded word. Repeated n-grams
// appear repeatedly (no map, for speed); the vector is scaled to unit L2 norm
// as if every occurrence were its own dimension, the same in training and use.
func Features(text string) []Feature {
	return AppendFeatures(make([]Feature, 0, len(text)*3), text)
}

// Hash prefixes of the three feature kinds.
var (
	wordBasis   = fnv(fnvBasis, "w:")
	bigramBasis = fnv(fnvBasis, "b:")
	charBasis   = fnv(fnvBasis, "c:")
)

// AppendFeatures appends the features of text to dst (see Features) and
// returns the extended slice; the appended part is normalised on its own.
func AppendFeatures(dst []Feature, text string) []Feature {
	from := len(dst)
	out := dst
	prev := ""
	var idx [48]int
	var pad [42]byte    // " " + word (at most 40 bytes) + " "
	var h [3][48]uint32 // n-gram hashes of one word by length and start
	for rest := text; ; {
		var w string
		if w, rest = nextField(rest); w == "" {
			break
		}
		w = trimPunct(w)
		if w == "" {
			continue
		}
		out = append(out, Feature{fnv(wordBasis, w) & (Dim - 1), 1})
		if prev != "" {
			out = append(out, Feature{fnv(fnv(fnv(bigramBasis, prev), " "), w) & (Dim - 1), 1})
		}
		prev = w
		if len(w) > 40 {
			w = w[:40]
			for len(w) > 0 && !utf8.ValidString(w) {
				w = w[:len(w)-1]
			}
		}
		pad[0] = ' '
		copy(pad[1:], w)
		pad[len(w)+1] = ' '
		p := pad[:len(w)+2]
		k := 0
		for i := 0; i < len(p); {
			idx[k] = i
			k++
			if p[i] < utf8.RuneSelf {
				i++
			} else {
				_, sz := utf8.DecodeRune(p[i:])
				i += sz
			}
		}
		idx[k] = len(p)
		k++
		// The 3-, 4- and 5-gram at each start share a prefix, so each hash
		// extends the shorter one; they are emitted in the same order as
		// before: every 3-gram, then every 4-gram, then every 5-gram.
		for i := 0; i+3 < k; i++ {
			x := fnvBytes(charBasis, p[idx[i]:idx[i+3]])
			h[0][i] = x
			if i+4 < k {
				x = fnvBytes(x, p[idx[i+3]:idx[i+4]])
				h[1][i] = x
				if i+5 < k {
					h[2][i] = fnvBytes(x, p[idx[i+4]:idx[i+5]])
				}
			}
		}
		for n := 3; n <= 5; n++ {
			for i := 0; i+n < k; i++ {
				out = append(out, Feature{h[n-3][i] & (Dim - 1), 0.5})
			}
		}
	}
	var norm float64
	for _, f := range out[from:] {
		norm += float64(f.Value * f.Value)
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := from; i < len(out); i++ {
			out[i].Value *= inv
		}
	}
	return out
}

// nextField returns the first space-separated field of s (as
// strings.Fields splits) and the rest of s after it; w is "" when s holds no
// more fields.
func nextField(s string) (w, rest string) {
	i := 0
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if asciiSpace[c] {
				i++
				continue
			}
			break
		}
		r, sz := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += sz
	}
	j := i
	for j < len(s) {
		if c := s[j]; c < utf8.RuneSelf {
			if asciiSpace[c] {
				break
			}
			j++
			continue
		}
		r, sz := utf8.DecodeRuneInString(s[j:])
		if unicode.IsSpace(r) {
			break
		}
		j += sz
	}
	return s[i:j], s[j:]
}

var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// punct is the set strings.Trim(w, ".,;:!?\"'()[]{}") removes.
var punct = func() (t [256]bool) {
	for _, c := range []byte(".,;:!?\"'()[]{}") {
		t[c] = true
	}
	return t
}()

// trimPunct is strings.Trim(w, ".,;:!?\"'()[]{}") without building the
// cutset on every call.
func trimPunct(w string) string {
	i, j := 0, len(w)
	for i < j && punct[w[i]] {
		i++
	}
	for j > i && punct[w[j-1]] {
		j--
	}
	return w[i:j]
}

func fnvBytes(h uint32, s []byte) uint32 {
	for _, c := range s {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// Model is a trained binary classifier with its operating thresholds.
type Model struct {
	Bias    float32
	Weights []float32 // length Dim
	// Thresholds on the probability for LOW, MEDIUM and HIGH confidence.
	Low, Medium, High float32
}

// Prob returns the probability of the positive class for features fs.
func (m *Model) Prob(fs []Feature) float64 {
	z := float64(m.Bias)
	for _, f := range fs {
		z += float64(m.Weights[f.Index] * f.Value)
	}
	return 1 / (1 + math.Exp(-z))
}

var magic = []byte("BKLR1\n")

// Marshal encodes the model compactly: weights quantised to int8 with one scale.
func (m *Model) Marshal() []byte {
	var maxAbs float32
	for _, w := range m.Weights {
		maxAbs = max(maxAbs, float32(math.Abs(float64(w))))
	}
	scale := maxAbs / 127
	if scale == 0 {
		scale = 1
	}
	var b bytes.Buffer
	b.Write(magic)
	for _, v := range []float32{m.Bias, scale, m.Low, m.Medium, m.High} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	binary.Write(&b, binary.LittleEndian, uint32(len(m.Weights)))
	q := make([]byte, len(m.Weights))
	for i, w := range m.Weights {
		q[i] = byte(int8(math.Round(float64(w / scale))))
	}
	b.Write(q)
	return b.Bytes()
}

// Unmarshal decodes a model written by Marshal.
func Unmarshal(data []byte) (*Model, error) {
	if !bytes.HasPrefix(data, magic) {
		return nil, errors.New("classify: not a model file")
	}
	r := bytes.NewReader(data[len(magic):])
	var hdr [5]float32
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil {
		return nil, err
	}
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return nil, err
	}
	if n != Dim || r.Len() != int(n) {
		return nil, fmt.Errorf("classify: model has %d weights, want %d", n, Dim)
	}
	m := &Model{Bias: hdr[0], Low: hdr[2], Medium: hdr[3], High: hdr[4], Weights: make([]float32, n)}
	q := make([]byte, n)
	r.Read(q)
	for i, v := range q {
		m.Weights[i] = float32(int8(v)) * hdr[1]
	}
	return m, nil
}
