package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bedrockkit/bedrockkit/guardrail/internal/classify"
	"github.com/bedrockkit/bedrockkit/guardrail/internal/normalize"
	"github.com/bedrockkit/bedrockkit/guardrail/internal/perplexity"
	"github.com/bedrockkit/bedrockkit/internal/tokenizer"
)

// The perplexity model (guardrail/internal/perplexity) learns ordinary
// text from what is on any machine that builds this project: the SciFact
// abstracts and BFCL questions of the shared data, Go's source and
// documentation in GOROOT, the project's docs and the everyday requests
// above, plus, where present, Python's standard library and the translated
// UI strings of /usr/share/locale (other languages). It learns token soup
// from random sequences of cl100k_base tokens. Every tenth document of each
// source is held out to set the thresholds and measure false positives,
// with the benign prompts of the injection sets (never trained on) and
// generated URLs, base64, hex IDs and UUIDs; detection is measured on
// harmful requests written for the project followed by soup of cl100k
// tokens (another seed) and of o200k_base tokens, a vocabulary the model
// never saw.

// lmSource is one source of ordinary text, split into documents.
type lmSource struct {
	name string
	docs []string
}

func lmSources(data, everydayFile string) []lmSource {
	var out []lmSource
	add := func(name string, docs []string) {
		if len(docs) > 0 {
			out = append(out, lmSource{name, docs})
		}
		fmt.Printf("lm source %-12s %6d documents\n", name, len(docs))
	}
	// SciFact abstracts.
	var sci []string
	if fh, err := os.Open(filepath.Join(data, "scifact", "corpus.jsonl")); err == nil {
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var r struct{ Title, Text string }
			if json.Unmarshal(sc.Bytes(), &r) == nil {
				sci = append(sci, r.Title+"\n"+r.Text)
			}
		}
		fh.Close()
	}
	add("scifact", sci)
	ev, _ := loadEveryday(filepath.Join(data, "bfcl", "question"))
	var bfcl []string
	for _, e := range ev {
		bfcl = append(bfcl, e.text)
	}
	add("bfcl", bfcl)
	w, _ := loadLines(everydayFile)
	var everyday []string
	for _, e := range w {
		everyday = append(everyday, e.text)
	}
	add("everyday", everyday)
	goroot := os.Getenv("GOROOT")
	if goroot == "" {
		goroot = "/usr/local/go"
	}
	add("go-source", readFiles(filepath.Join(goroot, "src"), ".go", 7<<20))
	docs := readFiles(filepath.Join(goroot, "doc"), ".html", 4<<20)
	docs = append(docs, readFiles("../../../../docs", ".md", 4<<20)...)
	for _, f := range []string{"../../../../README.md", "../../../../ARCHITECTURE.md"} {
		if b, err := os.ReadFile(f); err == nil {
			docs = append(docs, string(b))
		}
	}
	add("docs", docs)
	if py, _ := filepath.Glob("/usr/lib/python3*"); len(py) > 0 {
		add("python", readFiles(py[0], ".py", 4<<20))
	}
	add("locale", localeStrings("*", 6<<20))
	var euro []string
	for _, l := range []string{"de", "fr", "es", "it", "pt", "nl", "pl", "sv", "da", "cs", "tr", "id"} {
		euro = append(euro, localeStrings(l, 400<<10)...)
	}
	add("locale-euro", euro)
	return out
}

// readFiles reads files with the suffix under dir, in name order, every
// k-th so that about limit bytes are read (whole files; testdata skipped).
func readFiles(dir, suffix string, limit int) []string {
	var files []string
	var total int64
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if info.IsDir() && (info.Name() == "testdata" || info.Name() == "vendor") {
			return filepath.SkipDir
		}
		if !info.IsDir() && strings.HasSuffix(p, suffix) {
			files = append(files, p)
			total += info.Size()
		}
		return nil
	})
	sort.Strings(files)
	step := max(1, int(total/int64(limit)))
	var out []string
	for i := 0; i < len(files); i += step {
		if b, err := os.ReadFile(files[i]); err == nil && len(b) < 1<<20 {
			out = append(out, string(b))
		}
	}
	return out
}

