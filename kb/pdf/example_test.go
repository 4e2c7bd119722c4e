package pdf_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/pdf"
)

// The loader extracts a PDF's text page by page; Document.Pages says where
// each page starts, so chunks cite their page.
func ExampleNewLoader() {
	loader := pdf.NewLoader(pdf.Options{CacheDir: filepath.Join(os.TempDir(), "bedrockkit-pdf-engine-cache")})
	defer loader.Close()
	data, err := os.ReadFile("testdata/multilingual.pdf")
	if err != nil {
		panic(err)
	}
	doc, err := loader.Load(context.Background(), kb.SourceItem{Name: "multilingual.pdf"}, data)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(doc.Pages), "pages")
	fmt.Println(doc.Text[doc.Pages[1]:])
	// Output:
	// 2 pages
	// Ελληνικά και Кириллица
	// Η ετήσια χρέωση είναι 95 ευρώ. Годовая плата составляет 95 евро. Grüße aus Köln, Øresund, İstanbul.
}

// Registered under "pdf", the loader lets a knowledge base sync PDFs.
func ExampleLoader_registration() {
	loader := pdf.NewLoader(pdf.Options{})
	defer loader.Close()
	loaders := kb.DefaultLoaders()
	loaders["pdf"] = loader
	_, err := kb.LoaderFor(loaders, "report.PDF")
	fmt.Println(err)
	// Output:
	// <nil>
}
