// Package pdf is the knowledge base's loader for PDF files. It is a
// package of its own, registered by the programs that want it, because its
// engine adds several megabytes to a program:
//
//	pdfs := pdf.NewLoader(pdf.Options{CacheDir: filepath.Join(cacheDir, "bedrockkit-pdf")})
//	defer pdfs.Close()
//	loaders := kb.DefaultLoaders()
//	loaders["pdf"] = pdfs
//	base, err := kb.New(kb.Options{Store: store, Embedder: embedder, Loaders: loaders})
//
// Text is extracted by PDFium, the PDF engine of Chromium, compiled to
// WebAssembly and run in-process by wazero (pure Go, no cgo): fonts,
// encodings, ToUnicode maps, object and cross-reference streams and
// broken files are handled the way a browser handles them. Each page's text
// comes in reading order with the spaces and line breaks PDFium infers,
// plus a space where two words sit apart on a line without one;
// ligatures are expanded and a word hyphenated across lines is joined. The
// Document records where each page starts, so chunks cite their page
// number. Files with no text (scans) fail with kb.ErrNoText, damaged or
// password-protected ones with kb.ErrMalformedDocument.
//
// # Limits
//
// A PDF is a program for its reader, and a hostile one can ask for
// unbounded memory or time. Every document therefore runs in a fresh
// engine instance with its own memory, which the instance cannot grow past
// Options.MaxMemoryBytes (256 MiB by default) or past what the operating
// system grants; when PDFium runs out it aborts, and the document fails
// with an error wrapping kb.ErrLoadMemory while the process, and the next
// document, carry on. The context of Load bounds the time: when it is done
// the running call is interrupted and the instance discarded (a Sync gives
// each document kb.Options.LoadTimeout). The text, plus kb.HeadingCost per
// page, is bounded by kb.LoadLimits.MaxTextBytes (kb.ErrTextTooLarge). No
// file system is visible to the engine: documents are passed in memory.
//
// # Start-up
//
// The engine is compiled to machine code by the first Load, which takes
// seconds (and about 500 MB of memory, once); later Loads reuse it. With
// Options.CacheDir the compiled code is kept on disk and a new process
// starts in a fraction of a second. Create one Loader, share it and Close
// it when done.
package pdf
