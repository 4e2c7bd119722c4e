// Command train fits the guardrail's logistic-regression classifiers from the
// shared evaluation data and writes the model files embedded by package
// classify. It is deterministic: the same data gives the same bytes.
//
//	go generate ./guardrail/internal/classify
//
// Prompt attack: DIR/injection/*.jsonl (label, text) and *.csv (prompt, type),
// read as classify.AttackFeatures (n-grams, n-grams across words, cues).
// Hate: DIR/toxicity/*.csv (HateCheck: test_case, label_gold, templ_id).
// Both also learn from everyday requests that are neither: the user turns of
// DIR/bfcl/question/*.json (weather, recipes, finance, code, ...), so that
// short ordinary questions are not scored as attacks or hate just because
// the task sets hold few of them. The prompt-attack model also learns from
// train/everyday.txt, ordinary requests written for this project that use
// the words the injection sets see almost only in attacks ("everything",
// "ignore", "forget", "pretend", "from now on"): in those sets "everything"
// is in 156 attacks and 7 benign prompts, which taught the model that the
// word alone is an attack ("Tell me everything about X" scored MEDIUM).
//
// The hate model reads text whose identity-group words are masked
// (classify.HateFeatures): a mention of a group is no evidence by itself,
// only what is said about it.
//
// The hate model reads misspelt words as the lexicon words they stand for
// unless they are English words of their own; that list
// (spelling_ordinary.txt) is regenerated from a dictionary with -dict
// whenever the lexicons change:
//
//	go run ./train -dict /usr/share/dict/american-english,/usr/share/dict/british-english
//
// Each set is split by a hash of the text (injection, BFCL) or of the
// template id (HateCheck, so held-out cases come from unseen templates) into
// 80% development and 20% held-out test. On the development part, 5-fold
// cross-validation grouped the same way picks the L2 penalty and gives
// out-of-fold scores from which the per-strength thresholds are set. The
// held-out numbers printed are those of a model fitted on the development
// part only; the shipped model is then refitted on everything with the same
// settings (-holdout ships the development-only model instead, to measure
// the whole guard on held-out templates).
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bedrockkit/bedrockkit/guardrail"
	"github.com/bedrockkit/bedrockkit/guardrail/internal/classify"
	"github.com/bedrockkit/bedrockkit/guardrail/internal/normalize"
)

type example struct {
	text   string
	label  int
	key    string // split key: the text, or the HateCheck template id
	group  string // HateCheck functionality, or the source set
	target string // HateCheck target identity
	extra  bool   // everyday request from BFCL, not from the task's own data
	y      int    // label the model is fitted to (see abusive)
}

func main() {
	data := flag.String("data", "", "shared data directory (default $BEDROCKKIT_DATA or ../../../../shared/data)")
	out := flag.String("out", "models", "output directory")
	everydayFile := flag.String("everyday", "train/everyday.txt", "everyday requests written for the project (one a line, # comments), extra negatives for the prompt-attack model")
	dict := flag.String("dict", "", "comma-separated dictionary files (one word a line, e.g. /usr/share/dict/american-english from Debian's wamerican); if set, spelling_ordinary.txt is regenerated from them and the lexicons")
	lm := flag.Bool("lm", true, "also train the perplexity model (guardrail/internal/perplexity/model.bin)")
	requests := flag.String("requests", "train/harmful_requests.txt", "harmful requests written for the project, for the soup detection figures of the perplexity model")
	only := flag.String("only", "", "fit only this model (prompt_attack, hate or lm)")
	dry := flag.Bool("dry", false, "write no model file")
	writtenHate := flag.String("hate-cases", "../../testdata/hate_functional.tsv", "HATE functional cases written for the project, reported (never fitted) with the development-only model")
	flag.BoolVar(&holdout, "holdout", false, "ship the model fitted without the held-out 20% (for measuring the guard on unseen templates)")
	flag.Parse()
	if *data == "" {
		*data = os.Getenv("BEDROCKKIT_DATA")
	}
	if *data == "" {
		*data = "../../../../shared/data"
	}
	inj, err := loadInjection(filepath.Join(*data, "injection"))
	check(err)
	hate, err := loadHate(filepath.Join(*data, "toxicity"))
	check(err)
	everyday, err := loadEveryday(filepath.Join(*data, "bfcl", "question"))
	check(err)
	written, err := loadLines(*everydayFile)
	check(err)
	check(os.MkdirAll(*out, 0o755))
	if *dict != "" {
		var words []string
		for _, f := range strings.Split(*dict, ",") {
			b, err := os.ReadFile(f)
			check(err)
			words = append(words, string(b))
		}
		ord := classify.OrdinaryCandidates(strings.Join(words, "\n"))
		sort.Strings(ord)
		check(os.WriteFile("spelling_ordinary.txt", []byte(strings.Join(ord, "\n")+"\n"), 0o644))
		fmt.Printf("spelling_ordinary.txt: %d words\n", len(ord))
	}
	if *dry {
		*out = ""
	}
	if *lm && (*only == "" || *only == "lm") {
		path := ""
		if *out != "" {
			path = "../perplexity/model.bin"
		}
		trainLM(*data, *everydayFile, filepath.Join(*data, "injection"), *requests, path)
	}
	if *only == "" || *only == "prompt_attack" {
		fit("prompt_attack", append(append(inj, everyday...), written...), *out, false, nil, func(s string) ([]classify.Feature, float64) {
			return classify.AttackFeatures(normalize.Full(s).String()), 1
		})
	}
	if *only == "" || *only == "hate" {
		cases, err := loadHateCases(*writtenHate)
		check(err)
		fit("hate", append(hate, everyday...), *out, true, cases, func(s string) ([]classify.Feature, float64) {
			f := normalize.Full(s).String()
			gate := 1.0
			if !classify.MentionsTarget(f) {
				gate = classify.NoTargetFactor
			}
			return classify.HateFeatures(f), gate
		})
	}
}

