// Package chunk turns a document's text into chunks for embedding and
// retrieval, with every Amazon Bedrock knowledge-base chunking strategy:
//
//   - Default: about 300 tokens, ending at sentence boundaries.
//   - FixedSize{MaxTokens, OverlapPercent}: Bedrock's FIXED_SIZE.
//   - Hierarchical{ParentMaxTokens, ChildMaxTokens, OverlapTokens}: parents
//     and children linked by index; search children, return parents.
//   - Semantic{Embedder, BufferSize, BreakpointPercentile, MaxTokens}: split
//     between the least similar neighbouring sentences (batched embedding).
//   - Recursive{MaxTokens, OverlapTokens, Markdown}: the strongest boundary
//     that fits, Markdown-aware (sections, fenced code, tables, lists,
//     heading paths).
//   - None: one chunk per document.
//
// Every strategy implements Chunker. Each Chunk records exact byte offsets
// for citations: ParsedDocument.Text[Start:End] is its own text and Text is
// ParsedDocument.Text[Start-Overlap:End]. Chunks also carry the page (from
// ParsedDocument.Pages), the heading path and the document's metadata. Pages and
// headings are hard boundaries: no chunk spans two pages or two sections.
//
// Text handling: chunks never split a UTF-8 sequence or a grapheme cluster
// (a single cluster larger than the limit becomes its own, oversize,
// chunk); sentence boundaries survive abbreviations ("Dr.", "e.g."),
// initials, decimals and URLs; text that is not valid UTF-8 is rejected with
// an *InvalidUTF8Error giving the byte offset.
//
// Sizes are measured by a Tokenizer. The default, CL100K, is an exact
// offline cl100k_base encoder (O200K for o200k_base) whose counts equal
// tiktoken-go's; Characters counts code points; Estimate is a cheap
// approximation. Amazon Titan and Anthropic Claude tokenize differently from
// OpenAI's encodings: plug your own Tokenizer when exact model counts matter.
//
// Throughput against tiktoken-go and langchaingo, and the error of
// Estimate, are measured in docs/chunk-performance.md.
//
// Break opportunities are found lazily: the packer measures how far a chunk
// may reach and looks back from there, so most bytes are only counted, never
// classified. Markdown structure and Semantic need every opportunity and
// use a pass over the whole text instead.
package chunk
