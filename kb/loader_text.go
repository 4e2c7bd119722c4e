package kb

import (
	"context"
	"strings"

	"github.com/bedrockkit/bedrockkit/chunk"
)

// TextLoader loads plain text. UTF-8 is taken as is (a byte order mark is
// dropped); UTF-16 with a byte order mark is converted to UTF-8. Any other
// encoding fails with ErrInvalidEncoding and the offset of the first bad
// byte, rather than loading mangled text. Text longer than
// LoadLimits.MaxTextBytes fails with ErrTextTooLarge.
type TextLoader struct{}

// Load implements Loader.
func (TextLoader) Load(ctx context.Context, _ SourceItem, data []byte) (chunk.ParsedDocument, error) {
	if err := loadCheck(ctx); err != nil {
		return chunk.ParsedDocument{}, err
	}
	max := LoadLimitsFromContext(ctx).MaxTextBytes
	if int64(len(data)) > 2*max { // UTF-16 halves when converted
		return chunk.ParsedDocument{}, textTooLarge("plain", max)
	}
	text, err := decodeText(data)
	if err != nil {
		return chunk.ParsedDocument{}, err
	}
	if int64(len(text)) > max {
		return chunk.ParsedDocument{}, textTooLarge("plain", max)
	}
	return chunk.ParsedDocument{Text: text}, nil
}

// MarkdownLoader loads Markdown. The text is kept as written (decoded like
// TextLoader) and its section headings are found, so chunks carry their
// section path for citations: ATX headings ("# Fees", "## Card loss ##")
// and setext headings (a paragraph underlined with === or ---). Lines in
// fenced code blocks and a leading YAML front matter block are not taken
// for headings. The text, plus HeadingCost per heading, stops at
// LoadLimits.MaxTextBytes with ErrTextTooLarge.
type MarkdownLoader struct{}

// Load implements Loader.
func (MarkdownLoader) Load(ctx context.Context, _ SourceItem, data []byte) (chunk.ParsedDocument, error) {
	if err := loadCheck(ctx); err != nil {
		return chunk.ParsedDocument{}, err
	}
	max := LoadLimitsFromContext(ctx).MaxTextBytes
	if int64(len(data)) > 2*max {
		return chunk.ParsedDocument{}, textTooLarge("Markdown", max)
	}
	text, err := decodeText(data)
	if err != nil {
		return chunk.ParsedDocument{}, err
	}
	if int64(len(text)) > max {
		return chunk.ParsedDocument{}, textTooLarge("Markdown", max)
	}
	heads := markdownHeadings(ctx, text, int((max-int64(len(text)))/HeadingCost))
	if err := ctx.Err(); err != nil {
		return chunk.ParsedDocument{}, err
	}
	if heads == nil {
		return chunk.ParsedDocument{}, textTooLarge("Markdown", max)
	}
	if len(heads) == 0 {
		heads = nil
	}
	return chunk.ParsedDocument{Text: text, Headings: heads}, nil
}

// markdownHeadings finds the ATX and setext headings of Markdown text. It
// returns nil, rather than an empty slice, when there are more than max
// or ctx is done.
func markdownHeadings(ctx context.Context, text string, max int) []chunk.Heading {
	m := &mdHeadings{heads: []chunk.Heading{}, paraStart: -1}
	off := 0
	if fm := frontMatterEnd(text); fm > 0 {
		off = fm
	}
	for lines := 0; off < len(text); lines++ {
		if len(m.heads) > max || lines%4096 == 0 && ctx.Err() != nil {
			return nil
		}
		end := strings.IndexByte(text[off:], '\n')
		next := len(text)
		if end >= 0 {
			next = off + end + 1
			end += off
		} else {
			end = len(text)
		}
		m.line(off, strings.TrimRight(text[off:end], "\r"))
		off = next
	}
	if len(m.heads) > max {
		return nil
	}
	return m.heads
}

// mdHeadings is the state of markdownHeadings between lines.
type mdHeadings struct {
	heads     []chunk.Heading
	fence     string // the opening fence while inside a fenced block
	paraStart int    // offset of the current paragraph's first line, or -1
	paraLines []string
}

func (m *mdHeadings) endPara() { m.paraStart, m.paraLines = -1, m.paraLines[:0] }