var holdout bool

// epochs is the number of passes of SGD.
var epochs = func() int {
	if v := os.Getenv("EPOCHS"); v != "" {
		var n int
		fmt.Sscan(v, &n)
		return n
	}
	return 24
}()

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func loadInjection(dir string) ([]example, error) {
	var ex []example
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	sort.Strings(files)
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var r struct {
				Label int    `json:"label"`
				Text  string `json:"text"`
			}
			if json.Unmarshal(sc.Bytes(), &r) == nil {
				ex = append(ex, example{text: r.Text, label: r.Label, key: r.Text, group: filepath.Base(f)})
			}
		}
		fh.Close()
	}
	csvs, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	sort.Strings(csvs)
	for _, f := range csvs {
		rows, err := readCSV(f)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			l := 0
			if strings.EqualFold(r["type"], "jailbreak") {
				l = 1
			}
			ex = append(ex, example{text: r["prompt"], label: l, key: r["prompt"], group: filepath.Base(f)})
		}
	}
	if len(ex) == 0 {
		return nil, fmt.Errorf("no injection data in %s", dir)
	}
	return ex, nil
}

// abusive are the HateCheck functionalities whose cases are abuse aimed at
// something other than a protected group: not hateful, but derogatory.
var abusive = map[string]bool{"target_obj_nh": true, "target_indiv_nh": true, "target_group_nh": true}

func loadHate(dir string) ([]example, error) {
	var ex []example
	csvs, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	sort.Strings(csvs)
	for _, f := range csvs {
		rows, err := readCSV(f)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			l := 0
			if r["label_gold"] == "hateful" {
				l = 1
			}
			// The hate model scores derogation; whether a protected group
			// is its target is decided apart (classify.HateScore). Abuse of
			// individuals, objects and non-protected groups is therefore a
			// positive for the model though not hateful.
			y := l
			if abusive[r["functionality"]] {
				y = 1
			}
			ex = append(ex, example{text: r["test_case"], label: l, key: r["templ_id"], group: r["functionality"], target: r["target_ident"], y: y})
		}
	}
	if len(ex) == 0 {
		return nil, fmt.Errorf("no HateCheck data in %s", dir)
	}
	return ex, nil
}

// loadEveryday reads the user turns of BFCL's questions (JSON lines) as
// examples of ordinary requests (label 0).
func loadEveryday(dir string) ([]example, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	var ex []example
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var r struct {
				Question [][]struct {
					Role    string `json:"role"`
					Content string `json:"content"`
				} `json:"question"`
			}
			if json.Unmarshal(sc.Bytes(), &r) != nil {
				continue
			}
			for _, turn := range r.Question {
				for _, m := range turn {
					if m.Role == "user" && strings.TrimSpace(m.Content) != "" {
						ex = append(ex, example{text: m.Content, key: m.Content, group: "bfcl", extra: true})
					}
				}
			}
		}
		fh.Close()
	}
	if len(ex) == 0 {
		return nil, fmt.Errorf("no BFCL questions in %s", dir)
	}
	return ex, nil
}

