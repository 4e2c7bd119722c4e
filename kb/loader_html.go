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
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"

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
// The page's encoding is UTF-8 or UTF-16 with a byte order mark. Other
// bytes are decoded as windows-1252 when no charset is declared, or a
// <meta> tag declares it or ISO-8859-1 or ASCII (which browsers read as
// windows-1252). Any other declared charset is decoded by Encodings; without
// it the page fails with ErrInvalidEncoding.
//
// # Limits
//
// The page is streamed token by token and no tree is built, so deep
// nesting costs nothing. The text, plus HeadingCost per heading, stops at
// LoadLimits.MaxTextBytes with ErrTextTooLarge; a cancelled context stops
// the loader within a few thousand tokens.
type HTMLLoader struct {
	// Encodings returns the decoder of a charset label declared by a page,
	// such as "shift_jis". Nil supports only the encodings above; set it to
	// htmlindex.Get (golang.org/x/text/encoding/htmlindex) to read every
	// encoding browsers know, at the cost of their tables in the program.
	Encodings func(label string) (encoding.Encoding, error)
}

// Load implements Loader.
func (l HTMLLoader) Load(ctx context.Context, _ SourceItem, data []byte) (chunk.ParsedDocument, error) {
	if err := loadCheck(ctx); err != nil {
		return chunk.ParsedDocument{}, err
	}
	src, err := l.decode(data)
	if err != nil {
		return chunk.ParsedDocument{}, err
	}
	return extractHTML(ctx, src, LoadLimitsFromContext(ctx).MaxTextBytes)
}

// latin1Labels are the labels the WHATWG Encoding Standard maps to
// windows-1252.
var latin1Labels = map[string]bool{
	"ansi_x3.4-1968": true, "ascii": true, "cp1252": true, "cp819": true, "csisolatin1": true,
	"ibm819": true, "iso-8859-1": true, "iso-ir-100": true, "iso8859-1": true, "iso88591": true,
	"iso_8859-1": true, "iso_8859-1:1987": true, "l1": true, "latin1": true, "us-ascii": true,
	"windows-1252": true, "x-cp1252": true,
}

var utf8Labels = map[string]bool{"utf-8": true, "utf8": true, "unicode-1-1-utf-8": true, "unicode11utf8": true, "unicode20utf8": true, "x-unicode20utf8": true}

func (l HTMLLoader) decode(data []byte) (string, error) {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return decodeUTF16(data)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if utf8.Valid(data) {
		return string(data), nil
	}
	label := metaCharset(data)
	var enc encoding.Encoding = charmap.Windows1252
	switch {
	case label == "" || latin1Labels[label]:
	case utf8Labels[label]:
		return "", checkText(data) // declared UTF-8 but is not: report where
	case l.Encodings != nil:
		e, err := l.Encodings(label)
		if err != nil || e == nil {
			return "", fmt.Errorf("kb: the page declares the charset %q, which HTMLLoader.Encodings does not know (%v); save it as UTF-8: %w", label, err, ErrInvalidEncoding)
		}
		enc = e
	default:
		return "", fmt.Errorf("kb: the page declares the charset %q; save it as UTF-8, or set HTMLLoader.Encodings to htmlindex.Get (golang.org/x/text/encoding/htmlindex) to read it: %w", label, ErrInvalidEncoding)
	}
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return "", fmt.Errorf("kb: decoding the page as %s: %v; save it as UTF-8: %w", label, err, ErrInvalidEncoding)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), nil
}

// metaCharset returns the lower-cased charset a <meta> tag in the first
// 1024 bytes declares, or "": <meta charset=...> or <meta
// http-equiv="content-type" content="...; charset=...">.
func metaCharset(data []byte) string {
	z := html.NewTokenizer(bytes.NewReader(data[:min(len(data), 1024)]))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return ""
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if atom.Lookup(name) != atom.Meta {
			continue
		}
		var charset, content string
		httpEquiv := false
		for hasAttr {
			var k, v []byte
			k, v, hasAttr = z.TagAttr()
			switch string(k) {
			case "charset":
				charset = string(v)
			case "content":
				content = string(v)
			case "http-equiv":
				httpEquiv = strings.EqualFold(string(v), "content-type")
			}
		}
		if charset == "" && httpEquiv {
			if _, after, ok := strings.Cut(strings.ToLower(content), "charset="); ok {
				after, _, _ = strings.Cut(after, ";")
				charset = strings.Trim(strings.TrimSpace(after), `"'`)
			}
		}
		if charset = strings.ToLower(strings.TrimSpace(charset)); charset != "" {
			return charset
		}
	}
}

