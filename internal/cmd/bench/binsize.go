package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// The binsize suite builds the same small RAG program with bedrockkit and with
// langchaingo, each in a scratch module, and prints the binary sizes (as
// built, and stripped with -s -w), the number of packages linked and the
// number of modules, with ratios to langchaingo. It needs the Go module proxy
// (for langchaingo's dependencies) and a checkout of bedrockkit: this one by
// default, and with -before DIR an older checkout too, built the same way.
//
//	go run ./internal/cmd/bench binsize [-before DIR]
func init() { commands["binsize"] = runBinsize }

// binsizeBedrockkit is the bedrockkit program: Titan embeddings, the
// embedded store on disk, a folder synced with the built-in loaders and
// chunking, a filtered retrieval. It imports the root package, kb and
// kb/localindex, and nothing else from the module.
const binsizeBedrockkit = `package main

import (
	"context"
	"fmt"
	"log"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func main() {
	ctx := context.Background()
	embedder, err := bedrockkit.NewTitanEmbedder(nil, bedrockkit.TitanOptions{})
	if err != nil {
		log.Fatal(err)
	}
	store, err := localindex.Open(localindex.Options{Dir: "index"})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	base, err := kb.New(kb.Options{Store: store, Embedder: embedder, EmbedderID: "amazon.titan-embed-text-v2:0"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := base.Sync(ctx, kb.NewDirSource("docs")); err != nil {
		log.Fatal(err)
	}
	res, err := base.Retrieve(ctx, "refund policy", kb.RetrieveOptions{NumberOfResults: 3, Filter: kb.Equals("region", "eu")})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range res {
		fmt.Println(r.Score, r.DocumentID, r.Text)
	}
}
`

// binsizeBedrockkitBefore is the same program written against the API of
// the checkout named by -before (the commit before issue 15: no nil client,
// filters by pointer).
const binsizeBedrockkitBefore = `package main

import (
	"context"
	"fmt"
	"log"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func main() {
	ctx := context.Background()
	client, err := bedrockkit.NewRuntimeClient(ctx, bedrockkit.RuntimeClientOptions{})
	if err != nil {
		log.Fatal(err)
	}
	embedder, err := bedrockkit.NewTitanEmbedder(client, bedrockkit.TitanOptions{})
	if err != nil {
		log.Fatal(err)
	}
	store, err := localindex.Open(localindex.Options{Dir: "index"})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	base, err := kb.New(kb.Config{Store: store, Embedder: embedder, EmbedderID: "amazon.titan-embed-text-v2:0"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := base.Sync(ctx, kb.DirSource("docs"), nil); err != nil {
		log.Fatal(err)
	}
	filter := kb.Equals("region", "eu")
	res, err := base.Retrieve(ctx, "refund policy", &kb.RetrieveOptions{NumberOfResults: 3, Filter: &filter})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range res {
		fmt.Println(r.Score, r.DocumentID, r.Text)
	}
}
`

// binsizeLangchaingo is the like-for-like langchaingo program: Bedrock
// embeddings, the pgvector store, the directory loader and the recursive
// splitter, a filtered similarity search.
const binsizeLangchaingo = `package main

import (
	"context"
	"fmt"
	"log"

	"github.com/tmc/langchaingo/documentloaders"
	"github.com/tmc/langchaingo/embeddings/bedrock"
	"github.com/tmc/langchaingo/textsplitter"
	"github.com/tmc/langchaingo/vectorstores"
	"github.com/tmc/langchaingo/vectorstores/pgvector"
)

func main() {
	ctx := context.Background()
	embedder, err := bedrock.NewBedrock(bedrock.WithModel("amazon.titan-embed-text-v2:0"))
	if err != nil {
		log.Fatal(err)
	}
	store, err := pgvector.New(ctx, pgvector.WithConnectionURL("postgres://localhost/rag"), pgvector.WithEmbedder(embedder))
	if err != nil {
		log.Fatal(err)
	}
	docs, err := documentloaders.NewRecursiveDirLoader(documentloaders.WithRoot("docs")).LoadAndSplit(ctx, textsplitter.NewRecursiveCharacter())
	if err != nil {
		log.Fatal(err)
	}
	if _, err := store.AddDocuments(ctx, docs); err != nil {
		log.Fatal(err)
	}
	res, err := store.SimilaritySearch(ctx, "refund policy", 3, vectorstores.WithFilters(map[string]any{"region": "eu"}))
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range res {
		fmt.Println(r.Score, r.Metadata, r.PageContent)
	}
}
`

// binsizeLangchaingoBare is langchaingo's smallest comparable program: a
// Bedrock model and the vectorstores package, no store, loader or splitter.
const binsizeLangchaingoBare = `package main

import (
	"context"
	"fmt"
	"log"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/bedrock"
	"github.com/tmc/langchaingo/vectorstores"
)

var _ vectorstores.VectorStore

func main() {
	llm, err := bedrock.New(bedrock.WithModel("amazon.nova-lite-v1:0"))
	if err != nil {
		log.Fatal(err)
	}
	out, err := llms.GenerateFromSinglePrompt(context.Background(), llm, "hello")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out)
}
`