// line takes the next line, which starts at offset start.
func (m *mdHeadings) line(start int, line string) {
	indent := len(line) - len(strings.TrimLeft(line, " "))
	body := strings.TrimLeft(line, " ")
	if m.fence != "" {
		if indent < 4 && strings.HasPrefix(body, m.fence) && strings.Trim(body, m.fence[:1]+" \t") == "" {
			m.fence = ""
		}
		return
	}
	if indent < 4 {
		if f := fenceOpen(body); f != "" {
			m.fence = f
			m.endPara()
			return
		}
	}
	if strings.TrimSpace(line) == "" {
		m.endPara()
		return
	}
	if indent < 4 && m.blockLine(start, body) {
		return
	}
	if m.paraStart < 0 {
		if indent >= 4 {
			return // indented code
		}
		m.paraStart = start
	}
	m.paraLines = append(m.paraLines, strings.TrimSpace(line))
}

// blockLine handles a line (indented less than 4) that is an ATX heading,
// a setext underline of the current paragraph, or the start of a list
// item, quote or table; it reports whether the line was one of those.
func (m *mdHeadings) blockLine(start int, body string) bool {
	if level, title, ok := atxHeading(body); ok {
		if title != "" {
			m.heads = append(m.heads, chunk.Heading{Offset: start, Level: level, Text: title})
		}
		m.endPara()
		return true
	}
	if m.paraStart >= 0 {
		if level := setextUnderline(body); level > 0 {
			title := strings.Join(m.paraLines, " ")
			if title != "" {
				m.heads = append(m.heads, chunk.Heading{Offset: m.paraStart, Level: level, Text: title})
			}
			m.endPara()
			return true
		}
	}
	if startsBlock(body) {
		// List items, quotes and tables are not setext heading text.
		m.endPara()
		return true
	}
	return false
}

// frontMatterEnd returns the offset just after a leading YAML front matter
// block ("---" ... "---" or "..."), or 0 when there is none.
func frontMatterEnd(text string) int {
	if !strings.HasPrefix(text, "---\n") && !strings.HasPrefix(text, "---\r\n") {
		return 0
	}
	off := strings.IndexByte(text, '\n') + 1
	for off < len(text) {
		end := strings.IndexByte(text[off:], '\n')
		next := len(text)
		if end >= 0 {
			next = off + end + 1
		}
		line := strings.TrimRight(text[off:next], "\r\n")
		if line == "---" || line == "..." {
			return next
		}
		off = next
	}
	return 0 // unterminated: not front matter
}

// fenceOpen returns the fence ("```", "~~~~", ...) a line opens, or "".
func fenceOpen(body string) string {
	for _, c := range []string{"`", "~"} {
		n := len(body) - len(strings.TrimLeft(body, c))
		if n >= 3 {
			if c == "`" && strings.Contains(body[n:], "`") {
				return "" // an info string may not contain backticks
			}
			return body[:n]
		}
	}
	return ""
}

// atxHeading parses "## Title ##" (body has no leading spaces).
func atxHeading(body string) (int, string, bool) {
	n := len(body) - len(strings.TrimLeft(body, "#"))
	if n < 1 || n > 6 {
		return 0, "", false
	}
	rest := body[n:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return 0, "", false
	}
	rest = strings.TrimSpace(rest)
	// Drop a closing sequence of #s preceded by a space (or all of rest).
	trimmed := strings.TrimRight(rest, "#")
	if trimmed == "" {
		rest = ""
	} else if len(trimmed) < len(rest) && (strings.HasSuffix(trimmed, " ") || strings.HasSuffix(trimmed, "\t")) {
		rest = strings.TrimSpace(trimmed)
	}
	return n, rest, true
}

// setextUnderline returns 1 for "===", 2 for "---", else 0.
func setextUnderline(body string) int {
	s := strings.TrimRight(body, " \t")
	if s == "" {
		return 0
	}
	switch {
	case strings.Trim(s, "=") == "":
		return 1
	case strings.Trim(s, "-") == "":
		return 2
	}
	return 0
}

// startsBlock reports lines that start a list item, block quote, table row
// or thematic break rather than paragraph text.
func startsBlock(body string) bool {
	if body == "" {
		return false
	}
	switch body[0] {
	case '>', '|':
		return true
	case '-', '*', '+':
		return len(body) == 1 || body[1] == ' ' || body[1] == '\t' || isThematicBreak(body)
	case '_':
		return isThematicBreak(body)
	}
	i := 0
	for i < len(body) && i < 9 && body[i] >= '0' && body[i] <= '9' {
		i++
	}
	return i > 0 && i < len(body) && (body[i] == '.' || body[i] == ')') && (i+1 == len(body) || body[i+1] == ' ' || body[i+1] == '\t')
}

func isThematicBreak(body string) bool {
	s := strings.ReplaceAll(strings.ReplaceAll(body, " ", ""), "\t", "")
	return len(s) >= 3 && strings.Trim(s, s[:1]) == ""
}
