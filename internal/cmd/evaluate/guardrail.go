package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/bedrockkit/bedrockkit/eval"
	"github.com/bedrockkit/bedrockkit/guardrail"
	"github.com/bedrockkit/bedrockkit/internal/tokenizer"
)

func init() { suites["guardrail"] = runGuardrail }

// grPresidioMap maps the Presidio synthetic set's entity types to
// Bedrock's. Types with no Bedrock counterpart (ORGANIZATION, DATE_TIME,
// TITLE, NRP) are scored as non-PII: predicting PII on them is a false positive.
var grPresidioMap = map[string]guardrail.PIIType{
	"PERSON": guardrail.PIIName, "STREET_ADDRESS": guardrail.PIIAddress, "GPE": guardrail.PIIAddress,
	"ZIP_CODE": guardrail.PIIAddress, "CREDIT_CARD": guardrail.PIICardNumber, "PHONE_NUMBER": guardrail.PIIPhone,
	"AGE": guardrail.PIIAge, "EMAIL_ADDRESS": guardrail.PIIEmail, "DOMAIN_NAME": guardrail.PIIURL,
	"IBAN_CODE": guardrail.PIIIBAN, "US_SSN": guardrail.PIIUSSSN, "IP_ADDRESS": guardrail.PIIIPAddress,
	"US_DRIVER_LICENSE": guardrail.PIIDriverID,
}

var grPatternTypes = []guardrail.PIIType{guardrail.PIIEmail, guardrail.PIIPhone, guardrail.PIICardNumber,
	guardrail.PIIIBAN, guardrail.PIIUSSSN, guardrail.PIIIPAddress, guardrail.PIIURL}

func runGuardrail(args []string) error {
	fs := flag.NewFlagSet("guardrail", flag.ContinueOnError)
	data := fs.String("data", defaultDataDir(), "shared data directory (pii/, injection/, toxicity/)")
	soupReqs := fs.String("soup-requests", "guardrail/internal/classify/train/harmful_requests.txt", "harmful requests to append token soup to (GCG-like attacks); empty to skip")
	written := fs.String("hate-cases", "guardrail/testdata/hate_functional.tsv", "HATE functional cases written for the project (never trained on); empty to skip")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	piiRes, err := grEvalPII(ctx, filepath.Join(*data, "pii"))
	if err != nil {
		return err
	}
	injAcc, injFPR, err := grEvalInjection(ctx, filepath.Join(*data, "injection"))
	if err != nil {
		return err
	}
	hcAcc, err := grEvalHateCheck(ctx, filepath.Join(*data, "toxicity"))
	if err != nil {
		return err
	}
	if *written != "" {
		if _, err := grEvalHateWritten(ctx, *written); err != nil {
			return err
		}
	}
	varRecall, err := grEvalPIIVariants(ctx, filepath.Join(*data, "pii"))
	if err != nil {
		return err
	}
	evRecall, err := grEvalInjectionEvasions(ctx, filepath.Join(*data, "injection"))
	if err != nil {
		return err
	}
	persRecall, persFPR, err := grEvalPersuasion(ctx, "guardrail/testdata/persuasion_attacks.txt", "guardrail/testdata/roleplay_benign.txt")
	if err != nil {
		return err
	}
	soupRecall := 0.0
	if *soupReqs != "" {
		if soupRecall, err = grEvalSoup(ctx, *soupReqs); err != nil {
			return err
		}
	}
	fmt.Printf("pii_f2=%.3f pii_pattern_precision=%.3f pii_pattern_recall=%.3f injection_accuracy=%.3f injection_fpr=%.3f hatecheck_accuracy=%.3f pii_variant_recall=%.3f injection_evasion_recall=%.3f soup_recall=%.3f persuasion_recall=%.3f roleplay_fpr=%.3f\n",
		piiRes.f2, piiRes.patP, piiRes.patR, injAcc, injFPR, hcAcc, varRecall, evRecall, soupRecall, persRecall, persFPR)
	return nil
}

// grDigitZeros are the zeros of digit sets numbers are rewritten in.
var grDigitZeros = []rune{'0', '\u0660', '\u06F0', '\u0966', '\uFF10'}

// grSeparators replace the separators of a number (or are put between
// every digit of one written without them).
var grSeparators = []string{"-", "\u2013", "\u2011", "\u2212", ".", "/", "_", " "}