type binsizeRow struct {
	name                       string
	size, stripped, pkgs, mods int64
}

func runBinsize(args []string) error {
	fs := flag.NewFlagSet("binsize", flag.ContinueOnError)
	before := fs.String("before", "", "an older bedrockkit checkout to build the same program from (a `DIR`)")
	lcVersion := fs.String("langchaingo", "v0.1.14", "langchaingo `version`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	here, err := moduleRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "bedrockkit-binsize-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	type build struct {
		name, src, require, replace string
	}
	builds := []build{}
	if *before != "" {
		abs, err := filepath.Abs(*before)
		if err != nil {
			return err
		}
		builds = append(builds, build{"bedrockkit before", binsizeBedrockkitBefore, "github.com/bedrockkit/bedrockkit v0.0.0", abs})
	}
	builds = append(builds,
		build{"bedrockkit", binsizeBedrockkit, "github.com/bedrockkit/bedrockkit v0.0.0", here},
		build{"langchaingo like-for-like", binsizeLangchaingo, "github.com/tmc/langchaingo " + *lcVersion, ""},
		build{"langchaingo bare", binsizeLangchaingoBare, "github.com/tmc/langchaingo " + *lcVersion, ""},
	)
	fmt.Printf("# binsize: %s %s/%s, -trimpath; stripped = -ldflags='-s -w'\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("%-28s %10s %10s %6s %6s\n", "program", "MB", "stripped", "pkgs", "mods")
	var rows []binsizeRow
	for i, b := range builds {
		dir := filepath.Join(work, fmt.Sprint(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		mod := "module example.com/binsize\n\ngo 1.24\n\nrequire " + b.require + "\n"
		if b.replace != "" {
			mod += "\nreplace github.com/bedrockkit/bedrockkit => " + b.replace + "\n"
		}
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(b.src), 0o644); err != nil {
			return err
		}
		if _, err := goCmd(dir, "mod", "tidy"); err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		row := binsizeRow{name: b.name}
		for _, stripped := range []bool{false, true} {
			bin := filepath.Join(dir, "prog")
			argv := []string{"build", "-trimpath", "-o", bin}
			if stripped {
				argv = append(argv, "-ldflags=-s -w")
			}
			if _, err := goCmd(dir, append(argv, ".")...); err != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
			st, err := os.Stat(bin)
			if err != nil {
				return err
			}
			if stripped {
				row.stripped = st.Size()
			} else {
				row.size = st.Size()
				out, err := goCmd(dir, "version", "-m", bin)
				if err != nil {
					return err
				}
				for _, l := range strings.Split(out, "\n") {
					if f := strings.Fields(l); len(f) > 0 && f[0] == "dep" {
						row.mods++
					}
				}
			}
		}
		out, err := goCmd(dir, "list", "-deps", ".")
		if err != nil {
			return err
		}
		row.pkgs = int64(len(strings.Fields(out)))
		rows = append(rows, row)
		fmt.Printf("%-28s %10.2f %10.2f %6d %6d\n", row.name, mb(row.size), mb(row.stripped), row.pkgs, row.mods)
	}
	var ours, lc, bare binsizeRow
	for _, r := range rows {
		switch r.name {
		case "bedrockkit":
			ours = r
		case "langchaingo like-for-like":
			lc = r
		case "langchaingo bare":
			bare = r
		}
	}
	fmt.Printf("# bedrockkit / langchaingo like-for-like: %.2fx (stripped %.2fx); / langchaingo bare: %.2fx (stripped %.2fx)\n",
		float64(ours.size)/float64(lc.size), float64(ours.stripped)/float64(lc.stripped),
		float64(ours.size)/float64(bare.size), float64(ours.stripped)/float64(bare.stripped))
	var last strings.Builder
	for _, r := range rows {
		key := strings.NewReplacer(" ", "_", "-", "_").Replace(r.name)
		fmt.Fprintf(&last, "%s_mb=%.2f %s_stripped_mb=%.2f %s_modules=%d ", key, mb(r.size), key, mb(r.stripped), key, r.mods)
	}
	fmt.Fprintf(&last, "ratio_like_for_like=%.3f ratio_bare=%.3f", float64(ours.size)/float64(lc.size), float64(ours.size)/float64(bare.size))
	fmt.Println(last.String())
	return nil
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// goCmd runs the go command in dir and returns its standard output.
func goCmd(dir string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// moduleRoot is the directory of the bedrockkit checkout the command runs in.
func moduleRoot() (string, error) {
	out, err := goCmd(".", "env", "GOMOD")
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(out)
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run binsize inside the bedrockkit module")
	}
	return filepath.Dir(gomod), nil
}
