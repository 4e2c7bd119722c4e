package chunk

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/bedrockkit/bedrockkit"
)

// Default is Bedrock's default chunking: chunks of about MaxTokens tokens
// (300 when zero) that end at sentence boundaries where one lies in the
// second half of the chunk, else at a word boundary. The zero value is ready
// to use.
type Default struct {
	// MaxTokens is the largest chunk, in tokens; 0 means DefaultMaxTokens.
	MaxTokens int
	// Tokenizer counts tokens; nil means CL100K().
	Tokenizer Tokenizer
}

// Chunk splits doc.
func (s Default) Chunk(ctx context.Context, doc ParsedDocument) ([]Chunk, error) {
	max, err := maxTokens("Default", s.MaxTokens)
	if err != nil {
		return nil, err
	}
	pr, err := prepare(ctx, doc, s.Tokenizer, false, false)
	if err != nil {
		return nil, err
	}
	return pr.chunks(pr.packAll(max, 0, sentencePolicy)), nil
}

// FixedSize is Bedrock's FIXED_SIZE chunking: chunks of at most MaxTokens
// tokens, each beginning with up to OverlapPercent percent of MaxTokens
// tokens from the end of the previous chunk (whole words). Chunks end at the
// last word boundary that fits; a word longer than a chunk is split between
// grapheme clusters.
type FixedSize struct {
	// MaxTokens is the largest chunk, overlap included; 0 means DefaultMaxTokens.
	MaxTokens int
	// OverlapPercent is 1..99 as in Bedrock, or 0 for no overlap.
	OverlapPercent int
	// Tokenizer counts tokens; nil means CL100K().
	Tokenizer Tokenizer
}

// Validate reports a configuration Bedrock would reject.
func (s FixedSize) Validate() error {
	if _, err := maxTokens("FixedSize", s.MaxTokens); err != nil {
		return err
	}
	if s.OverlapPercent < 0 || s.OverlapPercent > 99 {
		return configError("FixedSize.OverlapPercent is %d; use 1..99, or 0 for no overlap", s.OverlapPercent)
	}
	return nil
}

// Chunk splits doc.
func (s FixedSize) Chunk(ctx context.Context, doc ParsedDocument) ([]Chunk, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	max, _ := maxTokens("FixedSize", s.MaxTokens)
	pr, err := prepare(ctx, doc, s.Tokenizer, false, false)
	if err != nil {
		return nil, err
	}
	return pr.chunks(pr.packAll(max, max*s.OverlapPercent/100, fixedPolicy)), nil
}

// Hierarchical is Bedrock's HIERARCHICAL chunking: the text is split into
// parent chunks of at most ParentMaxTokens, and each parent's own span into
// child chunks of at most ChildMaxTokens; within each layer consecutive
// chunks overlap by up to OverlapTokens. Chunk returns each parent (Level 1)
// followed by its children (Level 0, Parent set to the parent's index).
// Retrieval searches the children and returns their parents.
type Hierarchical struct {
	// ParentMaxTokens is 1..8192; 0 means 1500 (the console default).
	ParentMaxTokens int
	// ChildMaxTokens is 1..8192 and at most ParentMaxTokens; 0 means 300.
	ChildMaxTokens int
	// OverlapTokens is the overlap within each layer; 0 means none. It must
	// be smaller than ChildMaxTokens.
	OverlapTokens int
	// Tokenizer counts tokens; nil means CL100K().
	Tokenizer Tokenizer
}

func (s Hierarchical) sizes() (parent, child int) {
	parent, child = s.ParentMaxTokens, s.ChildMaxTokens
	if parent == 0 {
		parent = 1500
	}
	if child == 0 {
		child = 300
	}
	return parent, child
}