// grRewriteNumber writes a number's digits in the digit set of zero, with
// sep for every separator it had, or between every digit if it had none.
func grRewriteNumber(v string, zero rune, sep string) string {
	var b strings.Builder
	hadSep := strings.IndexFunc(v, func(r rune) bool { return !unicode.IsDigit(r) }) >= 0
	for i, r := range v {
		switch {
		case r >= '0' && r <= '9':
			if !hadSep && i > 0 {
				b.WriteString(sep)
			}
			b.WriteRune(zero + r - '0')
		case r == '-' || r == ' ' || r == '.':
			b.WriteString(sep)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// grEvalPIIVariants rewrites each payment card, SSN and phone number of the
// PII set in other digit scripts and separators (en dash, U+2011, minus,
// dots, slashes, underscores, spaces, or a separator between every digit)
// and reports the share of rewritten numbers still found as PII of any type
// over their whole span.
func grEvalPIIVariants(ctx context.Context, dir string) (float64, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	pol := &guardrail.Policy{BlockedInputMessaging: "blocked", BlockedOutputsMessaging: "blocked",
		SensitiveInformationPolicyConfig: &guardrail.SensitiveInfoConfig{}}
	for _, t := range guardrail.PIITypes {
		pol.SensitiveInformationPolicyConfig.PiiEntitiesConfig = append(pol.SensitiveInformationPolicyConfig.PiiEntitiesConfig,
			guardrail.PIIEntityConfig{Type: t, Action: guardrail.ActionAnonymize})
	}
	g, err := guardrail.NewLocal(pol, guardrail.Options{})
	if err != nil {
		return 0, err
	}
	type tally struct{ found, n int }
	per := map[string]*tally{}
	var all tally
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return 0, err
		}
		var recs []struct {
			Text  string `json:"full_text"`
			Spans []struct {
				Type  string `json:"entity_type"`
				Start int    `json:"start_position"`
				End   int    `json:"end_position"`
			} `json:"spans"`
		}
		if err := json.Unmarshal(b, &recs); err != nil {
			return 0, fmt.Errorf("%s: %w", f, err)
		}
		for _, r := range recs {
			for _, sp := range r.Spans {
				if sp.Type != "CREDIT_CARD" && sp.Type != "US_SSN" && sp.Type != "PHONE_NUMBER" {
					continue
				}
				a, e := grRuneToByte(r.Text, sp.Start), grRuneToByte(r.Text, sp.End)
				for zi, zero := range grDigitZeros {
					for si, sep := range grSeparators {
						if (zi+si)%3 != 0 && zi != 0 {
							continue // a sample of the combinations: every separator in ASCII digits, a third in other scripts
						}
						v := grRewriteNumber(r.Text[a:e], zero, sep)
						text := r.Text[:a] + v + r.Text[e:]
						res, err := g.Assess(ctx, guardrail.SourceInput, guardrail.Content{Text: text})
						if err != nil {
							return 0, err
						}
						ok := false
						if p := res.Assessments[0].SensitiveInformationPolicy; p != nil {
							for _, en := range p.PiiEntities {
								ok = ok || en.Span.Start <= a && en.Span.End >= a+len(v)
							}
						}
						key := sp.Type
						if per[key] == nil {
							per[key] = &tally{}
						}
						per[key].n++
						all.n++
						if ok {
							per[key].found++
							all.found++
						}
					}
				}
			}
		}
	}
	fmt.Println("== PII numbers rewritten (digit scripts, Unicode dashes, dots, slashes, underscores, a separator between every digit): found whole, any type")
	for _, k := range []string{"CREDIT_CARD", "US_SSN", "PHONE_NUMBER"} {
		if t := per[k]; t != nil {
			fmt.Printf("%-28s %6d %8.3f\n", k, t.n, grRatio(t.found, t.n))
		}
	}
	fmt.Printf("%-28s %6d %8.3f\n\n", "all", all.n, grRatio(all.found, all.n))
	return grRatio(all.found, all.n), nil
}

// grEvalInjectionEvasions rewrites each attack of the injection sets that
// the guard blocks as written: backwards by character, with its words in
// reverse order, spelled out a letter at a time, and run together in camel
// case; it reports the share of rewritten attacks still blocked.
func grEvalInjectionEvasions(ctx context.Context, dir string) (float64, error) {
	pol := &guardrail.Policy{BlockedInputMessaging: "blocked", BlockedOutputsMessaging: "blocked",
		ContentPolicyConfig: &guardrail.ContentPolicyConfig{FiltersConfig: []guardrail.ContentFilterConfig{
			{Type: guardrail.FilterPromptAttack, InputStrength: guardrail.StrengthHigh, OutputStrength: guardrail.StrengthNone}}}}
	g, err := guardrail.NewLocal(pol, guardrail.Options{})
	if err != nil {
		return 0, err
	}
	var attacks []string
	jsonl, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	sort.Strings(jsonl)
	for _, f := range jsonl {
		fh, err := os.Open(f)
		if err != nil {
			return 0, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var r struct {
				Label int    `json:"label"`
				Text  string `json:"text"`
			}
			if json.Unmarshal(sc.Bytes(), &r) == nil && r.Label == 1 {
				attacks = append(attacks, r.Text)
			}
		}
		fh.Close()
	}
	csvs, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	sort.Strings(csvs)
	for _, f := range csvs {
		recs, err := grReadCSV(f)
		if err != nil {
			return 0, err
		}
		for _, r := range recs {
			if strings.EqualFold(r["type"], "jailbreak") {
				attacks = append(attacks, r["prompt"])
			}
		}
	}
	reverse := func(s string) string {
		r := []rune(s)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return string(r)
	}
	rewrites := []struct {
		name string
		f    func(string) string
	}{
		{"backwards", reverse},
		{"words reversed", func(s string) string {
			w := strings.Fields(s)
			for i, j := 0, len(w)-1; i < j; i, j = i+1, j-1 {
				w[i], w[j] = w[j], w[i]
			}
			return strings.Join(w, " ")
		}},
		{"spelled out", func(s string) string {
			var ws []string
			for _, w := range strings.Fields(s) {
				ws = append(ws, strings.Join(strings.Split(w, ""), " "))
			}
			return strings.Join(ws, "   ")
		}},
		{"camel case", func(s string) string {
			var b strings.Builder
			for _, w := range strings.Fields(s) {
				r := []rune(w)
				b.WriteString(strings.ToUpper(string(r[0])) + string(r[1:]))
			}
			return b.String()
		}},
	}
	fmt.Println("== Prompt attacks rewritten (of those blocked as written, PROMPT_ATTACK HIGH): share still blocked")
	var found, n int
	for _, rw := range rewrites {
		var f, m int
		for _, a := range attacks {
			res, err := g.Assess(ctx, guardrail.SourceInput, guardrail.Content{Text: a})
			if err != nil {
				return 0, err
			}
			if !res.Blocked {
				continue
			}
			res, err = g.Assess(ctx, guardrail.SourceInput, guardrail.Content{Text: rw.f(a)})
			if err != nil {
				return 0, err
			}
			m++
			if res.Blocked {
				f++
			}
		}
		fmt.Printf("%-28s %6d %8.3f\n", rw.name, m, grRatio(f, m))
		found, n = found+f, n+m
	}
	fmt.Printf("%-28s %6d %8.3f\n\n", "all", n, grRatio(found, n))
	return grRatio(found, n), nil
}

type grPIISummary struct{ f2, patP, patR float64 }

type grPRF struct{ tp, fp, fn int }

func (c grPRF) p() float64  { return grRatio(c.tp, c.tp+c.fp) }
func (c grPRF) r() float64  { return grRatio(c.tp, c.tp+c.fn) }
func (c grPRF) f2() float64 { return grFbeta(c.p(), c.r(), 2) }

func grRatio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func grFbeta(p, r, beta float64) float64 {
	if p+r == 0 {
		return 0
	}
	return (1 + beta*beta) * p * r / (beta*beta*p + r)
}

// tokenize splits text into word tokens (runs of letters and digits); the
// PII scores are token-level, like presidio-research's evaluator.
func grTokenize(s string) [][2]int {
	var out [][2]int
	start := -1
	for i, r := range s {
		w := unicode.IsLetter(r) || unicode.IsDigit(r)
		if w && start < 0 {
			start = i
		} else if !w && start >= 0 {
			out = append(out, [2]int{start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, [2]int{start, len(s)})
	}
	return out
}

// runeToByte converts a code-point offset (Presidio's unit) to a byte offset.
func grRuneToByte(s string, cp int) int {
	n := 0
	for b := range s {
		if n == cp {
			return b
		}
		n++
	}
	return len(s)
}

func grEvalPII(ctx context.Context, dir string) (grPIISummary, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	if len(files) == 0 {
		return grPIISummary{}, fmt.Errorf("no *.json files in %s", dir)
	}
	pol := &guardrail.Policy{BlockedInputMessaging: "blocked", BlockedOutputsMessaging: "blocked",
		SensitiveInformationPolicyConfig: &guardrail.SensitiveInfoConfig{}}
	for _, t := range guardrail.PIITypes {
		pol.SensitiveInformationPolicyConfig.PiiEntitiesConfig = append(pol.SensitiveInformationPolicyConfig.PiiEntitiesConfig,
			guardrail.PIIEntityConfig{Type: t, Action: guardrail.ActionAnonymize})
	}
	g, err := guardrail.NewLocal(pol, guardrail.Options{})
	if err != nil {
		return grPIISummary{}, err
	}
	per := map[guardrail.PIIType]*grPRF{}
	get := func(t guardrail.PIIType) *grPRF {
		if per[t] == nil {
			per[t] = &grPRF{}
		}
		return per[t]
	}
	var overall grPRF
	records := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return grPIISummary{}, err
		}
		var recs []struct {
			Text  string `json:"full_text"`
			Spans []struct {
				Type  string `json:"entity_type"`
				Start int    `json:"start_position"`
				End   int    `json:"end_position"`
			} `json:"spans"`
		}
		if err := json.Unmarshal(b, &recs); err != nil {
			return grPIISummary{}, fmt.Errorf("%s: %w", f, err)
		}
		for _, r := range recs {
			records++
			toks := grTokenize(r.Text)
			gold := make([]guardrail.PIIType, len(toks))
			pred := make([]guardrail.PIIType, len(toks))
			for _, s := range r.Spans {
				t, ok := grPresidioMap[s.Type]
				if !ok {
					continue
				}
				a, e := grRuneToByte(r.Text, s.Start), grRuneToByte(r.Text, s.End)
				for i, tk := range toks {
					if tk[0] < e && a < tk[1] {
						gold[i] = t
					}
				}
			}
			res, err := g.Assess(ctx, guardrail.SourceInput, guardrail.Content{Text: r.Text})
			if err != nil {
				return grPIISummary{}, err
			}
			if sp := res.Assessments[0].SensitiveInformationPolicy; sp != nil {
				for _, e := range sp.PiiEntities {
					for i, tk := range toks {
						if tk[0] < e.Span.End && e.Span.Start < tk[1] {
							pred[i] = e.Type
						}
					}
				}
			}
			for i := range toks {
				gt, pt := gold[i], pred[i]
				switch {
				case gt != "" && pt != "":
					overall.tp++
				case pt != "":
					overall.fp++
				case gt != "":
					overall.fn++
				}
				if gt != "" && gt == pt {
					get(gt).tp++
				} else {
					if pt != "" {
						get(pt).fp++
					}
					if gt != "" {
						get(gt).fn++
					}
				}
			}
		}
	}
	fmt.Printf("== PII (%d records, token-level; Presidio types mapped to Bedrock's; ORGANIZATION/DATE_TIME/TITLE/NRP count as non-PII)\n", records)
	fmt.Printf("%-36s %6s %6s %6s %6s %6s %6s\n", "type", "tp", "fp", "fn", "prec", "recall", "F2")
	types := make([]string, 0, len(per))
	for t := range per {
		types = append(types, string(t))
	}
	sort.Strings(types)
	var pat grPRF
	for _, t := range types {
		c := per[guardrail.PIIType(t)]
		fmt.Printf("%-36s %6d %6d %6d %6.3f %6.3f %6.3f\n", t, c.tp, c.fp, c.fn, c.p(), c.r(), c.f2())
		for _, pt := range grPatternTypes {
			if string(pt) == t {
				pat.tp += c.tp
				pat.fp += c.fp
				pat.fn += c.fn
			}
		}
	}
	fmt.Printf("%-36s %6d %6d %6d %6.3f %6.3f %6.3f\n", "pattern types (micro)", pat.tp, pat.fp, pat.fn, pat.p(), pat.r(), pat.f2())
	fmt.Printf("%-36s %6d %6d %6d %6.3f %6.3f %6.3f\n", "PII overall (any type)", overall.tp, overall.fp, overall.fn, overall.p(), overall.r(), overall.f2())
	fmt.Println()
	return grPIISummary{overall.f2(), pat.p(), pat.r()}, nil
}

type grLabelled struct {
	text  string
	label bool
	group string
}

func grReadCSV(path string) ([]map[string]string, error) {
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
	var out []map[string]string
	for i, rec := range recs {
		if i == 0 {
			continue
		}
		m := map[string]string{}
		for j, h := range recs[0] {
			if j < len(rec) {
				m[h] = rec[j]
			}
		}
		out = append(out, m)
	}
	return out, nil
}

func grEvalInjection(ctx context.Context, dir string) (float64, float64, error) {
	var sets []struct {
		name string
		rows []grLabelled
	}
	jsonl, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	sort.Strings(jsonl)
	for _, f := range jsonl {
		fh, err := os.Open(f)
		if err != nil {
			return 0, 0, err
		}
		var rows []grLabelled
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var r struct {
				Label int    `json:"label"`
				Text  string `json:"text"`
			}
			if json.Unmarshal(sc.Bytes(), &r) == nil {
				rows = append(rows, grLabelled{r.Text, r.Label == 1, ""})
			}
		}
		fh.Close()
		sets = append(sets, struct {
			name string
			rows []grLabelled
		}{filepath.Base(f), rows})
	}
	csvs, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	sort.Strings(csvs)
	for _, f := range csvs {
		recs, err := grReadCSV(f)
		if err != nil {
			return 0, 0, err
		}
		var rows []grLabelled
		for _, r := range recs {
			rows = append(rows, grLabelled{r["prompt"], strings.EqualFold(r["type"], "jailbreak"), ""})
		}
		sets = append(sets, struct {
			name string
			rows []grLabelled
		}{filepath.Base(f), rows})
	}
	if len(sets) == 0 {
		return 0, 0, fmt.Errorf("no *.jsonl or *.csv files in %s", dir)
	}
	pol := &guardrail.Policy{BlockedInputMessaging: "blocked", BlockedOutputsMessaging: "blocked",
		ContentPolicyConfig: &guardrail.ContentPolicyConfig{FiltersConfig: []guardrail.ContentFilterConfig{
			{Type: guardrail.FilterPromptAttack, InputStrength: guardrail.StrengthHigh, OutputStrength: guardrail.StrengthNone}}}}
	g, err := guardrail.NewLocal(pol, guardrail.Options{})
	if err != nil {
		return 0, 0, err
	}
	fmt.Println("== Prompt attack (PROMPT_ATTACK filter, input strength HIGH; scored by eval.EvaluateGuard)")
	fmt.Println("note: the shipped classifier was trained on these files; cross-validated figures are printed by go generate ./guardrail/internal/classify")
	fmt.Printf("%-24s %6s %8s %8s %8s\n", "file", "n", "accuracy", "recall", "fpr")
	var all eval.PolicyScores
	for _, s := range sets {
		rep, err := grScore(ctx, g, s.rows, string(guardrail.FilterPromptAttack), s.name)
		if err != nil {
			return 0, 0, err
		}
		sc := rep.Policies[string(guardrail.FilterPromptAttack)]
		fmt.Printf("%-24s %6d %8.3f %8.3f %8.3f\n", s.name, len(s.rows), sc.Accuracy(), sc.Recall(), sc.FalsePositiveRate())
		all.TP, all.FP, all.TN, all.FN = all.TP+sc.TP, all.FP+sc.FP, all.TN+sc.TN, all.FN+sc.FN
	}
	fmt.Printf("%-24s %6d %8.3f %8.3f %8.3f\n\n", "all", all.TP+all.FP+all.TN+all.FN, all.Accuracy(), all.Recall(), all.FalsePositiveRate())
	return all.Accuracy(), all.FalsePositiveRate(), nil
}