// loadLines reads everyday requests written for the project, one a line
// (blank lines and # comments skipped), as extra negatives.
func loadLines(path string) ([]example, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ex []example
	for l := range strings.Lines(string(b)) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			ex = append(ex, example{text: l, key: l, group: "written", extra: true})
		}
	}
	if len(ex) == 0 {
		return nil, fmt.Errorf("no requests in %s", path)
	}
	return ex, nil
}

// loadHateCases reads the HATE functional cases written for the project
// (functionality TAB hateful TAB text), which are reported, never fitted.
func loadHateCases(path string) ([]example, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ex []example
	for l := range strings.Lines(string(b)) {
		l = strings.TrimRight(l, "\r\n")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.SplitN(l, "\t", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("%s: malformed line %q", path, l)
		}
		lab := 0
		if f[1] == "1" {
			lab = 1
		}
		ex = append(ex, example{text: f[2], label: lab, key: f[2], group: f[0], target: "written"})
	}
	return ex, nil
}

func readCSV(path string) ([]map[string]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			if i < len(rec) {
				m[h] = rec[i]
			}
		}
		out = append(out, m)
	}
	return out, nil
}

func bucket(key string, salt string) int {
	h := fnv.New32a()
	h.Write([]byte(salt))
	h.Write([]byte(key))
	return int(h.Sum32() % 10)
}

type vec struct {
	fs    []classify.Feature
	label int     // gold label
	y     int     // label fitted
	gate  float64 // factor on the model's probability (classify.HateScore)
	ex    *example
}

func (v vec) score(m *classify.Model) float64 { return m.Prob(v.fs) * v.gate }

// hyper are the fitting settings chosen by cross-validation.
type hyper struct {
	l2     float64
	epochs int
}

// extraWeight is the total weight of the everyday requests relative to the
// task's own negatives: they teach what ordinary text looks like without
// outweighing the task's hard negatives.
var extraWeight = 1.0

// train fits logistic regression by SGD. Positives and negatives of the task
// data weigh the same in total; everyday requests count extraWeight of a
// task negative each. Deterministic for a given input order.
func train(vs []vec, h hyper) *classify.Model {
	m := &classify.Model{Weights: make([]float32, classify.Dim)}
	rng := rand.New(rand.NewPCG(1, 2))
	order := make([]int, len(vs))
	for i := range order {
		order[i] = i
	}
	pos, neg := 0, 0
	for _, v := range vs {
		switch {
		case v.y == 1:
			pos++
		case !v.ex.extra:
			neg++
		}
	}
	n := pos + neg
	wPos := float64(n) / (2 * float64(max(pos, 1)))
	wNeg := float64(n) / (2 * float64(max(neg, 1)))
	step := 0
	for ep := 0; ep < h.epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			v := vs[i]
			lr := 0.5 / (1 + 0.0005*float64(step))
			step++
			p := m.Prob(v.fs)
			g := p - float64(v.y)
			switch {
			case v.y == 1:
				g *= wPos
			case v.ex.extra:
				g *= wNeg * extraWeight
			default:
				g *= wNeg
			}
			m.Bias -= float32(lr * g * 0.1)
			for _, f := range v.fs {
				w := &m.Weights[f.Index]
				*w -= float32(lr * (g*float64(f.Value) + h.l2*float64(*w)))
			}
		}
	}
	// Quantise through Marshal/Unmarshal so thresholds are set on the shipped weights.
	q, err := classify.Unmarshal(m.Marshal())
	check(err)
	return q
}

// crossVal returns out-of-fold probabilities for vs, folds grouped by key.
func crossVal(vs []vec, h hyper) []float64 {
	const k = 5
	probs := make([]float64, len(vs))
	for fold := 0; fold < k; fold++ {
		var tr []vec
		for _, v := range vs {
			if bucket(v.ex.key, "cv")%k != fold {
				tr = append(tr, v)
			}
		}
		m := train(tr, h)
		for i, v := range vs {
			if bucket(v.ex.key, "cv")%k == fold {
				probs[i] = v.score(m)
			}
		}
	}
	return probs
}