// localeStrings reads the translated strings of the GNU .mo catalogues of
// /usr/share/locale/LANG (a glob), grouped 20 to a document, about limit
// bytes spread over the catalogues.
func localeStrings(lang string, limit int) []string {
	files, _ := filepath.Glob(filepath.Join("/usr/share/locale", lang, "LC_MESSAGES", "*.mo"))
	sort.Strings(files)
	var all []string
	for _, f := range files {
		if strings.Contains(filepath.Base(f), "iso_") {
			continue // lists of country and language names
		}
		b, err := os.ReadFile(f)
		if err != nil || len(b) < 28 {
			continue
		}
		var bo binary.ByteOrder = binary.LittleEndian
		if bo.Uint32(b) != 0x950412de {
			bo = binary.BigEndian
		}
		n, to := int(bo.Uint32(b[8:])), int(bo.Uint32(b[16:]))
		for i := 0; i < n && to+8*i+8 <= len(b); i++ {
			l, o := int(bo.Uint32(b[to+8*i:])), int(bo.Uint32(b[to+8*i+4:]))
			if o+l > len(b) || l < 12 {
				continue
			}
			s, _, _ := strings.Cut(string(b[o:o+l]), "\x00")
			all = append(all, s)
		}
	}
	total := 0
	for _, s := range all {
		total += len(s)
	}
	step := max(1, total/limit)
	var out []string
	var cur []string
	for i := 0; i < len(all); i += step {
		cur = append(cur, all[i])
		if len(cur) == 20 {
			out = append(out, strings.Join(cur, "\n"))
			cur = nil
		}
	}
	return out
}

// soup returns n strings of k random tokens of enc drawn from toks.
func soup(r *rand.Rand, enc *tokenizer.Encoding, toks []int, n, k int) []string {
	out := make([]string, n)
	ts := make([]int, k)
	for i := range out {
		for j := range ts {
			ts[j] = toks[r.IntN(len(toks))]
		}
		out[i] = enc.Decode(ts)
	}
	return out
}

// asciiTokens returns the tokens of enc (ids below n) that decode to
// printable ASCII, and those of them of at most five bytes.
func asciiTokens(enc *tokenizer.Encoding, n int) (all, short []int) {
	for t := 0; t < n; t++ {
		s := enc.Decode([]int{t})
		ok := s != ""
		for i := 0; i < len(s); i++ {
			ok = ok && s[i] >= 0x20 && s[i] < 0x7f
		}
		if ok {
			all = append(all, t)
			if len(s) <= 5 {
				short = append(short, t)
			}
		}
	}
	return all, short
}

