package hostiledoc

import (
	"strings"
)

// JSONLongKeys returns a JSON object with one key of keyLen bytes holding an
// array of n numbers: flattened to "key[i]: 1" lines it is keyLen*n bytes.
func JSONLongKeys(keyLen, n int) []byte {
	var b strings.Builder
	b.WriteString(`{"`)
	b.WriteString(strings.Repeat("k", keyLen))
	b.WriteString(`":[`)
	b.WriteString(strings.Repeat("1,", n))
	b.WriteString(`1]}`)
	return []byte(b.String())
}

// JSONDeepKeys returns depth nested objects, each under a key of keyLen
// bytes, with one leaf at the bottom: its key path is depth*keyLen bytes.
func JSONDeepKeys(depth, keyLen int) []byte {
	key := `"` + strings.Repeat("k", keyLen) + `":`
	var b strings.Builder
	for i := 0; i < depth; i++ {
		b.WriteString("{")
		b.WriteString(key)
	}
	b.WriteString("1")
	b.WriteString(strings.Repeat("}", depth))
	return []byte(b.String())
}

// JSONDeep returns an array nested depth deep.
func JSONDeep(depth int) []byte {
	return []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
}

// JSONLinesBlank returns n blank lines of JSON Lines.
func JSONLinesBlank(n int) []byte {
	return []byte(strings.Repeat("\n", n))
}

// CSVWideRecord returns a header and one record of n empty fields.
func CSVWideRecord(n int) []byte {
	return []byte("a,b\n" + strings.Repeat(",", n) + "\n")
}

// CSVLongHeader returns cols columns named by nameLen bytes each and rows
// rows of one-digit values: each row reads as cols*nameLen bytes.
func CSVLongHeader(cols, nameLen, rows int) []byte {
	var b strings.Builder
	for i := 0; i < cols; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.Repeat("h", nameLen))
	}
	b.WriteByte('\n')
	row := strings.TrimSuffix(strings.Repeat("1,", cols), ",") + "\n"
	b.WriteString(strings.Repeat(row, rows))
	return []byte(b.String())
}

// HTMLDeep returns n nested divs around a sentence.
func HTMLDeep(n int) []byte {
	return []byte("<html><body>" + strings.Repeat("<div>", n) + "deep text" + strings.Repeat("</div>", n) + "</body></html>")
}

// HTMLListBomb returns n empty list items, which a loader writes as
// bullet lines.
func HTMLListBomb(n int) []byte {
	return []byte("<ul>" + strings.Repeat("<li>x", n) + "</ul>")
}

// MarkdownHeadings returns n one-letter ATX headings.
func MarkdownHeadings(n int) []byte {
	return []byte(strings.Repeat("# a\n", n))
}