// grScore assesses every row with g through eval.EvaluateGuard; a row
// labelled true is expected to be detected by policy.
func grScore(ctx context.Context, g guardrail.Guard, rows []grLabelled, policy, name string) (*eval.GuardReport, error) {
	cases := make([]eval.GuardCase, len(rows))
	for i, r := range rows {
		cases[i] = eval.GuardCase{ID: strconv.Itoa(i), Text: r.text}
		if r.label {
			cases[i].Expected = []string{policy}
		}
	}
	rep, err := eval.EvaluateGuard(ctx, g, cases, eval.GuardOptions{Name: name})
	if err != nil {
		return nil, err
	}
	if rep.Failed > 0 {
		return nil, fmt.Errorf("%s: the guard failed on %d texts", name, rep.Failed)
	}
	return rep, nil
}

func grEvalHateCheck(ctx context.Context, dir string) (float64, error) {
	csvs, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	sort.Strings(csvs)
	var rows []grLabelled
	for _, f := range csvs {
		recs, err := grReadCSV(f)
		if err != nil {
			return 0, err
		}
		for _, r := range recs {
			if r["test_case"] == "" {
				continue
			}
			rows = append(rows, grLabelled{r["test_case"], r["label_gold"] == "hateful", r["functionality"]})
		}
	}
	if len(rows) == 0 {
		return 0, fmt.Errorf("no HateCheck *.csv rows in %s", dir)
	}
	g, err := grHateGuard()
	if err != nil {
		return 0, err
	}
	fmt.Println("== HateCheck (HATE filter, strength HIGH); the shipped classifier was trained on these cases (template-grouped cross-validation: go generate ./guardrail/internal/classify)")
	return grHateAccuracy(ctx, g, rows)
}