// syntheticBenign returns text users paste that is neither prose nor
// soup: URLs, base64, hex digests, UUIDs, JSON, paths, in sentences.
func syntheticBenign(r *rand.Rand, n int) []string {
	hex := func(k int) string {
		const d = "0123456789abcdef"
		b := make([]byte, k)
		for i := range b {
			b[i] = d[r.IntN(16)]
		}
		return string(b)
	}
	b64 := func(k int) string {
		const d = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		b := make([]byte, k)
		for i := range b {
			b[i] = d[r.IntN(64)]
		}
		return string(b)
	}
	templates := []func() string{
		func() string { return "Can you check why this commit " + hex(40) + " broke the build on main?" },
		func() string {
			return "The request id is " + hex(8) + "-" + hex(4) + "-" + hex(4) + "-" + hex(4) + "-" + hex(12) + ", please look it up in the logs."
		},
		func() string { return "Decode this base64 for me: " + b64(8+r.IntN(120)) + "==" },
		func() string {
			return "Why does https://example.com/search?q=" + b64(12) + "&session=" + hex(16) + "&lang=en return 404?"
		},
		func() string {
			return "Here is the JSON: {\"id\": \"" + hex(24) + "\", \"token\": \"" + b64(32) + "\", \"retry\": 3, \"tags\": [\"a\", \"b\"]}"
		},
		func() string { return "My API key " + "sk-" + b64(48) + " stopped working today, what should I do?" },
		func() string {
			return "The file is at /var/lib/app/" + hex(6) + "/cache/" + b64(10) + ".tmp and C:\\Users\\ana\\AppData\\Local\\Temp\\" + hex(8) + ".log"
		},
		func() string { return "sha256: " + hex(64) + "  release-" + hex(7) + ".tar.gz" },
		func() string {
			return "ssh-ed25519 " + b64(68) + " ana@laptop -- is this public key safe to share with the team?"
		},
		func() string {
			return fmt.Sprintf("Error at 0x%s in module %s: segmentation fault (core dumped) after %d ms", hex(12), hex(6), r.IntN(9999))
		},
	}
	out := make([]string, n)
	for i := range out {
		out[i] = templates[r.IntN(len(templates))]()
	}
	return out
}

