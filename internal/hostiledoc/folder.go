package hostiledoc

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
)

// Outcome is what a knowledge base must make of one file of a folder that
// WriteFolder writes.
type Outcome string

// The outcomes of WriteFolder's files.
const (
	Indexed      Outcome = "indexed"        // a good document, found by its Phrase
	Malformed    Outcome = "malformed"      // fails as a damaged file
	TooComplex   Outcome = "too-complex"    // fails on a structure limit
	TextTooLarge Outcome = "text-too-large" // fails on the text limit
	OutOfMemory  Outcome = "out-of-memory"  // fails on the PDF engine's memory budget
)

// SmallLimits are the limits under which the small folder's hostile files
// fail: the most text a document may yield, and the most elements and the
// largest member of a DOCX.
const (
	SmallMaxTextBytes   = 1 << 20
	SmallMaxElements    = 200_000
	SmallMaxXMLBytes    = 32 << 20
	SmallMaxMemoryBytes = 64 << 20
)

// File is one file WriteFolder wrote.
type File struct {
	Name    string
	Outcome Outcome
	// Phrase is a sentence of a good document that a search must find.
	Phrase string
}

// WriteFolder writes good documents of every format next to hostile ones
// of each class (the sizes of the files that once took a process down) into
// dir, and returns what each must give with the loaders' default limits.
// With small, the hostile files are a twentieth of that size or less, for
// runs under the race detector; they then fail only under the tighter
// limits of SmallLimits.
func WriteFolder(dir string, small bool) ([]File, error) {
	n := func(full, reduced int) int {
		if small {
			return reduced
		}
		return full
	}
	var files []File
	write := func(name string, data []byte, o Outcome, phrase string) error {
		files = append(files, File{Name: name, Outcome: o, Phrase: phrase})
		return os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	steps := []func() error{
		func() error {
			return write("fees.md", []byte("# Fees\n\nThe annual fee of the Gold card is 95 USD.\n"), Indexed, "annual fee of the Gold card")
		},
		func() error {
			return write("cards.txt", []byte("Report a lost card by calling the hotline at once.\n"), Indexed, "Report a lost card")
		},
		func() error {
			return write("rates.csv", []byte("product,rate\nSavings Plus,4.1 percent\n"), Indexed, "Savings Plus")
		},
		func() error {
			return write("branch.json", []byte(`{"branch": {"city": "Harborview", "opens": "nine in the morning"}}`), Indexed, "Harborview")
		},
		func() error {
			return write("disputes.html", []byte("<h1>Disputes</h1><p>File a dispute within sixty days of the statement.</p>"), Indexed, "dispute within sixty days")
		},
		func() error {
			return write("overdraft.docx", simpleDOCX("Overdraft fees are refunded once a year on request."), Indexed, "Overdraft fees are refunded")
		},
		func() error {
			return write("wires.pdf", PDFText([]string{"Wire transfers", "International wires cost 25 USD each."}, []string{"Cut-off time is 4 pm."}), Indexed, "International wires cost")
		},
		func() error { return write("xref-size.pdf", PDFXRefSize(), Malformed, "") },
		func() error { return write("objstm-loop.pdf", PDFObjStmLoop(), Malformed, "") },
		func() error { return write("inflate-bomb.pdf", PDFFlateBomb(8), OutOfMemory, "") },
		func() error { return write("nested.docx", DOCXDeep(n(4_000_000, 100_000)), TooComplex, "") },
		func() error { return write("elements.docx", DOCXManyElements(n(8_000_000, 300_000)), TooComplex, "") },
		func() error { return write("text-bomb.docx", DOCXTextBomb(n(100, 4)), TextTooLarge, "") },
		func() error { return write("zip-bomb.docx", DOCXTextBomb(n(1024, 64)), TooComplex, "") },
		func() error {
			return write("long-keys.json", JSONLongKeys(n(100_000, 10_000), n(450_000, 2_000)), TextTooLarge, "")
		},
		func() error { return write("deep.json", JSONDeep(n(1_000_000, 10_000)), TooComplex, "") },
		func() error { return write("wide.csv", CSVWideRecord(n(5_000_000, 200_000)), TooComplex, "") },
		func() error {
			return write("long-header.csv", CSVLongHeader(n(1000, 100), n(1000, 100), n(2000, 200)), TextTooLarge, "")
		},
		func() error { return write("headings.md", MarkdownHeadings(n(2_000_000, 50_000)), TextTooLarge, "") },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// simpleDOCX returns a DOCX of one paragraph.
func simpleDOCX(text string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ` + wordNS + `><w:body><w:p><w:r><w:t>` + text + `</w:t></w:r></w:p></w:body></w:document>`))
	zw.Close()
	return b.Bytes()
}
