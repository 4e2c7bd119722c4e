package hostiledoc

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"fmt"
	"strings"
)

// file assembles objects (numbered from 1) into a PDF with a classic xref
// table and the given trailer entries (Size is added).
func file(objs []string, trailer string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, trailer, x)
	return b.Bytes()
}

func stream(dict string, data []byte) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

func zl(data []byte) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// onePage is a catalog, a page tree and a page whose content is obj 4.
func onePage(content string) []byte {
	return file([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		content,
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}, "/Root 1 0 R")
}

// PDFXRefSize: an xref stream declaring two billion objects.
func PDFXRefSize() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	cat := b.Len()
	b.WriteString("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	pages := b.Len()
	b.WriteString("2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n")
	x := b.Len()
	var rows []byte
	for _, o := range []int{0, cat, pages, x} {
		t := byte(1)
		if o == 0 {
			t = 0
		}
		rows = append(rows, t, byte(o>>8), byte(o), 0)
	}
	fmt.Fprintf(&b, "3 0 obj\n<< /Type /XRef /Size 2000000000 /Index [0 4] /W [1 2 1] /Root 1 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(rows), rows)
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", x)
	return b.Bytes()
}

// PDFObjStmLoop: the catalog lives in an object stream that extends itself.
func PDFObjStmLoop() []byte {
	body := "99 0 "
	objstm := stream(fmt.Sprintf("/Type /ObjStm /N 1000000000 /First %d /Extends 1 0 R", len(body)), []byte(body+"<< >>"))
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	o1 := b.Len()
	fmt.Fprintf(&b, "1 0 obj\n%s\nendobj\n", objstm)
	x := b.Len()
	// objects: 0 free, 1 at o1, 2 in stream 1 (catalog), 3 = xref stream
	rows := []byte{0, 0, 0, 0, 1, byte(o1 >> 8), byte(o1), 0, 2, 0, 1, 0, 1, byte(x >> 8), byte(x), 0}
	fmt.Fprintf(&b, "3 0 obj\n<< /Type /XRef /Size 4 /W [1 2 1] /Root 2 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(rows), rows)
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", x)
	return b.Bytes()
}

// repeatedDeflate returns a zlib stream that inflates to n MiB of the
// byte c after prefix: one compressed MiB repeated.
func repeatedDeflate(prefix string, c byte, n int) []byte {
	// Build: raw deflate of prefix + one MiB, sync-flushed, then the
	// same MiB block repeated (valid: it starts with a literal), then a
	// final empty block, with a zlib header; the Adler-32 is left wrong,
	// which decoders that stop at the data never check.
	var raw bytes.Buffer
	w, _ := flate.NewWriter(&raw, flate.BestCompression)
	w.Write([]byte(prefix))
	w.Flush()
	head := raw.Len()
	w.Write(bytes.Repeat([]byte{c}, 1<<20))
	w.Flush()
	block := append([]byte(nil), raw.Bytes()[head:]...)
	var out bytes.Buffer
	out.Write([]byte{0x78, 0x9c})
	out.Write(raw.Bytes()[:head])
	for i := 0; i < n; i++ {
		out.Write(block)
	}
	out.Write([]byte{0x03, 0x00}) // final empty fixed block
	out.Write([]byte{0, 0, 0, 0})
	return out.Bytes()
}

// PDFFlateBomb: a page whose content stream is compressed twice and inflates
// to gib GiB of one string operand.
func PDFFlateBomb(gib int) []byte {
	inner := repeatedDeflate("BT /F1 12 Tf 72 720 Td (", 'a', gib<<10)
	outer := zl(inner)
	return onePage(stream("/Filter [/FlateDecode /FlateDecode]", outer))
}

// PDFManyOps: a page of n text-show operators, compressed.
func PDFManyOps(n int) []byte {
	var c strings.Builder
	c.WriteString("BT /F1 1 Tf ")
	for i := 0; i < n; i++ {
		c.WriteString("(x) Tj ")
	}
	c.WriteString("ET")
	return onePage(stream("/Filter /FlateDecode", zl([]byte(c.String()))))
}

// PDFPageTreeLoop: the page tree's only kid is the tree itself.
func PDFPageTreeLoop() []byte {
	return file([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
		"<< /Type /Pages /Kids [2 0 R] /Count 1 /Parent 2 0 R >>",
	}, "/Root 1 0 R")
}

// PDFDeepArray: an operand nested n arrays deep.
func PDFDeepArray(n int) []byte {
	c := "BT /F1 12 Tf " + strings.Repeat("[", n) + strings.Repeat("]", n) + " TJ ET"
	return onePage(stream("", []byte(c)))
}

// PDFHugeImage: a page drawing an image that claims 100000x100000 pixels.
func PDFHugeImage() []byte {
	return file([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im 5 0 R >> >> /Contents 4 0 R >>",
		stream("", []byte("q 612 0 0 792 0 0 cm /Im Do Q")),
		stream("/Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode", zl(bytes.Repeat([]byte{0}, 1<<16))),
	}, "/Root 1 0 R")
}

// PDFText returns a valid PDF with one page per entry of pages, each
// line of text shown on its own baseline in Helvetica.
func PDFText(pages ...[]string) []byte {
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"}
	var kids []string
	for i, lines := range pages {
		var c strings.Builder
		for j, l := range lines {
			esc := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`).Replace(l)
			fmt.Fprintf(&c, "BT /F1 12 Tf 72 %d Td (%s) Tj ET\n", 720-16*j, esc)
		}
		kids = append(kids, fmt.Sprintf("%d 0 R", 4+2*i))
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i),
			stream("/Filter /FlateDecode", zl([]byte(c.String()))))
	}
	objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages))
	return file(objs, "/Root 1 0 R")
}