// logLoss is the class-balanced mean log loss of probs on the task data
// (the mean over negatives plus the mean over positives) and its standard
// error.
func logLoss(vs []vec, probs []float64) (loss, se float64) {
	var sum, sq [2]float64
	var n [2]int
	for i, v := range vs {
		if v.ex.extra {
			continue
		}
		p := math.Min(math.Max(probs[i], 1e-6), 1-1e-6)
		l := -math.Log(1 - p)
		if v.label == 1 {
			l = -math.Log(p)
		}
		sum[v.label] += l
		sq[v.label] += l * l
		n[v.label]++
	}
	for c := range 2 {
		k := float64(max(n[c], 1))
		mean := sum[c] / k
		loss += mean
		se += (sq[c]/k - mean*mean) / k
	}
	return loss, math.Sqrt(se)
}

// quantileAbove returns the smallest threshold (>= floor) at which at most
// fpr of scores are at or above it.
func quantileAbove(scores []float64, fpr, floor float64) float32 {
	if len(scores) == 0 {
		return float32(floor)
	}
	s := append([]float64(nil), scores...)
	sort.Float64s(s)
	i := int(math.Ceil(float64(len(s)) * (1 - fpr)))
	if i >= len(s) {
		return float32(math.Max(floor, s[len(s)-1]+1e-6))
	}
	return float32(math.Max(floor, s[i]+1e-6))
}

func fit(name string, ex []example, outDir string, hate bool, extraTest []example, feats func(string) ([]classify.Feature, float64)) {
	var dev, test, all []vec
	for i := range ex {
		e := &ex[i]
		if !hate {
			e.y = e.label
		}
		fs, gate := feats(e.text)
		v := vec{fs, e.label, e.y, gate, e}
		all = append(all, v)
		if bucket(e.key, "") < 8 {
			dev = append(dev, v)
		} else {
			test = append(test, v)
		}
	}
	// Regularisation by grouped cross-validation on dev: the penalty with
	// the least loss for hate; for prompt attack the one-standard-error rule
	// (the strongest penalty whose loss is within one standard error of the
	// best). The prompt-attack model reads every input of a service, mostly
	// short everyday questions its training sets (long role-play jailbreaks,
	// task prompts) hold few of; weak penalties let frequent function words
	// ("you", "do", "say") take large weights that then decide such questions
	// on their own, and the simpler model costs no held-out accuracy.
	type cvRun struct {
		h     hyper
		loss  float64
		se    float64
		probs []float64
	}
	var runs []cvRun
	bestLoss := math.Inf(1)
	for _, l2 := range []float64{1e-6, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2} {
		h := hyper{l2, epochs}
		probs := crossVal(dev, h)
		loss, se := logLoss(dev, probs)
		fmt.Printf("%s cv l2=%g balanced log loss=%.4f ± %.4f\n", name, h.l2, loss, se)
		runs = append(runs, cvRun{h, loss, se, probs})
		bestLoss = math.Min(bestLoss, loss)
	}
	var best hyper
	var bestProbs []float64
	for _, r := range runs {
		var bestSE float64
		for _, q := range runs {
			if q.loss == bestLoss {
				bestSE = q.se
			}
		}
		if r.loss == bestLoss || !hate && r.loss <= bestLoss+bestSE {
			best, bestProbs = r.h, r.probs // runs are in increasing l2
		}
	}
	low, med, high := thresholds(dev, bestProbs, hate)
	fmt.Printf("%s chosen l2=%g epochs=%d thresholds LOW=%.3f MEDIUM=%.3f HIGH=%.3f\n", name, best.l2, best.epochs, low, med, high)
	heldOut := train(dev, best)
	heldOut.Low, heldOut.Medium, heldOut.High = low, med, high
	report(name+" cross-validated", dev, bestProbs, heldOut)
	if !hate {
		guardCV(dev, bestProbs, heldOut.Low)
		if os.Getenv("SWEEP") != "" {
			for _, t := range []float32{0.3, 0.35, 0.4, 0.45} {
				fmt.Printf("-- classifier threshold %.2f\n", t)
				guardCV(dev, bestProbs, t)
			}
		}
	}
	report(name+" held-out", test, probsOf(heldOut, test), heldOut)
	if len(extraTest) > 0 {
		var xs []vec
		for i := range extraTest {
			e := &extraTest[i]
			fs, gate := feats(e.text)
			xs = append(xs, vec{fs, e.label, e.label, gate, e})
		}
		report(name+" written", xs, probsOf(heldOut, xs), heldOut)
	}
	if hate {
		perTarget(name, all, best, low)
	}
	ship := heldOut
	if !holdout {
		ship = train(all, best)
		ship.Low, ship.Medium, ship.High = low, med, high
	}
	if outDir != "" {
		check(os.WriteFile(filepath.Join(outDir, name+".bin"), ship.Marshal(), 0o644))
	}
}