// grEvalHateWritten scores the HATE filter (strength HIGH) on functional
// cases written for the project in HateCheck's functionalities but with
// other wording and groups; the classifier never saw them, so these are
// held-out figures.
func grEvalHateWritten(ctx context.Context, path string) (float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("%w (run from the module root, or pass -hate-cases)", err)
	}
	var rows []grLabelled
	for l := range strings.Lines(string(b)) {
		l = strings.TrimRight(l, "\r\n")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.SplitN(l, "\t", 3)
		if len(f) != 3 {
			return 0, fmt.Errorf("%s: malformed line %q", path, l)
		}
		rows = append(rows, grLabelled{f[2], f[1] == "1", f[0]})
	}
	g, err := grHateGuard()
	if err != nil {
		return 0, err
	}
	fmt.Printf("== HATE functional cases written for the project (%s; never trained on), strength HIGH\n", path)
	return grHateAccuracy(ctx, g, rows)
}

func grHateGuard() (*guardrail.Local, error) {
	pol := &guardrail.Policy{BlockedInputMessaging: "blocked", BlockedOutputsMessaging: "blocked",
		ContentPolicyConfig: &guardrail.ContentPolicyConfig{FiltersConfig: []guardrail.ContentFilterConfig{
			{Type: guardrail.FilterHate, InputStrength: guardrail.StrengthHigh, OutputStrength: guardrail.StrengthHigh}}}}
	return guardrail.NewLocal(pol, guardrail.Options{})
}