// Validate reports a configuration Bedrock would reject.
func (s Hierarchical) Validate() error {
	parent, child := s.sizes()
	if parent < 1 || parent > 8192 {
		return configError("Hierarchical.ParentMaxTokens is %d; use 1..8192", s.ParentMaxTokens)
	}
	if child < 1 || child > 8192 {
		return configError("Hierarchical.ChildMaxTokens is %d; use 1..8192", s.ChildMaxTokens)
	}
	if child > parent {
		return configError("Hierarchical.ChildMaxTokens (%d) is larger than ParentMaxTokens (%d); children must fit in their parent", child, parent)
	}
	if s.OverlapTokens < 0 || s.OverlapTokens >= child {
		return configError("Hierarchical.OverlapTokens is %d; use 0..%d (less than ChildMaxTokens)", s.OverlapTokens, child-1)
	}
	return nil
}

// Chunk splits doc.
func (s Hierarchical) Chunk(ctx context.Context, doc ParsedDocument) ([]Chunk, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	parent, child := s.sizes()
	pr, err := prepare(ctx, doc, s.Tokenizer, false, false)
	if err != nil {
		return nil, err
	}
	parents := pr.packAll(parent, s.OverlapTokens, sentencePolicy)
	an := &annotator{pr: pr}
	var out []Chunk
	var kids []span
	for _, ps := range parents {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pi := len(out)
		out = append(out, an.chunk(ps, 1, -1))
		kids = pr.p.pack(kids[:0], ps.a, ps.e, child, s.OverlapTokens, sentencePolicy)
		for _, k := range kids {
			c := an.chunk(k, 0, pi)
			if k.o < ps.a { // never reach back into the previous parent
				c.Overlap, c.Text = 0, pr.text[k.a:k.e]
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// Recursive splits text at the strongest boundary that lets a chunk fit:
// Markdown sections, then blocks (paragraphs, fenced code, tables, lists),
// list items, sentences, lines, words and finally grapheme clusters. With
// Markdown set it recognises Markdown structure (ATX "#" and setext
// underlined headings, fences, tables, lists), keeps fenced code blocks
// and tables whole where they fit and records the heading path of each
// chunk; sections are never merged. The zero value is ready to use.
type Recursive struct {
	// MaxTokens is the largest chunk, overlap included; 0 means DefaultMaxTokens.
	MaxTokens int
	// OverlapTokens is the overlap between consecutive chunks; 0 means none.
	OverlapTokens int
	// Markdown enables Markdown structure (headings, fences, tables, lists).
	Markdown bool
	// Tokenizer counts tokens; nil means CL100K(). Use Characters to size
	// chunks in characters.
	Tokenizer Tokenizer
}

// Validate reports an invalid configuration.
func (s Recursive) Validate() error {
	max, err := maxTokens("Recursive", s.MaxTokens)
	if err != nil {
		return err
	}
	if s.OverlapTokens < 0 || s.OverlapTokens >= max {
		return configError("Recursive.OverlapTokens is %d; use 0..%d (less than MaxTokens)", s.OverlapTokens, max-1)
	}
	return nil
}

// Chunk splits doc.
func (s Recursive) Chunk(ctx context.Context, doc ParsedDocument) ([]Chunk, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	max, _ := maxTokens("Recursive", s.MaxTokens)
	pr, err := prepare(ctx, doc, s.Tokenizer, s.Markdown, false)
	if err != nil {
		return nil, err
	}
	return pr.chunks(pr.packAll(max, s.OverlapTokens, recursivePolicy)), nil
}

// None is Bedrock's NONE strategy: one chunk per document (white space
// trimmed), with no page number. An empty or blank document has no chunk.
type None struct {
	// Tokenizer counts the chunk's tokens; nil means CL100K().
	Tokenizer Tokenizer
}

// Chunk returns doc as one chunk.
func (s None) Chunk(ctx context.Context, doc ParsedDocument) ([]Chunk, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkDoc(doc); err != nil {
		return nil, err
	}
	tk := s.Tokenizer
	if tk == nil {
		tk = CL100K()
	}
	a := trimLeft(doc.Text, 0, len(doc.Text))
	e := trimRight(doc.Text, a, len(doc.Text))
	if a == e {
		return nil, nil
	}
	var path []string
	for _, h := range doc.Headings {
		if h.Offset > a {
			break
		}
		path = append(path, h.Text)
	}
	return []Chunk{{Text: doc.Text[a:e], Start: a, End: e, Tokens: tk.Count(doc.Text[a:e]),
		Headings: path, Metadata: doc.Metadata, Parent: -1}}, nil
}

func maxTokens(strategy string, n int) (int, error) {
	if n == 0 {
		return DefaultMaxTokens, nil
	}
	if n < 1 {
		return 0, configError("%s.MaxTokens is %d; use a positive number of tokens (0 means %d)", strategy, n, DefaultMaxTokens)
	}
	return n, nil
}

// Semantic is Bedrock's SEMANTIC chunking. The text is split into sentences;
// each sentence is embedded together with BufferSize sentences on each side;
// the document is split between the neighbours whose embeddings are least
// similar: with BreakpointPercentile 90, at the 10% of adjacent pairs with the
// largest cosine distance (101 sentences give 11 chunks). Pieces longer than
// MaxTokens are re-split at sentence, then word boundaries. Embedding calls
// are batched BatchSize texts at a time.
type Semantic struct {
	// Embedder embeds the sentence groups; required.
	Embedder bedrockkit.Embedder
	// BufferSize is 0 or 1: how many neighbouring sentences on each side are
	// embedded with a sentence.
	BufferSize int
	// BreakpointPercentile is 50..99; 0 means 95.
	BreakpointPercentile int
	// MaxTokens is the largest chunk; 0 means DefaultMaxTokens.
	MaxTokens int
	// BatchSize is the number of texts per Embed call; 0 means 32. Embedders
	// that take one text per request (Titan) may still be given batches:
	// bedrockkit's adapters split them.
	BatchSize int
	// Tokenizer counts tokens; nil means CL100K().
	Tokenizer Tokenizer
}

// Validate reports a configuration Bedrock would reject.
func (s Semantic) Validate() error {
	if s.Embedder == nil {
		return fmt.Errorf("chunk: %w: %w", errNilEmbedder, bedrockkit.ErrInvalidInput)
	}
	if s.BufferSize < 0 || s.BufferSize > 1 {
		return configError("Semantic.BufferSize is %d; use 0 or 1", s.BufferSize)
	}
	if p := s.BreakpointPercentile; p != 0 && (p < 50 || p > 99) {
		return configError("Semantic.BreakpointPercentile is %d; use 50..99 (0 means 95)", p)
	}
	if s.BatchSize < 0 {
		return configError("Semantic.BatchSize is %d; use a positive number (0 means 32)", s.BatchSize)
	}
	_, err := maxTokens("Semantic", s.MaxTokens)
	return err
}

// Chunk splits doc, calling the embedder.
func (s Semantic) Chunk(ctx context.Context, doc ParsedDocument) ([]Chunk, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	max, _ := maxTokens("Semantic", s.MaxTokens)
	pct := s.BreakpointPercentile
	if pct == 0 {
		pct = 95
	}
	batch := s.BatchSize
	if batch == 0 {
		batch = 32
	}
	pr, err := prepare(ctx, doc, s.Tokenizer, false, true)
	if err != nil {
		return nil, err
	}
	sents := sentencesOf(pr)
	if len(sents) == 0 {
		return nil, nil
	}
	vecs, err := s.embedSentences(ctx, bufferedSentences(pr.text, sents, s.BufferSize), batch)
	if err != nil {
		return nil, err
	}
	breaks := semanticBreaks(sents, vecs, pct)
	var spans []span
	first := 0
	for i := range sents {
		last := i+1 == len(sents) || sents[i+1].seg != sents[i].seg || breaks[i]
		if !last {
			continue
		}
		a, e := sents[first].a, sents[i].e
		if n := pr.p.c.exact(a, e); n <= max {
			spans = append(spans, span{o: a, a: a, e: e, tokens: n})
		} else {
			spans = pr.p.pack(spans, a, e, max, 0, sentencePolicy)
		}
		first = i + 1
	}
	return pr.chunks(spans), nil
}

// sentence is a sentence's byte span in the prepared text, and the index
// of the segment it is in.
type sentence struct{ a, e, seg int }

// sentencesOf splits each segment of pr into sentences.
func sentencesOf(pr *prepared) []sentence {
	var sents []sentence
	seg := 0
	pr.segments(func(a, b int) {
		lo := sort.Search(len(pr.p.bounds), func(i int) bool { return int(pr.p.bounds[i].pos) > a })
		for i := lo; i < len(pr.p.bounds) && int(pr.p.bounds[i].pos) < b; i++ {
			if bd := pr.p.bounds[i]; bd.level >= lvSentence {
				sents = append(sents, sentence{a, trimRight(pr.text, a, int(bd.pos)), seg})
				a = int(bd.pos)
			}
		}
		if e := trimRight(pr.text, a, b); e > a {
			sents = append(sents, sentence{a, e, seg})
		}
		seg++
	})
	return sents
}

// bufferedSentences is the text of each sentence with up to buffer
// neighbours of its segment on each side: what is embedded for it.
func bufferedSentences(text string, sents []sentence, buffer int) []string {
	groups := make([]string, len(sents))
	for i, st := range sents {
		lo, hi := i, i
		for k := 1; k <= buffer; k++ {
			if lo > 0 && sents[lo-1].seg == st.seg {
				lo--
			}
			if hi+1 < len(sents) && sents[hi+1].seg == st.seg {
				hi++
			}
		}
		groups[i] = text[sents[lo].a:sents[hi].e]
	}
	return groups
}

// embedSentences embeds groups in batches of batch texts.
func (s Semantic) embedSentences(ctx context.Context, groups []string, batch int) ([][]float32, error) {
	vecs := make([][]float32, 0, len(groups))
	for i := 0; i < len(groups); i += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		j := min(i+batch, len(groups))
		v, err := s.Embedder.Embed(ctx, groups[i:j], bedrockkit.PurposeDocument)
		if err != nil {
			return nil, fmt.Errorf("chunk: semantic chunking: embedding sentences %d..%d: %w", i, j-1, err)
		}
		if len(v) != j-i {
			return nil, fmt.Errorf("chunk: semantic chunking: embedder returned %d vectors for %d texts: %w", len(v), j-i, bedrockkit.ErrModelError)
		}
		vecs = append(vecs, v...)
	}
	return vecs, nil
}

// semanticBreaks picks the breaks (after sentence i) at the largest
// distances between neighbours within a segment: the top (100-pct)%.
func semanticBreaks(sents []sentence, vecs [][]float32, pct int) map[int]bool {
	type gap struct {
		i    int // break between sentence i and i+1
		dist float64
	}
	var gaps []gap
	for i := 0; i+1 < len(sents); i++ {
		if sents[i].seg == sents[i+1].seg {
			gaps = append(gaps, gap{i, 1 - cosine(vecs[i], vecs[i+1])})
		}
	}
	k := int(math.Round(float64(len(gaps)) * float64(100-pct) / 100))
	sort.SliceStable(gaps, func(x, y int) bool { return gaps[x].dist > gaps[y].dist })
	breaks := make(map[int]bool, k)
	for _, g := range gaps[:k] {
		breaks[g.i] = true
	}
	return breaks
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range min(len(a), len(b)) {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

var (
	_ Chunker = Default{}
	_ Chunker = FixedSize{}
	_ Chunker = Hierarchical{}
	_ Chunker = Semantic{}
	_ Chunker = Recursive{}
	_ Chunker = None{}
)
