package kb

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"

	"github.com/bedrockkit/bedrockkit/chunk"
)

// HTMLLoader extracts the readable text of an HTML page with the
// golang.org/x/net/html tokenizer (which tolerates broken markup the way
// browsers do):
//
//   - script, style, nav, noscript, template and svg elements are dropped,
//     and so is the head except its title;
//   - h1..h6 become Headings (level 1..6) on lines of their own, so chunks
//     carry their section path;
//   - block elements (p, div, section, li, table rows, ...) end paragraphs
//     with a blank line; list items start with "- "; table cells are joined
//     with " | "; br breaks the line;
//   - runs of white space collapse to one space, except inside pre;
//   - character references are decoded.
//
// The page's encoding is UTF-8 or UTF-16 with a byte order mark; other
// bytes are decoded with the charset a <meta> tag declares, or
// windows-1252 when none is declared, as browsers do.
type HTMLLoader struct{}

// Load implements Loader.
func (HTMLLoader) Load(ctx context.Context, _ SourceItem, data []byte) (chunk.Document, error) {
	if err := loadCheck(ctx); err != nil {
		return chunk.Document{}, err
	}
	src, err := decodeHTML(data)
	if err != nil {
		return chunk.Document{}, err
	}
	return extractHTML(ctx, src)
}

func decodeHTML(data []byte) (string, error) {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return decodeUTF16(data)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if utf8.Valid(data) {
		return string(data), nil
	}
	enc, name, _ := charset.DetermineEncoding(data, "text/html")
	if name == "utf-8" || enc == nil {
		return "", checkText(data) // declared UTF-8 but is not: report where
	}
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return "", fmt.Errorf("%w: decoding the page as %s: %v; save it as UTF-8", ErrInvalidEncoding, name, err)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), nil
}

// htmlText accumulates extracted text with lazy breaks and spaces, so the
// output has no leading, trailing or doubled blank lines.
type htmlText struct {
	b         strings.Builder
	brk       int  // pending break: 0 none, 1 newline, 2 blank line
	space     bool // pending space
	sep       bool // pending table-cell separator
	bullet    bool // pending list bullet
	headings  []chunk.Heading
	headStart int // offset of the open heading, -1 when none
	headLevel int
}

func (t *htmlText) breakLine(n int) {
	if n > t.brk {
		t.brk = n
	}
	t.space = false
	t.sep = false
}

// flush writes pending breaks and markers before new text.
func (t *htmlText) flush() {
	if t.b.Len() > 0 {
		switch {
		case t.brk == 2:
			t.b.WriteString("\n\n")
		case t.brk == 1:
			t.b.WriteString("\n")
		case t.sep:
			t.b.WriteString(" | ")
		case t.space && !t.atLineStart():
			t.b.WriteByte(' ')
		}
	}
	if t.bullet {
		t.b.WriteString("- ")
	}
	t.brk, t.space, t.sep, t.bullet = 0, false, false, false
}

// text writes text with runs of white space collapsed to one space.
func (t *htmlText) text(s string) {
	if s == "" {
		return
	}
	if isHTMLSpace(rune(s[0])) {
		t.space = true
	}
	for i, f := range strings.FieldsFunc(s, isHTMLSpace) {
		if i > 0 {
			t.space = true
		}
		t.flush()
		t.b.WriteString(f)
	}
	if isHTMLSpace(rune(s[len(s)-1])) {
		t.space = true
	}
}

func (t *htmlText) atLineStart() bool {
	n := t.b.Len()
	return n == 0 || t.b.String()[n-1] == '\n'
}

// pre writes text as is.
func (t *htmlText) pre(s string) {
	if s == "" {
		return
	}
	t.flush()
	t.b.WriteString(s)
}

func isHTMLSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f'
}

var htmlDropped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Nav: true, atom.Noscript: true,
	atom.Template: true, atom.Svg: true, atom.Head: true,
}

var htmlBlocks = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true,
	atom.Body: true, atom.Caption: true, atom.Dd: true, atom.Details: true, atom.Dialog: true,
	atom.Div: true, atom.Dl: true, atom.Dt: true, atom.Fieldset: true, atom.Figcaption: true,
	atom.Figure: true, atom.Footer: true, atom.Form: true, atom.Header: true, atom.Hr: true,
	atom.Html: true, atom.Legend: true, atom.Li: true, atom.Main: true, atom.Ol: true,
	atom.P: true, atom.Pre: true, atom.Section: true, atom.Summary: true, atom.Table: true,
	atom.Tbody: true, atom.Thead: true, atom.Tfoot: true, atom.Title: true, atom.Ul: true,
}