func probsOf(m *classify.Model, vs []vec) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = v.score(m)
	}
	return out
}

// thresholds sets the probability thresholds for LOW, MEDIUM and HIGH
// confidence from out-of-fold scores. A filter at strength HIGH blocks from
// LOW confidence up, MEDIUM from MEDIUM, LOW only HIGH.
//
// Prompt attack: the task negatives' false-positive rate is at most 5%, 2%
// and 1%. never below p=0.5.
//
// Hate: HateCheck's non-hateful cases are adversarial by design (counter
// speech, reclaimed slurs, negation, abuse of non-protected targets), so a
// fixed rate on them alone is a poor operating point. LOW takes the best
// balanced accuracy (mean of recall and specificity, so the two-to-one share
// of hateful cases does not push the threshold down onto neutral mentions of
// groups). MEDIUM and HIGH are probabilities of the class-balanced model,
// 0.5 (hate more likely than not) and 0.85: a handful of hard non-hateful
// cases score near 1 whatever the threshold (the non-hateful false-positive
// rate levels off near 2% from p=0.4 up), so rate caps would put them at 1
// and block nothing, while each step up still trades recall for certainty.
// Every threshold also keeps the everyday requests' false-positive rate at
// or below 0.5%.
func thresholds(vs []vec, probs []float64, hate bool) (low, med, high float32) {
	var negs, pos, extra []float64
	for i, v := range vs {
		switch {
		case v.ex.extra:
			extra = append(extra, probs[i])
		case v.label == 1:
			pos = append(pos, probs[i])
		default:
			negs = append(negs, probs[i])
		}
	}
	floor := float64(quantileAbove(extra, 0.005, 0.5))
	if !hate {
		low, med, high = quantileAbove(negs, 0.05, floor), quantileAbove(negs, 0.02, floor), quantileAbove(negs, 0.005, floor)
	} else {
		floor = float64(quantileAbove(extra, 0.005, 0.05))
		bestT, bestAcc := floor, -1.0
		for t := floor; t < 0.99; t += 0.005 {
			tp, tn := 0, 0
			for _, p := range pos {
				if p >= t {
					tp++
				}
			}
			for _, p := range negs {
				if p < t {
					tn++
				}
			}
			acc := (float64(tp)/float64(max(len(pos), 1)) + float64(tn)/float64(max(len(negs), 1))) / 2
			if acc > bestAcc {
				bestT, bestAcc = t, acc
			}
		}
		low = float32(bestT)
		med, high = 0.5, 0.85
	}
	med = max(med, low)
	high = max(high, med)
	return low, med, high
}

// report prints accuracy, recall and false-positive rates at each strength
// (the confidence threshold a filter of that strength blocks from), with the
// task data and the everyday requests counted apart, and per HateCheck
// functionality at strength HIGH.
func report(title string, vs []vec, probs []float64, m *classify.Model) {
	for _, st := range []struct {
		name string
		t    float32
	}{{"HIGH", m.Low}, {"MEDIUM", m.Medium}, {"LOW", m.High}} {
		tp, fp, tn, fn, efp, en := 0, 0, 0, 0, 0, 0
		for i, v := range vs {
			pred := probs[i] >= float64(st.t)
			if os.Getenv("DUMPALL") != "" && st.name == "HIGH" && !v.ex.extra && pred != (v.label == 1) {
				fmt.Fprintf(os.Stderr, "MISS %s %s label=%d p=%.2f %.200q\n", title, v.ex.group, v.label, probs[i], v.ex.text)
			}
			switch {
			case v.ex.extra:
				en++
				if pred {
					efp++
				}
			case pred && v.label == 1:
				tp++
			case pred:
				fp++
			case v.label == 1:
				fn++
			default:
				tn++
			}
		}
		n := max(tp+fp+tn+fn, 1)
		fmt.Printf("%-30s strength %-6s n=%4d accuracy=%.3f recall=%.3f fpr=%.3f everyday fpr=%d/%d\n", title, st.name, n,
			float64(tp+tn)/float64(n), float64(tp)/float64(max(tp+fn, 1)), float64(fp)/float64(max(fp+tn, 1)), efp, en)
	}
	type acc struct{ ok, n int }
	per := map[string]*acc{}
	for i, v := range vs {
		if v.ex.extra || v.ex.target == "" && !strings.HasSuffix(v.ex.group, "_nh") && !strings.HasSuffix(v.ex.group, "_h") {
			continue
		}
		a := per[v.ex.group]
		if a == nil {
			a = &acc{}
			per[v.ex.group] = a
		}
		a.n++
		if (probs[i] >= float64(m.Low)) == (v.label == 1) {
			a.ok++
		} else if os.Getenv("DUMP") != "" {
			fmt.Fprintf(os.Stderr, "MISS %s %s p=%.2f %q\n", title, v.ex.group, probs[i], v.ex.text)
		}
	}
	var names []string
	for k := range per {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Printf("%-30s   %-24s n=%3d accuracy=%.3f (classifier alone, strength HIGH)\n", title, k, per[k].n, float64(per[k].ok)/float64(per[k].n))
	}
}

