package kb

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bedrockkit/bedrockkit/chunk"
)

// DOCXLoader extracts the text of a Word document (Office Open XML,
// .docx). A .docx file is a zip archive; the loader reads its
// word/document.xml with archive/zip and encoding/xml (no third-party
// dependency: the maintained Go DOCX libraries are either commercial or not
// served by the module proxy this project uses):
//
//   - each paragraph (w:p) ends with a blank line; w:t runs are joined, w:tab
//     becomes a tab and w:br/w:cr a line break;
//   - paragraphs styled as headings (styles named "heading 1".."heading 9"
//     or "Title", or with an outline level, looked up in word/styles.xml)
//     become Headings, so chunks carry their section path;
//   - table cells are joined with " | ", each table row a paragraph.
//
// Only the document body is read: headers, footers, footnotes and comments
// are left out, and so is deleted text of tracked changes. DOCX has no fixed
// pages (pagination happens when Word renders), so
// Document.Pages stays nil. Legacy .doc files are not supported. A damaged
// archive or XML fails with ErrMalformedDocument.
type DOCXLoader struct{}

// docxMaxXML bounds the uncompressed size read from one archive member, so
// a zip bomb cannot exhaust memory.
const docxMaxXML = 256 << 20

// Load implements Loader.
func (DOCXLoader) Load(ctx context.Context, _ SourceItem, data []byte) (doc chunk.Document, err error) {
	if err := loadCheck(ctx); err != nil {
		return chunk.Document{}, err
	}
	defer recoverLoad("DOCX", &err)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return chunk.Document{}, fmt.Errorf("%w: DOCX is not a valid zip archive (%v); legacy .doc files must be converted to .docx", ErrMalformedDocument, err)
	}
	var main, styles *zip.File
	for _, f := range zr.File {
		switch f.Name {
		case "word/document.xml":
			main = f
		case "word/styles.xml":
			styles = f
		}
	}
	if main == nil {
		return chunk.Document{}, fmt.Errorf("%w: DOCX archive has no word/document.xml; is it a Word document?", ErrMalformedDocument)
	}
	levels := map[string]int{}
	if styles != nil {
		if levels, err = docxStyleLevels(styles); err != nil {
			return chunk.Document{}, fmt.Errorf("%w: DOCX word/styles.xml: %v", ErrMalformedDocument, err)
		}
	}
	rc, err := main.Open()
	if err != nil {
		return chunk.Document{}, fmt.Errorf("%w: DOCX word/document.xml: %v", ErrMalformedDocument, err)
	}
	defer rc.Close()
	doc, err = docxText(ctx, io.LimitReader(rc, docxMaxXML), levels)
	if err != nil {
		if ctx.Err() != nil {
			return chunk.Document{}, ctx.Err()
		}
		return chunk.Document{}, fmt.Errorf("%w: DOCX word/document.xml: %v", ErrMalformedDocument, err)
	}
	return doc, nil
}

const wordNS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

func wattr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name && (a.Name.Space == wordNS || a.Name.Space == "") {
			return a.Value
		}
	}
	return ""
}

// docxStyleLevels maps paragraph style IDs to heading levels.
func docxStyleLevels(f *zip.File) (map[string]int, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	dec := xml.NewDecoder(io.LimitReader(rc, docxMaxXML))
	levels := map[string]int{}
	var id string
	level := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return levels, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != wordNS {
				continue
			}
			switch t.Name.Local {
			case "style":
				id, level = wattr(t, "styleId"), 0
			case "name":
				if id != "" && level == 0 {
					level = headingStyleLevel(wattr(t, "val"))
				}
			case "outlineLvl":
				if id != "" && level == 0 {
					if n, err := strconv.Atoi(wattr(t, "val")); err == nil && n >= 0 && n < 9 {
						level = n + 1
					}
				}
			}
		case xml.EndElement:
			if t.Name.Space == wordNS && t.Name.Local == "style" {
				if id != "" && level > 0 {
					levels[id] = level
				}
				id, level = "", 0
			}
		}
	}
}

// headingStyleLevel reads "heading 2" as 2 and "Title" as 1.
func headingStyleLevel(name string) int {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "title" {
		return 1
	}
	if rest, ok := strings.CutPrefix(n, "heading"); ok {
		if l, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil && l >= 1 && l <= 9 {
			return l
		}
	}
	return 0
}

func docxText(ctx context.Context, r io.Reader, styleLevels map[string]int) (chunk.Document, error) {
	dec := xml.NewDecoder(r)
	var (
		b        strings.Builder
		para     strings.Builder
		heads    []chunk.Heading
		inText   bool
		level    int // heading level of the current paragraph
		cellDep  int // nesting of table cells
		rowCells int // cells written in the current row
	)
	endPara := func() {
		p := strings.TrimSpace(para.String())
		para.Reset()
		if p == "" {
			level = 0
			return
		}
		if cellDep > 0 {
			if rowCells > 0 {
				b.WriteString(" | ")
			} else if b.Len() > 0 {
				b.WriteString("\n\n")
			}
			rowCells++
			b.WriteString(strings.ReplaceAll(p, "\n", " "))
			level = 0
			return
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		if level > 0 {
			heads = append(heads, chunk.Heading{Offset: b.Len(), Level: level, Text: strings.Join(strings.Fields(p), " ")})
		}
		b.WriteString(p)
		level = 0
	}
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return chunk.Document{}, ctx.Err()
		}
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return chunk.Document{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != wordNS {
				continue
			}
			switch t.Name.Local {
			case "t":
				inText = true
			case "tab":
				para.WriteByte('\t')
			case "br", "cr":
				para.WriteByte('\n')
			case "pStyle":
				if l := styleLevels[wattr(t, "val")]; l > 0 {
					level = l
				} else if l := headingStyleLevel(wattr(t, "val")); l > 0 {
					level = l // documents without styles.xml use IDs like "Heading1"
				} else if l := headingStyleLevel(strings.Replace(wattr(t, "val"), "Heading", "heading ", 1)); l > 0 {
					level = l
				}
			case "outlineLvl":
				if n, err := strconv.Atoi(wattr(t, "val")); err == nil && n >= 0 && n < 9 && level == 0 {
					level = n + 1
				}
			case "tc":
				cellDep++
			case "tr":
				rowCells = 0
			}
		case xml.EndElement:
			if t.Name.Space != wordNS {
				continue
			}
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				endPara()
			case "tc":
				if cellDep > 0 {
					cellDep--
				}
			case "tbl":
				rowCells = 0
			}
		case xml.CharData:
			if inText {
				para.Write(t)
			}
		}
	}
	endPara()
	// encoding/xml rejects invalid UTF-8, so the text is valid.
	return chunk.Document{Text: b.String(), Headings: heads}, nil
}