func headingLevel(a atom.Atom) int {
	switch a {
	case atom.H1:
		return 1
	case atom.H2:
		return 2
	case atom.H3:
		return 3
	case atom.H4:
		return 4
	case atom.H5:
		return 5
	case atom.H6:
		return 6
	}
	return 0
}

func extractHTML(ctx context.Context, src string) (chunk.Document, error) {
	z := html.NewTokenizer(strings.NewReader(src))
	t := &htmlText{headStart: -1}
	dropped := map[atom.Atom]int{} // open dropped elements by tag
	inDropped := 0
	inTitle, inPre := 0, 0
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return chunk.Document{}, ctx.Err()
		}
		tt := z.Next()
		if tt == html.ErrorToken {
			if err := z.Err(); err != io.EOF {
				return chunk.Document{}, fmt.Errorf("%w: HTML: %v", ErrMalformedDocument, err)
			}
			break
		}
		tok := z.Token()
		a := tok.DataAtom
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			if a == atom.Title {
				inTitle++
			}
			if htmlDropped[a] && tt == html.StartTagToken {
				dropped[a]++
				inDropped++
				continue
			}
			if inDropped > 0 && !(inTitle > 0 && dropped[atom.Head] == inDropped) {
				continue
			}
			switch {
			case a == atom.Br:
				t.breakLine(1)
			case a == atom.Tr:
				t.breakLine(1)
			case a == atom.Td || a == atom.Th:
				if !t.atLineStart() && t.brk == 0 {
					t.sep = true
				}
			case headingLevel(a) > 0:
				t.breakLine(2)
				if t.headStart < 0 {
					t.bullet = false // a heading inside a list item starts its line
					t.flush()
					t.headStart, t.headLevel = t.b.Len(), headingLevel(a)
				}
			case a == atom.Li:
				t.breakLine(1)
				t.bullet = true
			case htmlBlocks[a]:
				t.breakLine(2)
				if a == atom.Pre && tt == html.StartTagToken {
					inPre++
				}
			}
		case html.EndTagToken:
			if a == atom.Title && inTitle > 0 {
				inTitle--
			}
			if htmlDropped[a] && dropped[a] > 0 {
				dropped[a]--
				inDropped--
				continue
			}
			if inDropped > 0 && !(inTitle > 0 && dropped[atom.Head] == inDropped) {
				if a == atom.Title {
					t.breakLine(2)
				}
				continue
			}
			switch {
			case headingLevel(a) > 0:
				if t.headStart >= 0 {
					title := strings.Join(strings.Fields(t.b.String()[t.headStart:]), " ")
					if title != "" {
						t.headings = append(t.headings, chunk.Heading{Offset: t.headStart, Level: t.headLevel, Text: title})
					}
					t.headStart = -1
				}
				t.breakLine(2)
			case a == atom.Td || a == atom.Th:
				// the next cell adds the separator
			case a == atom.Tr:
				t.breakLine(1)
			case htmlBlocks[a]:
				if a == atom.Pre && inPre > 0 {
					inPre--
				}
				if a == atom.Li {
					t.bullet = false
					t.breakLine(1)
				} else {
					t.breakLine(2)
				}
			}
		case html.TextToken:
			if inDropped > 0 && !(inTitle > 0 && dropped[atom.Head] == inDropped) {
				continue
			}
			if inPre > 0 {
				t.pre(tok.Data)
			} else {
				t.text(tok.Data)
			}
		}
	}
	text := t.b.String()
	if t.headStart >= 0 { // unclosed heading at the end
		if title := strings.Join(strings.Fields(text[t.headStart:]), " "); title != "" {
			t.headings = append(t.headings, chunk.Heading{Offset: t.headStart, Level: t.headLevel, Text: title})
		}
	}
	// The source is valid UTF-8 and the tokenizer decodes character
	// references to valid runes, so text is valid UTF-8 (fuzzed).
	return chunk.Document{Text: text, Headings: t.headings}, nil
}
