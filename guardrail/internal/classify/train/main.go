// Command train fits the guardrail's logistic-regression classifiers from the
// shared evaluation data and writes the model files embedded by package
// classify. It is deterministic: the same data gives the same bytes.
//
//	go generate ./guardrail/internal/classify
//
// Prompt attack: DIR/injection/*.jsonl (label, text) and *.csv (prompt, type).
// Hate: DIR/toxicity/*.csv (HateCheck: test_case, label_gold, templ_id).
// Each set is split by a hash of the text (injection) or of the template id
// (HateCheck, so held-out cases come from unseen templates) into 70% train,
// 10% calibration (thresholds) and 20% held-out test; the numbers printed for
// the held-out part are the ones to report.
package main

import (
	"bufio"
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

	"github.com/bedrockkit/bedrockkit/guardrail/internal/classify"
	"github.com/bedrockkit/bedrockkit/guardrail/internal/normalize"
)

type example struct {
	text  string
	label int
	key   string
}

func main() {
	data := flag.String("data", "", "shared data directory (default $BEDROCKKIT_DATA or ../../../../shared/data)")
	out := flag.String("out", "models", "output directory")
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
	check(os.MkdirAll(*out, 0o755))
	fit("prompt_attack", inj, *out, false)
	fit("hate", hate, *out, true)
}

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
				ex = append(ex, example{r.Text, r.Label, r.Text})
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
			ex = append(ex, example{r["prompt"], l, r["prompt"]})
		}
	}
	if len(ex) == 0 {
		return nil, fmt.Errorf("no injection data in %s", dir)
	}
	return ex, nil
}

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
			ex = append(ex, example{r["test_case"], l, r["templ_id"]})
		}
	}
	if len(ex) == 0 {
		return nil, fmt.Errorf("no HateCheck data in %s", dir)
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

func bucket(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % 10)
}

type vec struct {
	fs    []classify.Feature
	label int
}

func fit(name string, ex []example, outDir string, bestAccuracy bool) {
	var train, cal, test []vec
	for _, e := range ex {
		v := vec{classify.Features(normalize.Full(e.text).String()), e.label}
		switch b := bucket(e.key); {
		case b < 7:
			train = append(train, v)
		case b < 8:
			cal = append(cal, v)
		default:
			test = append(test, v)
		}
	}
	m := &classify.Model{Weights: make([]float32, classify.Dim)}
	rng := rand.New(rand.NewPCG(1, 2))
	order := make([]int, len(train))
	for i := range order {
		order[i] = i
	}
	// Class weights balance the positives and negatives.
	pos := 0
	for _, v := range train {
		pos += v.label
	}
	wPos := float64(len(train)) / (2 * float64(max(pos, 1)))
	wNeg := float64(len(train)) / (2 * float64(max(len(train)-pos, 1)))
	const epochs = 12
	const l2 = 1e-6
	step := 0
	for ep := 0; ep < epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			v := train[i]
			lr := 0.5 / (1 + 0.0005*float64(step))
			step++
			p := m.Prob(v.fs)
			g := p - float64(v.label)
			if v.label == 1 {
				g *= wPos
			} else {
				g *= wNeg
			}
			m.Bias -= float32(lr * g * 0.1)
			for _, f := range v.fs {
				w := &m.Weights[f.Index]
				*w -= float32(lr * (g*float64(f.Value) + l2*float64(*w)))
			}
		}
	}
	// Quantise through Marshal/Unmarshal so thresholds are set on the shipped weights.
	q, err := classify.Unmarshal(m.Marshal())
	check(err)
	// Thresholds from the calibration split: LOW at <=5% false positives,
	// MEDIUM at <=2%, HIGH at <=0.5%.
	var negs []float64
	for _, v := range cal {
		if v.label == 0 {
			negs = append(negs, q.Prob(v.fs))
		}
	}
	sort.Float64s(negs)
	at := func(fpr float64) float32 {
		if len(negs) == 0 {
			return 0.5
		}
		i := int(math.Ceil(float64(len(negs)) * (1 - fpr)))
		if i >= len(negs) {
			i = len(negs) - 1
		}
		return float32(math.Max(0.5, negs[i]+1e-6))
	}
	q.Low, q.Medium, q.High = at(0.05), at(0.02), at(0.005)
	if bestAccuracy {
		// HateCheck's non-hateful cases are adversarial by design, so a fixed
		// false-positive rate is not a useful operating point: LOW takes the
		// threshold with the best accuracy on the calibration split.
		best, bestAcc := float32(0.5), -1.0
		for t := 0.05; t < 0.99; t += 0.01 {
			ok := 0
			for _, v := range cal {
				if (q.Prob(v.fs) >= t) == (v.label == 1) {
					ok++
				}
			}
			if acc := float64(ok) / float64(len(cal)); acc > bestAcc {
				best, bestAcc = float32(t), acc
			}
		}
		q.Low = best
	}
	q.Medium = max(q.Medium, q.Low)
	q.High = max(q.High, q.Medium)
	check(os.WriteFile(filepath.Join(outDir, name+".bin"), q.Marshal(), 0o644))
	for _, split := range []struct {
		n  string
		vs []vec
	}{{"train", train}, {"calibration", cal}, {"held-out", test}} {
		tp, fp, tn, fn := 0, 0, 0, 0
		for _, v := range split.vs {
			pred := q.Prob(v.fs) >= float64(q.Low)
			switch {
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
		fmt.Printf("%s %-11s n=%4d accuracy=%.3f recall=%.3f fpr=%.3f (threshold LOW=%.3f MEDIUM=%.3f HIGH=%.3f)\n", name, split.n, n,
			float64(tp+tn)/float64(n), float64(tp)/float64(max(tp+fn, 1)), float64(fp)/float64(max(fp+tn, 1)), q.Low, q.Medium, q.High)
	}
}
