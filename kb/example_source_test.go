package kb_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing/fstest"

	"github.com/bedrockkit/bedrockkit/kb"
)

// A directory source lists documents in a stable order, attaches the
// attributes of "<file>.metadata.json" sidecars and reports a bad file on
// its own. Here the directory is an in-memory fs.FS; kb.NewDirSource(dir) does
// the same on disk.
func ExampleFSSource() {
	fsys := fstest.MapFS{
		"policies/fees.md":                 {Data: []byte("# Fees\n\nThe annual fee is 95 USD.\n")},
		"policies/fees.md.metadata.json":   {Data: []byte(`{"metadataAttributes": {"year": 2024, "topic": "fees"}}`)},
		"policies/cards.txt":               {Data: []byte("Report a lost card at once.\n")},
		"policies/cards.txt.metadata.json": {Data: []byte(`{"metadataAttributes": {"year": null}}`)},
	}
	src := &kb.FSSource{FS: fsys}
	for item, err := range src.Items(context.Background()) {
		var failed *kb.ItemError
		if errors.As(err, &failed) {
			fmt.Println("failed:", failed.URI, errors.Is(err, kb.ErrInvalidMetadata))
			continue
		}
		rc, _ := item.Open(context.Background())
		data, _ := io.ReadAll(rc)
		rc.Close()
		fmt.Println(item.URI, item.Metadata["year"], item.Metadata["topic"], len(data))
	}
	// Output:
	// failed: file:policies/cards.txt true
	// file:policies/fees.md 2024 fees 34
}

// DefaultLoaders picks a loader by file extension; the Markdown loader keeps
// the text and finds the section headings that citations use.
func ExampleLoaderFor() {
	loader, err := kb.LoaderFor(kb.DefaultLoaders(), "guide.md")
	if err != nil {
		panic(err)
	}
	doc, err := loader.Load(context.Background(), kb.SourceItem{Name: "guide.md"},
		[]byte("# Cards\n\nIntro.\n\n## Lost cards\n\nCall us.\n"))
	if err != nil {
		panic(err)
	}
	for _, h := range doc.Headings {
		fmt.Println(h.Level, h.Text, h.Offset)
	}
	_, err = kb.LoaderFor(kb.DefaultLoaders(), "sheet.xlsx")
	fmt.Println(errors.Is(err, kb.ErrUnsupportedFormat))
	// Output:
	// 1 Cards 0
	// 2 Lost cards 17
	// true
}

// The CSV loader turns each row into "column: value" lines, one record per
// paragraph, so that rows chunk and match well.
func ExampleCSVLoader() {
	doc, err := kb.CSVLoader{}.Load(context.Background(), kb.SourceItem{Name: "fees.csv"},
		[]byte("service,fee\nWire transfer,25 USD\nCard replacement,10 USD\n"))
	if err != nil {
		panic(err)
	}
	fmt.Println(doc.Text)
	// Output:
	// service: Wire transfer
	// fee: 25 USD
	//
	// service: Card replacement
	// fee: 10 USD
}

// A metadata sidecar in Bedrock's format, with plain and typed values.
func ExampleParseSidecar() {
	md, err := kb.ParseSidecar([]byte(`{"metadataAttributes": {
		"year": 2024,
		"tags": ["fees", "cards"],
		"region": {"value": {"type": "STRING", "stringValue": "eu"}, "includeForEmbedding": true}
	}}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(md.Attributes["year"], md.Attributes["tags"], md.Attributes["region"], md.IncludeForEmbedding)
	// Output:
	// 2024 [fees cards] eu [region]
}
