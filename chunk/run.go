package chunk

import (
	"context"
	"sort"
	"strings"
)

// DefaultMaxTokens is the chunk size used when a strategy's MaxTokens is 0:
// Bedrock's default chunking makes chunks of about 300 tokens.
const DefaultMaxTokens = 300

// doc is a validated document prepared for packing.
type prepared struct {
	doc      ParsedDocument
	text     string
	tk       Tokenizer
	headings []Heading
	cuts     []int // hard boundaries, increasing, including 0 and len(text)
	p        *packer
}

// eagerOnly turns lazy packing off (tests compare the two packers).
var eagerOnly bool

// prepare validates doc and sets up its packer. Packing is lazy (see
// lazy.go) unless Markdown structure or every opportunity (allBounds) is
// needed, or the tokenizer is neither Characters nor a BPE encoding.
func prepare(ctx context.Context, doc ParsedDocument, tk Tokenizer, markdown, allBounds bool) (*prepared, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkDoc(doc); err != nil {
		return nil, err
	}
	if tk == nil {
		tk = CL100K()
	}
	text := doc.Text
	pr := &prepared{doc: doc, text: text, tk: tk, headings: doc.Headings}
	_, isChars := tk.(characters)
	if !markdown && !allBounds && !eagerOnly && (isChars || encodingOf(tk) != nil) {
		pr.setCuts()
		pr.p = &packer{text: text, lazy: true, c: newCounter(text, tk, nil, true)}
		return pr, nil
	}
	bounds := boundaries(make([]boundary, 0, len(text)/5+1), text, 0, len(text), true)
	if markdown {
		var hs []Heading
		hs, bounds = markdownStructure(text, bounds)
		if pr.headings == nil {
			pr.headings = hs
		}
	}
	pr.setCuts()
	pr.p = &packer{text: text, bounds: bounds, c: newCounter(text, tk, bounds, false)}
	return pr, nil
}

// setCuts fills pr.cuts from the pages and headings.
func (pr *prepared) setCuts() {
	text, doc := pr.text, pr.doc
	cuts := []int{0, len(text)}
	cuts = append(cuts, doc.Pages...)
	for _, h := range pr.headings {
		cuts = append(cuts, h.Offset)
	}
	sort.Ints(cuts)
	pr.cuts = cuts[:0]
	for i, c := range cuts {
		if i == 0 || c != cuts[i-1] {
			pr.cuts = append(pr.cuts, c)
		}
	}
}

// segments calls fn for every non-blank segment between hard boundaries.
func (pr *prepared) segments(fn func(a, b int)) {
	for i := 0; i+1 < len(pr.cuts); i++ {
		a := trimLeft(pr.text, pr.cuts[i], pr.cuts[i+1])
		if a < pr.cuts[i+1] {
			fn(a, pr.cuts[i+1])
		}
	}
}

// packAll packs every segment.
func (pr *prepared) packAll(max, overlap int, pol policy) []span {
	var spans []span
	pr.segments(func(a, b int) { spans = pr.p.pack(spans, a, b, max, overlap, pol) })
	return spans
}

// annotator fills page, heading path and metadata of chunks in increasing
// Start order.
type annotator struct {
	pr    *prepared
	page  int
	h     int
	stack []Heading
	path  []string
}

func (an *annotator) chunk(s span, level, parent int) Chunk {
	pr := an.pr
	for an.page < len(pr.doc.Pages) && pr.doc.Pages[an.page] <= s.a {
		an.page++
	}
	changed := false
	for an.h < len(pr.headings) && pr.headings[an.h].Offset <= s.a {
		h := pr.headings[an.h]
		for len(an.stack) > 0 && an.stack[len(an.stack)-1].Level >= h.Level {
			an.stack = an.stack[:len(an.stack)-1]
		}
		an.stack = append(an.stack, h)
		an.h++
		changed = true
	}
	if changed {
		an.path = make([]string, len(an.stack))
		for i, h := range an.stack {
			an.path[i] = h.Text
		}
	}
	return Chunk{
		Text:     pr.text[s.o:s.e],
		Start:    s.a,
		End:      s.e,
		Overlap:  s.a - s.o,
		Tokens:   s.tokens,
		Page:     an.page,
		Headings: an.path,
		Metadata: pr.doc.Metadata,
		Level:    level,
		Parent:   parent,
	}
}

// headingsAt is used by strategies that annotate out of order.
func (pr *prepared) chunks(spans []span) []Chunk {
	an := &annotator{pr: pr}
	out := make([]Chunk, len(spans))
	for i, s := range spans {
		out[i] = an.chunk(s, 0, -1)
	}
	return out
}

// markdownStructure finds Markdown headings and adjusts break levels: fenced
// code blocks and tables break only between lines inside and are blocks as a
// whole; list items are items; headings start sections.
func markdownStructure(text string, bounds []boundary) ([]Heading, []boundary) {
	m := &mdScanner{text: text, bounds: bounds, tableStart: -1, paraStart: -1}
	for ls := 0; ls < len(text); {
		le := strings.IndexByte(text[ls:], '\n')
		next := len(text)
		if le >= 0 {
			next = ls + le + 1
		} else {
			le = len(text) - ls
		}
		m.line(ls, next, text[ls:ls+le])
		ls = next
	}
	if m.fence != "" {
		m.demote(m.fenceStart, len(text), lvLine)
		m.raise(m.fenceStart, lvBlock)
	}
	if m.tableStart >= 0 {
		m.demote(m.tableStart, len(text), lvLine)
		m.raise(m.tableStart, lvBlock)
	}
	return m.hs, m.bounds
}

