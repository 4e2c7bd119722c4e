package hostiledoc

import (
	"archive/zip"
	"bytes"
	"strings"
)

const wordNS = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`

// docx zips a word/document.xml whose body is written by body.
func docx(body func(w *zipWriter)) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	f, _ := zw.Create("[Content_Types].xml")
	f.Write([]byte(`<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`))
	d, _ := zw.Create("word/document.xml")
	w := &zipWriter{w: d}
	w.s(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ` + wordNS + `><w:body>`)
	body(w)
	w.s(`</w:body></w:document>`)
	zw.Close()
	return b.Bytes()
}

type zipWriter struct {
	w interface{ Write([]byte) (int, error) }
}

func (z *zipWriter) s(s string) { z.w.Write([]byte(s)) }

// repeat writes s n times in chunks, so memory stays small.
func (z *zipWriter) repeat(s string, n int) {
	const chunk = 4096
	block := strings.Repeat(s, chunk)
	for ; n >= chunk; n -= chunk {
		z.s(block)
	}
	z.s(strings.Repeat(s, n))
}

// DOCXDeep returns a DOCX whose body nests depth elements.
func DOCXDeep(depth int) []byte {
	return docx(func(w *zipWriter) {
		w.s("<w:p><w:r><w:t>deep</w:t></w:r></w:p>")
		w.repeat("<w:sdt>", depth)
		w.repeat("</w:sdt>", depth)
	})
}

// DOCXManyElements returns a DOCX of n empty paragraphs.
func DOCXManyElements(n int) []byte {
	return docx(func(w *zipWriter) {
		w.s("<w:p><w:r><w:t>many</w:t></w:r></w:p>")
		w.repeat("<w:p/>", n)
	})
}

// DOCXTextBomb returns a DOCX whose one text run decompresses to mib MiB.
func DOCXTextBomb(mib int) []byte {
	return docx(func(w *zipWriter) {
		w.s("<w:p><w:r><w:t>")
		w.repeat(strings.Repeat("a", 1024), mib*1024)
		w.s("</w:t></w:r></w:p>")
	})
}

// DOCXManyHeadings returns a DOCX of n one-letter heading paragraphs.
func DOCXManyHeadings(n int) []byte {
	return docx(func(w *zipWriter) {
		w.repeat(`<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>a</w:t></w:r></w:p>`, n)
	})
}

// DOCXManyAttributes returns a DOCX with one element carrying n attributes.
func DOCXManyAttributes(n int) []byte {
	return docx(func(w *zipWriter) {
		w.s("<w:p><w:r><w:t>attrs</w:t></w:r></w:p><w:p")
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(" a")
			b.WriteString(itoa(i))
			b.WriteString(`=""`)
			if b.Len() > 1<<16 {
				w.s(b.String())
				b.Reset()
			}
		}
		w.s(b.String())
		w.s("/>")
	})
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var d []byte
	for ; i > 0; i /= 10 {
		d = append([]byte{byte('0' + i%10)}, d...)
	}
	return string(d)
}