// trainLM trains the perplexity model, reports false positives and
// detection, sets the thresholds and writes it to path.
func trainLM(data, everydayFile, injectionDir, requestsFile, path string) {
	ctx := context.Background()
	sources := lmSources(data, everydayFile)
	var lang []string
	heldOut := map[string][]string{}
	for _, s := range sources {
		for i, d := range s.docs {
			if i%10 == 9 {
				heldOut[s.name] = append(heldOut[s.name], chunks(d, 600)...)
			} else {
				lang = append(lang, d)
			}
		}
	}
	enc := tokenizer.CL100K()
	toks, short := asciiTokens(enc, 100256)
	r := rand.New(rand.NewPCG(1, 2))
	sp := append(soup(r, enc, toks, 30000, 20), soup(r, enc, short, 30000, 25)...)
	m := perplexity.Train(lang, sp, perplexity.TrainOptions{})
	// False positives: held-out documents, the injection sets' benign
	// prompts, generated IDs and URLs.
	injEx, err := loadInjection(injectionDir)
	check(err)
	for _, e := range injEx {
		if e.label == 0 {
			heldOut["injection-benign"] = append(heldOut["injection-benign"], e.text)
		}
	}
	heldOut["synthetic-ids"] = syntheticBenign(rand.New(rand.NewPCG(3, 4)), 2000)
	type scored struct {
		score float64
		harm  bool
	}
	harmful := func(t string) bool { return classify.HarmfulRequest(classify.Words(normalize.Full(t).String())) }
	var names []string
	for k := range heldOut {
		names = append(names, k)
	}
	sort.Strings(names)
	scores := map[string][]scored{}
	var all []scored
	for _, k := range names {
		for _, t := range heldOut[k] {
			sp, err := m.Score(ctx, t)
			check(err)
			scores[k] = append(scores[k], scored{sp.Score, harmful(t)})
		}
		all = append(all, scores[k]...)
	}
	// flagged counts the texts of set flagged alone from high, or with a
	// harmful request from t.
	flagged := func(set []scored, t, high float64) int {
		n := 0
		for _, s := range set {
			if s.score >= high || s.score >= t && s.harm {
				n++
			}
		}
		return n
	}
	// lowest returns the lowest threshold (from floor, in steps of 0.01,
	// compared as the guard does in float32) at which at most rate of all
	// held-out texts, and at most inj of the injection sets' benign
	// prompts, are flagged; high is the alone threshold, or -1 to find it.
	lowest := func(floor, rate float64, inj int, high float64) float32 {
		for t := floor; ; t += 0.01 {
			t32 := float64(float32(t))
			h := high
			if h < 0 {
				h = t32
			}
			if float64(flagged(all, t32, h)) <= rate*float64(len(all)) && flagged(scores["injection-benign"], t32, h) <= inj {
				return float32(t)
			}
		}
	}
	// HIGH stands alone; LOW and MEDIUM need a harmful request besides the
	// soup (a GCG suffix follows one).
	m.High = lowest(0.5, 0.0005, 1, -1)
	m.Medium = min(m.High, lowest(0.3, 0.0005, 1, float64(m.High)))
	m.Low = min(m.Medium, lowest(0.3, 0.001, 2, float64(m.High)))
	fmt.Printf("lm entries=%d thresholds LOW=%.2f MEDIUM=%.2f (with a harmful request) HIGH=%.2f (alone), %d held-out texts\n",
		m.Len(), m.Low, m.Medium, m.High, len(all))
	for _, k := range names {
		fmt.Printf("lm benign %-18s n=%5d flagged: LOW %d, MEDIUM %d, HIGH %d\n", k, len(scores[k]),
			flagged(scores[k], float64(m.Low), float64(m.High)), flagged(scores[k], float64(m.Medium), float64(m.High)),
			flagged(scores[k], float64(m.High), float64(m.High)))
	}
	// Detection: harmful requests written for the project followed by
	// soup; and the same soup after everyday requests (no harmful topic),
	// which only HIGH can catch.
	reqs, err := loadLines(requestsFile)
	check(err)
	o200 := tokenizer.O200K()
	oall, _ := asciiTokens(o200, 199998)
	r = rand.New(rand.NewPCG(5, 6))
	sets := []struct {
		name  string
		soups []string
	}{
		{"cl100k 10 tokens", soup(r, enc, toks, 400, 10)},
		{"cl100k 20 tokens", soup(r, enc, toks, 400, 20)},
		{"cl100k short 25", soup(r, enc, short, 400, 25)},
		{"o200k 20 (unseen)", soup(r, o200, oall, 400, 20)},
		{"o200k 40 (unseen)", soup(r, o200, oall, 400, 40)},
	}
	for _, s := range sets {
		var lo, me, hi, plain int
		for i, x := range s.soups {
			q := reqs[i%len(reqs)].text
			sp, err := m.Score(ctx, q+" "+x)
			check(err)
			h := harmful(q)
			if sp.Score >= float64(m.High) || h && sp.Score >= float64(m.Low) {
				lo++
			}
			if sp.Score >= float64(m.High) || h && sp.Score >= float64(m.Medium) {
				me++
			}
			if sp.Score >= float64(m.High) {
				hi++
			}
			sp, err = m.Score(ctx, everydayReq(i)+" "+x)
			check(err)
			if sp.Score >= float64(m.High) {
				plain++
			}
		}
		n := float64(len(s.soups))
		fmt.Printf("lm detect %-18s n=%d after a harmful request: LOW %.3f MEDIUM %.3f HIGH %.3f; after an everyday one: %.3f\n",
			s.name, len(s.soups), float64(lo)/n, float64(me)/n, float64(hi)/n, float64(plain)/n)
	}
	b := m.Marshal()
	fmt.Printf("lm model %d bytes\n", len(b))
	if path != "" {
		check(os.WriteFile(path, b, 0o644))
	}
}

// chunks splits s into pieces of about n bytes at line ends.
func chunks(s string, n int) []string {
	var out []string
	for len(s) > n {
		i := strings.LastIndexByte(s[:n], '\n')
		if i <= 0 {
			i = n
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	if strings.TrimSpace(s) != "" {
		out = append(out, s)
	}
	return out
}

// everydayReq returns one of a few ordinary requests, to put soup after.
func everydayReq(i int) string {
	reqs := []string{"What's a good vegetarian lasagna recipe?", "Summarise the attached meeting notes in three bullet points.",
		"How do I reverse a string in Go?", "Plan a three-day trip to Lisbon for two adults.", "Explain compound interest to a teenager."}
	return reqs[i%len(reqs)]
}