// mdScanner is markdownStructure's state, line by line.
type mdScanner struct {
	text       string
	bounds     []boundary
	hs         []Heading
	fence      string // the open code fence's marker, or ""
	fenceStart int
	tableStart int      // offset of the open table, or -1
	paraStart  int      // the paragraph a setext underline would make a heading, or -1
	para       []string // its lines
}

// at returns the index of the boundary at pos, or -1.
func (m *mdScanner) at(pos int) int {
	i := sort.Search(len(m.bounds), func(i int) bool { return int(m.bounds[i].pos) >= pos })
	if i < len(m.bounds) && int(m.bounds[i].pos) == pos {
		return i
	}
	return -1
}

// raise raises the boundary at pos to at least lv.
func (m *mdScanner) raise(pos int, lv uint8) {
	if i := m.at(pos); i >= 0 && m.bounds[i].level < lv {
		m.bounds[i].level = lv
	}
}

// demote lowers the boundaries in (a, b) to at most lv.
func (m *mdScanner) demote(a, b int, lv uint8) {
	i := sort.Search(len(m.bounds), func(i int) bool { return int(m.bounds[i].pos) > a })
	for ; i < len(m.bounds) && int(m.bounds[i].pos) < b; i++ {
		if m.bounds[i].level > lv {
			m.bounds[i].level = lv
		}
	}
}

// line reads the line at ls (next is the offset of the line after it).
func (m *mdScanner) line(ls, next int, line string) {
	text := m.text
	trimmed := strings.TrimLeft(line, " ")
	indent := len(line) - len(trimmed)
	if m.fence != "" {
		if indent <= 3 && strings.HasPrefix(trimmed, m.fence) && strings.TrimSpace(strings.TrimLeft(trimmed, m.fence[:1])) == "" {
			m.demote(m.fenceStart, next, lvLine)
			m.raise(m.fenceStart, lvBlock)
			m.raise(trimLeft(text, next, len(text)), lvBlock)
			m.fence = ""
		}
		return
	}
	isTable := strings.HasPrefix(trimmed, "|")
	if m.tableStart >= 0 && !isTable {
		m.demote(m.tableStart, ls, lvLine)
		m.raise(m.tableStart, lvBlock)
		m.raise(trimLeft(text, ls, len(text)), lvBlock)
		m.tableStart = -1
	}
	if !m.block(ls, trimmed, indent, isTable) {
		m.paraStart, m.para = -1, m.para[:0]
	} else {
		if m.paraStart < 0 {
			m.paraStart = ls
		}
		m.para = append(m.para, strings.TrimSpace(trimmed))
	}
}

// block handles what the line at ls starts (a fence, a table, a heading, a
// list item) and reports whether it is paragraph text.
func (m *mdScanner) block(ls int, trimmed string, indent int, isTable bool) (inPara bool) {
	switch {
	case indent <= 3 && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
		n := len(trimmed) - len(strings.TrimLeft(trimmed, trimmed[:1]))
		m.fence, m.fenceStart = trimmed[:n], ls
	case isTable:
		if m.tableStart < 0 {
			m.tableStart = ls
		}
	case m.paraStart >= 0 && indent <= 3 && setextLevel(trimmed) > 0:
		// Setext heading: the paragraph above, underlined with = or -.
		m.hs = append(m.hs, Heading{Offset: m.paraStart, Level: setextLevel(trimmed), Text: strings.Join(m.para, " ")})
	case indent <= 3 && strings.HasPrefix(trimmed, "#"):
		n := len(trimmed) - len(strings.TrimLeft(trimmed, "#"))
		if n <= 6 && (n == len(trimmed) || trimmed[n] == ' ' || trimmed[n] == '\t') {
			t := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(trimmed[n:]), "#"))
			m.hs = append(m.hs, Heading{Offset: ls, Level: n, Text: t})
		} else {
			return true
		}
	case isListItem(trimmed):
		m.raise(ls+indent, lvItem)
	case strings.TrimSpace(trimmed) == "":
	default:
		return m.paraStart >= 0 || indent <= 3
	}
	return false
}

// setextLevel returns 1 for a setext underline of '=', 2 for one of '-'
// (optionally followed by spaces), else 0.
func setextLevel(s string) int {
	t := strings.TrimRight(s, " \t\r")
	if t == "" || strings.Trim(t, t[:1]) != "" {
		return 0
	}
	switch t[0] {
	case '=':
		return 1
	case '-':
		return 2
	}
	return 0
}

func isListItem(s string) bool {
	if len(s) >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && (s[1] == ' ' || s[1] == '\t') {
		return true
	}
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && i+1 < len(s) && (s[i] == '.' || s[i] == ')') && (s[i+1] == ' ' || s[i+1] == '\t')
}
