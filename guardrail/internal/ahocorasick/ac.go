// Package ahocorasick is a byte-level Aho-Corasick automaton: it finds every
// occurrence of many patterns in one pass over the text. Transitions are a
// dense table over the byte classes that occur in the patterns, so matching
// costs one table lookup per input byte.
package ahocorasick

// Match is one occurrence of pattern Pattern at text[Start:End].
type Match struct {
	Pattern    int
	Start, End int
}

// Matcher is a compiled automaton. It is safe for concurrent use.
type Matcher struct {
	class    [256]uint8 // byte -> class; 0 means "no pattern uses this byte"
	nclass   int
	delta    []int32 // state*nclass + class -> next state
	out      [][]int32
	patLen   []int
	patterns int
}

// New compiles the patterns. Empty patterns never match.
func New(patterns []string) *Matcher {
	m := &Matcher{patterns: len(patterns), patLen: make([]int, len(patterns))}
	nc := 1
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			if m.class[p[i]] == 0 {
				if nc == 255 {
					// More than 254 distinct bytes: the rest share class 255
					// and FindAll verifies matches byte by byte.
					m.class[p[i]] = 255
					continue
				}
				m.class[p[i]] = uint8(nc)
				nc++
			}
		}
	}
	if nc == 255 {
		nc = 256
	}
	m.nclass = nc
	// Build the trie with a sparse goto, then turn it into a DFA.
	type node struct{ next map[uint8]int32 }
	trie := []node{{next: map[uint8]int32{}}}
	out := [][]int32{nil}
	for pi, p := range patterns {
		m.patLen[pi] = len(p)
		if p == "" {
			continue
		}
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := m.class[p[i]]
			nx, ok := trie[s].next[c]
			if !ok {
				nx = int32(len(trie))
				trie = append(trie, node{next: map[uint8]int32{}})
				out = append(out, nil)
				trie[s].next[c] = nx
			}
			s = nx
		}
		out[s] = append(out[s], int32(pi))
	}
	n := len(trie)
	m.delta = make([]int32, n*nc)
	fail := make([]int32, n)
	queue := make([]int32, 0, n)
	for c := 1; c < nc; c++ {
		if nx, ok := trie[0].next[uint8(c)]; ok {
			m.delta[c] = nx
			queue = append(queue, nx)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		out[s] = append(out[s], out[fail[s]]...)
		for c := 1; c < nc; c++ {
			if nx, ok := trie[s].next[uint8(c)]; ok {
				fail[nx] = m.delta[int(fail[s])*nc+c]
				m.delta[int(s)*nc+c] = nx
				queue = append(queue, nx)
			} else {
				m.delta[int(s)*nc+c] = m.delta[int(fail[s])*nc+c]
			}
		}
	}
	m.out = out
	return m
}

// FindAll calls fn for every match in text, in order of End. Patterns sharing
// class 255 (only when more than 254 distinct bytes are used) are verified
// byte by byte against text, so results are always exact.
func (m *Matcher) FindAll(text string, patterns []string, fn func(Match)) {
	nc := m.nclass
	s := int32(0)
	for i := 0; i < len(text); i++ {
		c := m.class[text[i]]
		if c == 0 {
			s = 0
			continue
		}
		s = m.delta[int(s)*nc+int(c)]
		for _, p := range m.out[s] {
			l := m.patLen[p]
			if nc == 256 && text[i+1-l:i+1] != patterns[p] {
				continue
			}
			fn(Match{Pattern: int(p), Start: i + 1 - l, End: i + 1})
		}
	}
}

// Contains reports whether any pattern occurs in text. It stops at the
// first match.
func (m *Matcher) Contains(text string, patterns []string) bool {
	nc := m.nclass
	s := int32(0)
	for i := 0; i < len(text); i++ {
		c := m.class[text[i]]
		if c == 0 {
			s = 0
			continue
		}
		s = m.delta[int(s)*nc+int(c)]
		for _, p := range m.out[s] {
			l := m.patLen[p]
			if nc == 256 && text[i+1-l:i+1] != patterns[p] {
				continue
			}
			return true
		}
	}
	return false
}