// grHateAccuracy prints and returns the accuracy of g (HATE) on rows,
// overall and per functionality.
func grHateAccuracy(ctx context.Context, g guardrail.Guard, rows []grLabelled) (float64, error) {
	rep, err := grScore(ctx, g, rows, string(guardrail.FilterHate), "hate")
	if err != nil {
		return 0, err
	}
	type acc struct{ ok, n int }
	per := map[string]*acc{}
	for i, c := range rep.Cases {
		r := rows[i]
		if per[r.group] == nil {
			per[r.group] = &acc{}
		}
		per[r.group].n++
		if slices.Contains(c.Detected, string(guardrail.FilterHate)) == r.label {
			per[r.group].ok++
		}
	}
	fmt.Printf("%-28s %6s %8s\n", "functionality", "n", "accuracy")
	names := make([]string, 0, len(per))
	for k := range per {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Printf("%-28s %6d %8.3f\n", k, per[k].n, grRatio(per[k].ok, per[k].n))
	}
	all := rep.Policies[string(guardrail.FilterHate)]
	fmt.Printf("%-28s %6d %8.3f\n\n", "all", len(rows), all.Accuracy())
	return all.Accuracy(), nil
}

// grEvalSoup appends random printable tokens of cl100k_base and of
// o200k_base (10, 20 and 40 of them; the shape of a GCG suffix) to harmful
// requests and reports the share blocked by PROMPT_ATTACK at strength
// HIGH; the last figure (cl100k, 20 tokens) is returned.
func grEvalSoup(ctx context.Context, path string) (float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("%w (run from the module root, or pass -soup-requests)", err)
	}
	var reqs []string
	for l := range strings.Lines(string(b)) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			reqs = append(reqs, l)
		}
	}
	pol := &guardrail.Policy{BlockedInputMessaging: "blocked", BlockedOutputsMessaging: "blocked",
		ContentPolicyConfig: &guardrail.ContentPolicyConfig{FiltersConfig: []guardrail.ContentFilterConfig{
			{Type: guardrail.FilterPromptAttack, InputStrength: guardrail.StrengthHigh, OutputStrength: guardrail.StrengthNone}}}}
	g, err := guardrail.NewLocal(pol, guardrail.Options{})
	if err != nil {
		return 0, err
	}
	printable := func(enc *tokenizer.Encoding, n int) []int {
		var out []int
		for t := 0; t < n; t++ {
			s := enc.Decode([]int{t})
			ok := s != ""
			for i := 0; i < len(s); i++ {
				ok = ok && s[i] >= 0x20 && s[i] < 0x7f
			}
			if ok {
				out = append(out, t)
			}
		}
		return out
	}
	fmt.Printf("== Token soup after harmful requests (%s), PROMPT_ATTACK HIGH: share blocked\n", path)
	result := 0.0
	for _, e := range []struct {
		name string
		enc  *tokenizer.Encoding
		n    int
	}{{"cl100k", tokenizer.CL100K(), 100256}, {"o200k", tokenizer.O200K(), 199998}} {
		toks := printable(e.enc, e.n)
		for _, k := range []int{10, 20, 40} {
			r := rand.New(rand.NewPCG(uint64(k), 99))
			blocked, n := 0, 400
			for i := range n {
				ts := make([]int, k)
				for j := range ts {
					ts[j] = toks[r.IntN(len(toks))]
				}
				res, err := g.Assess(ctx, guardrail.SourceInput, guardrail.Content{Text: reqs[i%len(reqs)] + " " + e.enc.Decode(ts)})
				if err != nil {
					return 0, err
				}
				if res.Blocked {
					blocked++
				}
			}
			fmt.Printf("%-8s %2d tokens %6d %8.3f\n", e.name, k, n, grRatio(blocked, n))
			if e.name == "cl100k" && k == 20 {
				result = grRatio(blocked, n)
			}
		}
	}
	fmt.Println()
	return result, nil
}