// htmlText accumulates extracted text with lazy breaks and spaces, so the
// output has no leading, trailing or doubled blank lines.
type htmlText struct {
	max       int64 // limit on the text plus HeadingCost per heading
	over      bool  // the limit was passed
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

// fits reports whether n more bytes stay within the limit, and records
// when they do not.
func (t *htmlText) fits(n int) bool {
	if int64(t.b.Len()+n+4)+HeadingCost*int64(len(t.headings)+1) > t.max {
		t.over = true
	}
	return !t.over
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
		if !t.fits(len(f)) {
			return
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
	if s == "" || !t.fits(len(s)) {
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

// extractHTML turns HTML into text with headings: block elements become
// paragraphs, list items bullets, table cells of a row are separated, and
// dropped elements (scripts, styles, navigation, ...) are left out, except
// the page title.
func extractHTML(ctx context.Context, src string, maxText int64) (chunk.ParsedDocument, error) {
	z := html.NewTokenizer(strings.NewReader(src))
	w := &htmlWalk{t: &htmlText{headStart: -1, max: maxText}, dropped: map[atom.Atom]int{}}
	t := w.t
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return chunk.ParsedDocument{}, ctx.Err()
		}
		if t.over {
			return chunk.ParsedDocument{}, textTooLarge("HTML", maxText)
		}
		tt := z.Next()
		if tt == html.ErrorToken {
			if err := z.Err(); err != io.EOF {
				return chunk.ParsedDocument{}, fmt.Errorf("kb: HTML: %v: %w", err, ErrMalformedDocument)
			}
			break
		}
		// TagName and Text, unlike Token, allocate no attributes.
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			w.startTag(atom.Lookup(name), tt == html.StartTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			w.endTag(atom.Lookup(name))
		case html.TextToken:
			w.textToken(string(z.Text()))
		}
	}
	if t.over {
		return chunk.ParsedDocument{}, textTooLarge("HTML", maxText)
	}
	text := t.b.String()
	if t.headStart >= 0 { // unclosed heading at the end
		if title := strings.Join(strings.Fields(text[t.headStart:]), " "); title != "" {
			t.headings = append(t.headings, chunk.Heading{Offset: t.headStart, Level: t.headLevel, Text: title})
		}
	}
	// The source is valid UTF-8 and the tokenizer decodes character
	// references to valid runes, so text is valid UTF-8 (fuzzed).
	return chunk.ParsedDocument{Text: text, Headings: t.headings}, nil
}

// htmlWalk is the state of extractHTML between tokens.
type htmlWalk struct {
	t         *htmlText
	dropped   map[atom.Atom]int // open dropped elements by tag
	inDropped int
	inTitle   int
	inPre     int
}

// hidden reports whether the current position is inside a dropped
// element, the title of the head excepted.
func (w *htmlWalk) hidden() bool {
	return w.inDropped > 0 && !(w.inTitle > 0 && w.dropped[atom.Head] == w.inDropped)
}

// startTag handles a start tag (open) or a self-closing one.
func (w *htmlWalk) startTag(a atom.Atom, open bool) {
	t := w.t
	if a == atom.Title {
		w.inTitle++
	}
	if htmlDropped[a] && open {
		w.dropped[a]++
		w.inDropped++
		return
	}
	if w.hidden() {
		return
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
		if !t.fits(3) {
			return
		}
		t.breakLine(1)
		t.bullet = true
	case htmlBlocks[a]:
		t.breakLine(2)
		if a == atom.Pre && open {
			w.inPre++
		}
	}
}

// endTag handles an end tag.
func (w *htmlWalk) endTag(a atom.Atom) {
	t := w.t
	if a == atom.Title && w.inTitle > 0 {
		w.inTitle--
	}
	if htmlDropped[a] && w.dropped[a] > 0 {
		w.dropped[a]--
		w.inDropped--
		return
	}
	if w.hidden() {
		if a == atom.Title {
			t.breakLine(2)
		}
		return
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
		if a == atom.Pre && w.inPre > 0 {
			w.inPre--
		}
		if a == atom.Li {
			t.bullet = false
			t.breakLine(1)
		} else {
			t.breakLine(2)
		}
	}
}

// textToken handles a text token.
func (w *htmlWalk) textToken(data string) {
	if w.hidden() {
		return
	}
	if w.inPre > 0 {
		w.t.pre(data)
	} else {
		w.t.text(data)
	}
}
