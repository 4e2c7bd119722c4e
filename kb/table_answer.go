package kb

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// record is one table row as the CSV and JSON loaders write it: "key:
// value" pairs, in column order. The first field names the row.
type record struct {
	keys, values []string
}

// parseRecord reads a sentence made of "key: value" pairs joined by "; "
// (how sentences joins a record's lines).
func parseRecord(text string) (record, bool) {
	var r record
	for _, f := range strings.Split(text, "; ") {
		i := strings.Index(f, ": ")
		if i <= 0 || i >= 40 {
			return record{}, false
		}
		r.keys = append(r.keys, f[:i])
		r.values = append(r.values, f[i+2:])
	}
	return r, len(r.keys) >= 2
}

// label is a column name as words: "monthly_fee" -> "monthly fee".
func label(key string) string {
	return strings.Join(strings.FieldsFunc(key, func(r rune) bool { return r == '_' || r == '-' || r == '.' }), " ")
}

// fieldsAsked returns the indexes of the fields (after the first, which
// names the row) whose column name shares a term with the question.
func (r record) fieldsAsked(q []string) []int {
	inQ := map[string]bool{}
	for _, t := range q {
		inQ[t] = true
	}
	var out []int
	for i := 1; i < len(r.keys); i++ {
		for _, t := range analyze(label(r.keys[i])) {
			if inQ[t] {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// trimmed renders the row with only its name and the fields the question
// asks about ("product: Everyday Checking; monthly_fee: $6"), or whole
// when the question names none of its columns.
func (r record) trimmed(q []string) string {
	asked := r.fieldsAsked(q)
	if len(asked) == 0 {
		return strings.Join(r.pairs(nil), "; ")
	}
	return strings.Join(r.pairs(append([]int{0}, asked...)), "; ")
}

func (r record) pairs(idx []int) []string {
	if idx == nil {
		idx = make([]int, len(r.keys))
		for i := range idx {
			idx[i] = i
		}
	}
	out := make([]string, len(idx))
	for j, i := range idx {
		out[j] = r.keys[i] + ": " + r.values[i]
	}
	return out
}

// superlativeRE finds a question asking for the row with the largest or
// smallest value of a column.
var superlativeRE = regexp.MustCompile(`(?i)\b(highest|largest|biggest|greatest|most|maximum|best|lowest|smallest|least|cheapest|minimum|fewest)\b`)

var numberRE = regexp.MustCompile(`-?\d[\d,]*(\.\d+)?`)

// cellNumber reads the first number of a cell: "$1,500" -> 1500, "3.80% APY" -> 3.8.
func cellNumber(cell string) (float64, bool) {
	m := numberRE.FindString(cell)
	if m == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(m, ",", ""), 64)
	return f, err == nil
}

// tableAnswer answers a superlative question over the rows among the
// passages ("Which savings product pays the highest interest rate?"): the
// column is the one whose name shares the most terms with the question,
// the rows are narrowed by the question's other terms found in their cells
// ("savings"), and the answer names the row with the extreme value, citing
// it. ok is false when the question is not of that kind or the rows do not
// settle it.
func tableAnswer(question string, passages []RetrievalResult) (string, []Citation, bool) {
	m := superlativeRE.FindString(question)
	if m == "" {
		return "", nil, false
	}
	want := strings.ToLower(m)
	largest := !strings.Contains("lowest smallest least cheapest minimum fewest", want)
	q := questionTerms(question)
	rows := tableRows(passages)
	if len(rows) < 2 {
		return "", nil, false
	}
	col := bestColumn(rows[0].rec, q)
	if col < 0 {
		return "", nil, false
	}
	key := rows[0].rec.keys[col]
	keep := rowsNamed(rows, q, key)
	bestI, ok := extremeRow(rows, keep, key, largest)
	if !ok {
		return "", nil, false
	}
	r := rows[bestI]
	ci := indexOf(r.rec.keys, key)
	text := r.rec.values[0] + " has the " + want + " " + label(key) + ": " + r.rec.values[ci] + "."
	return text, []Citation{{
		Text:    r.text,
		Span:    bedrockkit.Span{Start: 0, End: len(text)},
		Sources: []bedrockkit.CitationSource{reference(passages[r.passage])},
	}}, true
}

// tableRow is one record sentence of a passage: its fields, its text and
// the passage it came from.
type tableRow struct {
	rec     record
	text    string
	passage int
}

// tableRows returns the record sentences of the passages, in order.
func tableRows(passages []RetrievalResult) []tableRow {
	var rows []tableRow
	for pi, p := range passages {
		for _, s := range sentences(p.Text) {
			if r, ok := parseRecord(s); ok {
				rows = append(rows, tableRow{r, s, pi})
			}
		}
	}
	return rows
}

// rowsNamed narrows the rows by the question's terms other than the
// column's own (key) found in their cells: keep[i] says whether row i is
// still meant. A term found in no row, or in every row, says nothing about
// which rows are meant and is ignored.
func rowsNamed(rows []tableRow, q []string, key string) []bool {
	colTerms := map[string]bool{}
	for _, t := range analyze(label(key)) {
		colTerms[t] = true
	}
	keep := make([]bool, len(rows))
	for i := range keep {
		keep[i] = true
	}
	for _, t := range q {
		if colTerms[t] {
			continue
		}
		hit := make([]bool, len(rows))
		n := 0
		for i, r := range rows {
			for _, v := range r.rec.values {
				if containsTerm(v, t) {
					hit[i] = true
					n++
					break
				}
			}
		}
		if n == 0 || n == len(rows) {
			continue
		}
		for i := range keep {
			keep[i] = keep[i] && hit[i]
		}
	}
	return keep
}

// extremeRow returns the kept row with the largest (or smallest) number in
// column key, and false when no kept row holds a number there.
func extremeRow(rows []tableRow, keep []bool, key string, largest bool) (int, bool) {
	bestI, found := -1, false
	var bestV float64
	for i, r := range rows {
		ci := indexOf(r.rec.keys, key)
		if !keep[i] || ci < 0 {
			continue
		}
		v, ok := cellNumber(r.rec.values[ci])
		if !ok {
			continue
		}
		if !found || (largest && v > bestV) || (!largest && v < bestV) {
			bestI, bestV, found = i, v, true
		}
	}
	return bestI, found
}

// bestColumn returns the column (after the first) whose name shares the
// most terms with the question, or -1 when none does.
func bestColumn(r record, q []string) int {
	inQ := map[string]bool{}
	for _, t := range q {
		inQ[t] = true
	}
	best, bestN := -1, 0
	for i := 1; i < len(r.keys); i++ {
		n := 0
		for _, t := range analyze(label(r.keys[i])) {
			if inQ[t] {
				n++
			}
		}
		if n > bestN {
			best, bestN = i, n
		}
	}
	return best
}

func containsTerm(cell, term string) bool {
	for _, t := range analyze(cell) {
		if t == term {
			return true
		}
	}
	return false
}

func indexOf(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}