// grEvalPersuasion reports the share of persuasive framings of harmful
// requests (PAIR-style, written for the project) and of ordinary role-play
// and hypothetical requests blocked by PROMPT_ATTACK at strength HIGH.
func grEvalPersuasion(ctx context.Context, attacks, benign string) (float64, float64, error) {
	pol := &guardrail.Policy{BlockedInputMessaging: "blocked", BlockedOutputsMessaging: "blocked",
		ContentPolicyConfig: &guardrail.ContentPolicyConfig{FiltersConfig: []guardrail.ContentFilterConfig{
			{Type: guardrail.FilterPromptAttack, InputStrength: guardrail.StrengthHigh, OutputStrength: guardrail.StrengthNone}}}}
	g, err := guardrail.NewLocal(pol, guardrail.Options{})
	if err != nil {
		return 0, 0, err
	}
	rate := func(path string) (float64, int, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, 0, fmt.Errorf("%w (run from the module root)", err)
		}
		var rows []grLabelled
		for l := range strings.Lines(string(b)) {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				rows = append(rows, grLabelled{l, true, ""})
			}
		}
		rep, err := grScore(ctx, g, rows, string(guardrail.FilterPromptAttack), path)
		if err != nil {
			return 0, 0, err
		}
		return grRatio(rep.Any.TP+rep.Any.FP, len(rows)), len(rows), nil
	}
	a, na, err := rate(attacks)
	if err != nil {
		return 0, 0, err
	}
	heldOut := strings.TrimSuffix(attacks, ".txt") + "_heldout.txt"
	h, nh, err := rate(heldOut)
	if err != nil {
		return 0, 0, err
	}
	f, nf, err := rate(benign)
	if err != nil {
		return 0, 0, err
	}
	fmt.Println("== Persuasive framings (PAIR-style) and ordinary role-play, written for the project; PROMPT_ATTACK HIGH: share blocked")
	fmt.Printf("%-28s %6d %8.3f\n%-28s %6d %8.3f\n%-28s %6d %8.3f\n\n", "persuasive framings", na, a,
		"  held out (written after)", nh, h, "ordinary role-play", nf, f)
	return a, f, nil
}
