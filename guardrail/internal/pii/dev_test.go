package pii

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode"
)

var presidioMap = map[string]Type{
	"PERSON": "NAME", "STREET_ADDRESS": "ADDRESS", "GPE": "ADDRESS", "ZIP_CODE": "ADDRESS",
	"CREDIT_CARD": "CREDIT_DEBIT_CARD_NUMBER", "PHONE_NUMBER": "PHONE", "AGE": "AGE", "EMAIL_ADDRESS": "EMAIL",
	"DOMAIN_NAME": "URL", "IBAN_CODE": "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "US_SSN": "US_SOCIAL_SECURITY_NUMBER",
	"IP_ADDRESS": "IP_ADDRESS", "US_DRIVER_LICENSE": "DRIVER_ID",
}

// TestDevSet is a development harness: BEDROCKKIT_PII_DEV=path prints errors.
func TestDevSet(t *testing.T) {
	path := os.Getenv("BEDROCKKIT_PII_DEV")
	if path == "" {
		t.Skip("set BEDROCKKIT_PII_DEV")
	}
	b, _ := os.ReadFile(path)
	var recs []struct {
		Text  string `json:"full_text"`
		Spans []struct {
			Type  string `json:"entity_type"`
			Start int    `json:"start_position"`
			End   int    `json:"end_position"`
		} `json:"spans"`
	}
	json.Unmarshal(b, &recs)
	var all []Type
	for _, v := range presidioMap {
		all = append(all, v)
	}
	d := New(all)
	tp, fp, fn := 0, 0, 0
	show := os.Getenv("SHOW")
	for _, r := range recs {
		// token labels
		runes := []rune(r.Text)
		_ = runes
		gold := map[int]Type{}
		pred := map[int]Type{}
		toks := tokens(r.Text)
		for _, s := range r.Spans {
			// presidio positions are in code points
			a, e := cpToByte(r.Text, s.Start), cpToByte(r.Text, s.End)
			for ti, tk := range toks {
				if tk[0] < e && a < tk[1] {
					gold[ti] = presidioMap[s.Type]
				}
			}
		}
		ents := detect(d, r.Text)
		for _, en := range ents {
			for ti, tk := range toks {
				if tk[0] < en.End && en.Start < tk[1] {
					pred[ti] = en.Type
				}
			}
		}
		for ti := range toks {
			g, p := gold[ti], pred[ti]
			if g != "" && p != "" {
				tp++
				if g != p && show == "mm"+string(p) {
					fmt.Printf("MM %s->%s %q in %q\n", g, p, r.Text[toks[ti][0]:toks[ti][1]], r.Text)
				}
			} else if p != "" {
				fp++
				if show == "fp" || show == string(p) {
					fmt.Printf("FP %s %q in %q\n", p, r.Text[toks[ti][0]:toks[ti][1]], r.Text)
				}
			} else if g != "" {
				fn++
				if show == "fn" || show == "fn"+string(g) {
					fmt.Printf("FN %s %q in %q\n", g, r.Text[toks[ti][0]:toks[ti][1]], r.Text)
				}
			}
		}
	}
	p := float64(tp) / float64(tp+fp)
	rc := float64(tp) / float64(tp+fn)
	fmt.Printf("P=%.3f R=%.3f F2=%.3f\n", p, rc, 5*p*rc/(4*p+rc))
}

func cpToByte(s string, cp int) int {
	i := 0
	for b := range s {
		if i == cp {
			return b
		}
		i++
	}
	return len(s)
}

func tokens(s string) [][2]int {
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
	_ = strings.ToLower
	return out
}