// perTarget holds out one HateCheck target group at a time: fitted on every
// other group's cases, scored on that group's.
func perTarget(name string, vs []vec, h hyper, t float32) {
	targets := map[string]bool{}
	for _, v := range vs {
		if v.ex.target != "" {
			targets[v.ex.target] = true
		}
	}
	var ts []string
	for k := range targets {
		ts = append(ts, k)
	}
	sort.Strings(ts)
	okAll, nAll := 0, 0
	for _, g := range ts {
		var tr, te []vec
		for _, v := range vs {
			if v.ex.target == g {
				te = append(te, v)
			} else {
				tr = append(tr, v)
			}
		}
		m := train(tr, h)
		ok := 0
		for _, v := range te {
			if (v.score(m) >= float64(t)) == (v.label == 1) {
				ok++
			}
		}
		okAll, nAll = okAll+ok, nAll+len(te)
		fmt.Printf("%s target held out %-16s n=%3d accuracy=%.3f\n", name, g, len(te), float64(ok)/float64(len(te)))
	}
	fmt.Printf("%s target held out %-16s n=%3d accuracy=%.3f\n", name, "(all)", nAll, float64(okAll)/float64(max(nAll, 1)))
}

// guardCV estimates the whole PROMPT_ATTACK filter (strength HIGH) on
// cross-validation: a text is blocked if the guard's rules block it (the
// reason names a rule, a decoded payload's rule, token soup or a
// persuasive framing; these do not depend on the model) or if its
// out-of-fold probability reaches the LOW confidence threshold. The
// reworded views the guard also reads are left out (they use the shipped,
// in-sample model), so the estimate is slightly low.
func guardCV(vs []vec, probs []float64, low float32) {
	g, err := guardrail.NewLocal(&guardrail.Policy{BlockedInputMessaging: "x", BlockedOutputsMessaging: "x",
		ContentPolicyConfig: &guardrail.ContentPolicyConfig{FiltersConfig: []guardrail.ContentFilterConfig{
			{Type: guardrail.FilterPromptAttack, InputStrength: guardrail.StrengthHigh, OutputStrength: guardrail.StrengthNone}}}},
		guardrail.Options{})
	check(err)
	per := map[string]*[4]int{} // tp fp tn fn by set
	for i, v := range vs {
		if v.ex.extra {
			continue
		}
		res, err := g.Assess(context.Background(), guardrail.SourceInput, guardrail.Content{Text: v.ex.text})
		check(err)
		rule := false
		if a := res.Assessments[0].ContentPolicy; a != nil {
			for _, f := range a.Filters {
				rule = rule || f.Detected && !strings.HasSuffix(f.Reason, "classifier") && !strings.HasPrefix(f.Reason, "classifier")
			}
		}
		pred := rule || probs[i] >= float64(low)
		c := per[v.ex.group]
		if c == nil {
			c = &[4]int{}
			per[v.ex.group] = c
		}
		switch {
		case pred && v.label == 1:
			c[0]++
		case pred:
			c[1]++
		case v.label == 0:
			c[2]++
		default:
			c[3]++
		}
	}
	var all [4]int
	var names []string
	for k := range per {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range append(names, "all") {
		c := per[k]
		if k == "all" {
			c = &all
		} else {
			for j := range all {
				all[j] += c[j]
			}
		}
		n := c[0] + c[1] + c[2] + c[3]
		fmt.Printf("prompt_attack guard cross-validated %-20s n=%4d accuracy=%.3f recall=%.3f fpr=%.3f\n", k, n,
			float64(c[0]+c[2])/float64(max(n, 1)), float64(c[0])/float64(max(c[0]+c[3], 1)), float64(c[1])/float64(max(c[1]+c[2], 1)))
	}
}
