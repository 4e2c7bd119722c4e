// Command hostilesync syncs a folder of good documents and hostile ones
// (PDFs that make parsers allocate tens of gigabytes or loop, DOCX of
// nested or countless elements, zip and inflate bombs, JSON whose key paths
// explode, ...) into a knowledge base and checks that every good document
// is indexed and every hostile one fails alone with the right error.
//
// CI runs it under a 2 GiB address-space limit (.ci/hostile.sh):
//
//	go build -o /tmp/hostilesync ./internal/cmd/hostilesync
//	/tmp/hostilesync -warm -cache /tmp/pdf-cache
//	prlimit --as=2147483648 /tmp/hostilesync -cache /tmp/pdf-cache
//
// The first step compiles the PDF engine into its cache without the limit:
// compiling it once takes about 500 MB of heap, which does not fit beside
// the Go runtime's own address-space reservations (over 1 GiB) under a
// 2 GiB cap. Loading documents does.
//
// It exits 0 when every check holds, 1 with the list of mismatches
// otherwise; a crash or hang is a failure too.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/bedrockkit/bedrockkit/internal/hostiledoc"
	"github.com/bedrockkit/bedrockkit/internal/hostilesync"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/pdf"
)

func main() {
	dir := flag.String("dir", "", "folder to write the documents into (default: a new temporary folder, removed at the end)")
	cache := flag.String("cache", "", "directory caching the compiled PDF engine between runs (default: none)")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	warm := flag.Bool("warm", false, "only compile the PDF engine into -cache, then exit")
	flag.Parse()
	if *warm {
		l := pdf.NewLoader(pdf.Options{CacheDir: *cache})
		_, err := l.Load(context.Background(), kb.SourceItem{Name: "warm.pdf"}, hostiledoc.PDFText([]string{"warm"}))
		l.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, "hostilesync:", err)
			os.Exit(1)
		}
		return
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "hostilesync-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "hostilesync:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	start := time.Now()
	res, err := hostilesync.Run(ctx, hostilesync.Options{Dir: *dir, PDF: pdf.NewLoader(pdf.Options{CacheDir: *cache})})
	if res != nil && res.Report != nil {
		r := res.Report
		fmt.Printf("scanned %d, new %d, failed %d (over a limit: size %d, text %d, structure %d, memory %d, time %d) in %v\n",
			r.Scanned, r.New, r.Failed, r.OverLimit.Size, r.OverLimit.Text, r.OverLimit.Structure, r.OverLimit.Memory, r.OverLimit.Time, time.Since(start).Round(time.Millisecond))
		for _, f := range r.Failures {
			fmt.Printf("  %s\n", f)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("hostilesync: every good document indexed, every hostile one failed alone")
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmPeak") || strings.HasPrefix(l, "VmHWM") {
				fmt.Println(strings.Join(strings.Fields(l), " "))
			}
		}
	}
}
