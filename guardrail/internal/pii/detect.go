// Package pii finds personally identifiable information in text: patterns
// checked by validators (Luhn, IBAN mod-97, SSN/ITIN rules, ABA routing
// checksum, VIN check digit, NHS mod-11, IP parsing via net/netip), context
// words that confirm otherwise ambiguous numbers, and gazetteer-plus-shape
// heuristics for names and addresses. Detection runs on the Basic view of
// internal/normalize (NFKC, format characters removed, digits of every
// script, dashes and look-alike letters folded), and spans map back to the
// original.
//
// Every scanner is linear in the length of the text (each byte is visited a
// bounded number of times) and polls the context as it goes, so Detect
// returns the context's error promptly once it is cancelled.
package pii

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit/guardrail/internal/normalize"
)

// Type is a Bedrock PII entity type name, such as "EMAIL".
type Type string

// Entity is one finding at text[Start:End] of the original text.
type Entity struct {
	Type       Type
	Start, End int
	Score      float64
	Reason     string
	// Alts are the other enabled types the same characters also fit (a
	// nine-digit number with phone context that also passes the SSN rules,
	// a Luhn-valid number with account context), in priority order. The
	// caller applies the strictest action among Type and Alts.
	Alts []Type
}

// Detector finds the enabled types. The zero value finds nothing; use New.
type Detector struct {
	on map[Type]bool
}

// New returns a detector for the given types.
func New(types []Type) *Detector {
	d := &Detector{on: map[Type]bool{}}
	for _, t := range types {
		d.on[t] = true
	}
	return d
}

// pollEvery is how many units of work a scan does between two looks at its
// context.
const pollEvery = 1 << 12

type scan struct {
	s    string
	ents []Entity
	on   map[Type]bool
	cov  []uint64 // bytes covered by an entity found so far

	ctx      context.Context
	work     int // units of work done: bytes visited by the scanners
	nextPoll int
	err      error

	wordsCache []word
	wordsDone  bool
	titleA     int // line [titleA, titleEnd) of the last titleLine answer titleB; titleA -1 if none
	titleEnd   int
	titleB     bool
}

// errStop unwinds a scan whose context is done.
var errStop = errors.New("pii: scan stopped")

// tick records n units of work and, every pollEvery units, checks the
// context; once it is done the scan unwinds (Detect recovers and returns
// the context's error).
func (c *scan) tick(n int) {
	c.work += n
	if c.work >= c.nextPoll {
		c.poll()
	}
}

// poll checks the context (the slow path of tick, kept out of line so that
// tick is inlined).
func (c *scan) poll() {
	c.nextPoll = c.work + pollEvery
	if err := c.ctx.Err(); err != nil {
		c.err = err
		panic(errStop)
	}
}

func (c *scan) add(t Type, a, b int, score float64, reason string) {
	c.addAlts(t, nil, a, b, score, reason)
}

// addAlts adds an entity of the first enabled type among t and alts; the
// other enabled ones become its Alts.
func (c *scan) addAlts(t Type, alts []Type, a, b int, score float64, reason string) {
	if a >= b {
		return
	}
	var on []Type
	for _, x := range append([]Type{t}, alts...) {
		if c.on[x] && !slices.Contains(on, x) {
			on = append(on, x)
		}
	}
	if len(on) == 0 {
		return
	}
	e := Entity{Type: on[0], Start: a, End: b, Score: score, Reason: reason}
	if len(on) > 1 {
		e.Alts = on[1:]
		if on[0] != t {
			e.Reason += " (as " + string(on[0]) + ": " + string(t) + " is not enabled)"
		}
	} else if on[0] != t {
		e.Reason += " (as " + string(on[0]) + ": " + string(t) + " is not enabled)"
	}
	c.ents = append(c.ents, e)
	c.tick(b - a)
	for i := a; i < b; i++ {
		c.cov[i>>6] |= 1 << (i & 63)
	}
}

// covered reports whether [a,b) overlaps an entity found so far.
func (c *scan) covered(a, b int) bool {
	c.tick(b - a)
	for i := max(a, 0); i < b && i < len(c.s); i++ {
		if c.cov[i>>6]&(1<<(i&63)) != 0 {
			return true
		}
	}
	return false
}

// Detect returns the entities found in text, non-overlapping, in order. It
// returns ctx's error if ctx is done before the scan ends.
func (d *Detector) Detect(ctx context.Context, text string) ([]Entity, error) {
	ents, _, err := d.detect(ctx, text)
	return ents, err
}

// detect is Detect that also returns the units of work the scan did.
func (d *Detector) detect(ctx context.Context, text string) (ents []Entity, work int, err error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if len(d.on) == 0 || text == "" {
		return nil, 0, nil
	}
	n := normalize.Basic(text)
	c := &scan{s: n.String(), on: d.on, ctx: ctx, nextPoll: pollEvery, titleA: -1}
	c.cov = make([]uint64, len(c.s)/64+1)
	defer func() {
		if r := recover(); r != nil {
			if r != errStop {
				panic(r)
			}
			ents, work, err = nil, c.work, c.err
		}
	}()
	c.run()
	ents = resolve(c.ents, len(c.s))
	for i := range ents {
		ents[i].Start, ents[i].End = n.Span(ents[i].Start, ents[i].End)
	}
	return ents, c.work, nil
}

func (c *scan) run() {
	// A scanner whose types are all off could only call add, which ignores
	// them, so skipping it changes nothing.
	if c.any("EMAIL") {
		c.emails()
	}
	if c.any("URL") {
		c.urls()
	}
	if c.any("INTERNATIONAL_BANK_ACCOUNT_NUMBER", "VEHICLE_IDENTIFICATION_NUMBER", "AWS_ACCESS_KEY", "SWIFT_CODE", "UK_NATIONAL_INSURANCE_NUMBER") {
		c.alnum()
	}
	if c.any("MAC_ADDRESS", "IP_ADDRESS") {
		c.colonTokens()
	}
	c.numbers()
	c.contextTokens()
	if c.any("ADDRESS") {
		c.addresses()
	}
	if c.any("NAME", "ADDRESS") {
		c.names()
	}
}

// any reports whether one of the types is enabled.
func (c *scan) any(types ...Type) bool {
	for _, t := range types {
		if c.on[t] {
			return true
		}
	}
	return false
}

// resolve drops overlaps, keeping the earlier-found (higher-priority)
// entity, and sorts by position. The type of a dropped entity is added to
// the Alts of the kept one it overlaps, so that a stricter action on it is
// not lost. n is the length of the scanned text; the cost is linear in it
// plus the total length of the entities.
func resolve(es []Entity, n int) []Entity {
	if len(es) == 0 {
		return nil
	}
	owner := make([]int32, n) // 1 + index in es of the kept entity owning the byte
	kept := make([]int, 0, len(es))
	for i, e := range es {
		hit := -1
		for k := e.Start; k < e.End; k++ {
			if owner[k] != 0 {
				hit = int(owner[k]) - 1
				break
			}
		}
		if hit >= 0 {
			k := &es[hit]
			for _, t := range append([]Type{e.Type}, e.Alts...) {
				if t != k.Type && !slices.Contains(k.Alts, t) {
					k.Alts = append(k.Alts, t)
				}
			}
			continue
		}
		for k := e.Start; k < e.End; k++ {
			owner[k] = int32(i + 1)
		}
		kept = append(kept, i)
	}
	out := make([]Entity, 0, len(kept))
	for _, i := range kept {
		out = append(out, es[i])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
func isAlnum(b byte) bool { return isDigit(b) || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// before returns up to n bytes of lower-cased text before position i.
func (c *scan) before(i, n int) string {
	a := max(0, i-n)
	c.tick(i - a)
	return strings.ToLower(c.s[a:i])
}

func (c *scan) after(i, n int) string {
	b := min(len(c.s), i+n)
	c.tick(b - i)
	return strings.ToLower(c.s[i:b])
}

// asciiLower lower-cases ASCII letters only, so that byte offsets in the
// result are those of s (strings.ToLower may change the length of some
// non-ASCII letters).
func asciiLower(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	return string(b)
}

func hasAny(s string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// ---- email and URL ----

// wordRuneAt returns the size of the letter, digit or mark starting at s[i]
// (any script), or 0.
func wordRuneAt(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	if b := s[i]; b < utf8.RuneSelf {
		if isAlnum(b) {
			return 1
		}
		return 0
	}
	r, sz := utf8.DecodeRuneInString(s[i:])
	if r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)) {
		return sz
	}
	return 0
}

// wordRuneBefore returns the size of the letter, digit or mark ending at
// s[i-1], or 0.
func wordRuneBefore(s string, i int) int {
	if i <= 0 {
		return 0
	}
	if b := s[i-1]; b < utf8.RuneSelf {
		if isAlnum(b) {
			return 1
		}
		return 0
	}
	r, sz := utf8.DecodeLastRuneInString(s[:i])
	if r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)) {
		return sz
	}
	return 0
}

// emails finds address@domain.tld, with letters of any script in the local
// part and the domain (internationalised addresses, RFC 6531), so that an
// address written partly in look-alike letters is still one.
func (c *scan) emails() {
	s := c.s
	for i := strings.IndexByte(s, '@'); i >= 0; {
		a := i
		for a > 0 {
			c.tick(1)
			if b := s[a-1]; b == '.' || b == '_' || b == '%' || b == '+' || b == '-' {
				a--
			} else if sz := wordRuneBefore(s, a); sz > 0 {
				a -= sz
			} else {
				break
			}
		}
		for a < i && s[a] == '.' {
			a++
		}
		b := i + 1
		lastDot := -1
		for b < len(s) {
			c.tick(1)
			if ch := s[b]; ch == '.' || ch == '-' {
				if ch == '.' {
					lastDot = b
				}
				b++
			} else if sz := wordRuneAt(s, b); sz > 0 {
				b += sz
			} else {
				break
			}
		}
		for b > i+1 && (s[b-1] == '.' || s[b-1] == '-') {
			b--
		}
		for lastDot >= b {
			lastDot = strings.LastIndexByte(s[i+1:b], '.')
			if lastDot >= 0 {
				lastDot += i + 1
			}
		}
		if a < i && lastDot > i+1 {
			if tld := s[lastDot+1 : b]; utf8.RuneCountInString(tld) >= 2 && isLetters(tld) {
				c.add("EMAIL", a, b, 0.95, "address@domain.tld")
			}
		}
		j := strings.IndexByte(s[i+1:], '@')
		if j < 0 {
			break
		}
		i += 1 + j
	}
}

// isLetters reports whether s is non-empty and all letters (any script).
func isLetters(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsMark(r) {
			return false
		}
	}
	return s != ""
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
			return false
		}
	}
	return s != ""
}

func urlEnd(c *scan, b int) int {
	s := c.s
	b0 := b
	for b < len(s) {
		ch := s[b]
		if ch <= ' ' || ch == '"' || ch == '<' || ch == '>' || ch == '\'' || ch == '`' {
			break
		}
		b++
	}
	c.tick(b - b0)
	return b
}

var commonTLDs = set(`com org net edu gov io co us uk de fr es it nl be se dk no fi pl cz hu ee br au ca ch at ru jp cn in info biz app dev ai me tv ly eu`)

func isHostByte(b byte) bool { return isAlnum(b) || b == '-' || b == '.' }

// urls finds URLs: those with a scheme or a www prefix, then bare
// domains with a common TLD.
func (c *scan) urls() {
	c.prefixedURLs()
	c.bareDomains()
}

// prefixedURLs finds URLs that start with a scheme or www.
func (c *scan) prefixedURLs() {
	s := c.s
	low := asciiLower(s)
	for _, pre := range []string{"https://", "http://", "ftp://", "www."} {
		for off := 0; ; {
			i := strings.Index(low[off:], pre)
			if i < 0 {
				break
			}
			c.tick(i)
			i += off
			off = i + len(pre)
			if pre == "www." && i >= 3 && strings.HasSuffix(low[:i], "://") {
				continue
			}
			b := urlEnd(c, i+len(pre))
			for b > i+len(pre) && strings.IndexByte(".,;:!?)]}", s[b-1]) >= 0 {
				b--
			}
			if b-i > len(pre)+3 && !c.covered(i, b) {
				c.add("URL", i, b, 0.9, "URL scheme or www prefix")
			}
			off = max(off, b)
		}
	}
}

// bareDomains finds bare domains with a common TLD: example.com,
// foo.co.uk/path. Each run of host characters is read once: the first dot
// followed by a common TLD (and a label of two or more characters, not all
// digits, before it) makes the run's one URL.
func (c *scan) bareDomains() {
	s := c.s
	for i := 0; i < len(s); {
		c.tick(1)
		if !isHostByte(s[i]) {
			i++
			continue
		}
		a := i
		e := i
		for e < len(s) && isHostByte(s[e]) {
			e++
		}
		c.tick(e - a)
		i = e
		if a > 0 && (s[a-1] == '@' || s[a-1] == '/') {
			continue
		}
		nonDigit := false // s[a:k] holds a byte other than a digit or '.'
		for k := a; k < e; k++ {
			if s[k] != '.' {
				if !isDigit(s[k]) {
					nonDigit = true
				}
				continue
			}
			if k == a || !isAlnum(s[k-1]) {
				continue
			}
			j := k + 1
			for j < e && isAlnum(s[j]) {
				j++
			}
			if !commonTLDs[asciiLower(s[k+1:j])] || (j < len(s) && s[j] == '@') {
				continue
			}
			if k-a < 2 || !nonDigit {
				continue
			}
			b := j
			if b < len(s) && s[b] == '/' {
				b = urlEnd(c, b)
				for b > j && strings.IndexByte(".,;:!?)]}", s[b-1]) >= 0 {
					b--
				}
			}
			if !c.covered(a, b) {
				c.add("URL", a, b, 0.7, "domain with common TLD")
			}
			i = max(e, b)
			break
		}
	}
}

func isDigitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}

// ---- alphanumeric tokens: IBAN, VIN, AWS keys, SWIFT, NINO ----

func (c *scan) alnum() {
	s := c.s
	for i := 0; i < len(s); {
		if !isAlnum(s[i]) || (i > 0 && isAlnum(s[i-1])) {
			c.tick(1)
			i++
			continue
		}
		j := i
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
		c.tick(j - i + 1)
		tok := s[i:j]
		c.alnumToken(i, j, tok)
		i = j
	}
}

func isUpperAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(isDigit(s[i]) || s[i] >= 'A' && s[i] <= 'Z') {
			return false
		}
	}
	return true
}

func (c *scan) alnumToken(i, j int, tok string) {
	s := c.s
	// IBAN: CCdd followed by more alnum, possibly in space-separated groups.
	if len(tok) >= 4 && isAlpha(tok[:2]) && isDigit(tok[2]) && isDigit(tok[3]) {
		if _, ok := ibanLengths[strings.ToUpper(tok[:2])]; ok {
			end := j
			for k := 0; k < 8 && end+1 < len(s) && s[end] == ' ' && isAlnum(s[end+1]); k++ {
				e2 := end + 1
				for e2 < len(s) && isAlnum(s[e2]) {
					e2++
				}
				if e2-end-1 > 4 {
					break
				}
				end = e2
			}
			for e := end; e >= j; e-- {
				if (e == j || e == end || s[e] == ' ') && IBAN(s[i:e]) {
					c.add("INTERNATIONAL_BANK_ACCOUNT_NUMBER", i, e, 0.95, "IBAN mod-97 check")
					return
				}
			}
		}
	}
	if len(tok) == 17 && isUpperAlnum(tok) && VIN(tok) {
		c.add("VEHICLE_IDENTIFICATION_NUMBER", i, j, 0.9, "VIN check digit")
		return
	}
	if len(tok) == 20 && isUpperAlnum(tok) && hasAnyPrefix(tok, "AKIA", "ASIA", "ABIA", "ACCA", "AIDA", "AROA") {
		c.add("AWS_ACCESS_KEY", i, j, 0.95, "AWS access key ID shape")
		return
	}
	if (len(tok) == 8 || len(tok) == 11) && isUpperAlnum(tok) && isAlpha(tok[:6]) {
		if _, ok := ibanLengths[tok[4:6]]; ok && hasAny(c.before(i, 40), "swift", "bic", "bank code", "sort code") {
			c.add("SWIFT_CODE", i, j, 0.85, "SWIFT/BIC shape with context")
			return
		}
	}
	if len(tok) == 9 && isAlpha(tok[:2]) && isDigitsOnly(tok[2:8]) && strings.IndexByte("ABCD", tok[8]) >= 0 && isUpperAlnum(tok) {
		if strings.IndexByte("DFIQUV", tok[0]) < 0 && strings.IndexByte("DFIOQUV", tok[1]) < 0 {
			c.add("UK_NATIONAL_INSURANCE_NUMBER", i, j, 0.85, "UK NINO shape")
			return
		}
	}
}

func hasAnyPrefix(s string, ps ...string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// ---- tokens with colons: MAC and IPv6 ----

func (c *scan) colonTokens() {
	s := c.s
	isTok := func(b byte) bool { return isHex(b) || b == ':' || b == '-' || b == '.' }
	for i := 0; i < len(s); i++ {
		c.tick(1)
		if s[i] != ':' && s[i] != '-' {
			continue
		}
		// The token around i; the next one starts after its end, so every
		// byte is read at most twice.
		a := i
		for a > 0 && isTok(s[a-1]) {
			a--
		}
		end := i
		for end < len(s) && isTok(s[end]) {
			end++
		}
		c.tick(end - a)
		b := end
		for b > a && (s[b-1] == '.' || s[b-1] == '-' || s[b-1] == ':') {
			b--
		}
		tok := s[a:b]
		if len(tok) == 17 && isMAC(tok) {
			c.add("MAC_ADDRESS", a, b, 0.9, "six hex pairs")
		} else if len(tok) <= 64 && strings.Count(tok, ":") >= 2 && !strings.Contains(tok, "-") && IP(tok) {
			c.add("IP_ADDRESS", a, b, 0.9, "IPv6 address")
		}
		i = max(i, end)
	}
}

func isHex(b byte) bool { return isDigit(b) || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' }

func isMAC(t string) bool {
	sep := t[2]
	if sep != ':' && sep != '-' {
		return false
	}
	for k := 0; k < 17; k++ {
		if k%3 == 2 {
			if t[k] != sep {
				return false
			}
		} else if !isHex(t[k]) {
			return false
		}
	}
	return true
}

// ---- numbers: cards, SSN, phone, IP, routing, ... ----

// numSep reports the bytes that may stand between the digit groups of one
// number: "123-45-6789", "4111 1111 1111 1111", "(555) 123.4567",
// "123_45_6789", "1 2 3 4 5 6 7 8 9".
func numSep(b byte) bool {
	return b == '-' || b == '.' || b == '/' || b == '_' || b == ' ' || b == '(' || b == ')' || b == '+'
}

// maxSepRun is the longest run of separators inside one number (" - ").
const maxSepRun = 3

// numbers reads each run of digit groups once: a run starts at a digit (or
// a '+' or '(' just before one) not glued to a word, and goes on while at
// most maxSepRun separators lead to another digit.
func (c *scan) numbers() {
	s := c.s
	for i := 0; i < len(s); {
		c.tick(1)
		ch := s[i]
		if !isDigit(ch) && ch != '+' && ch != '(' {
			i++
			continue
		}
		if i > 0 && (isAlnum(s[i-1]) || s[i-1] == '_' || s[i-1] == '.' && i > 1 && isDigit(s[i-2])) {
			i++
			continue
		}
		first := i // first digit
		for first < len(s) && first-i < maxSepRun && (s[first] == '+' || s[first] == '(' || s[first] == ' ') {
			first++
		}
		c.tick(first - i)
		if first >= len(s) || !isDigit(s[first]) {
			i++
			continue
		}
		if n := dateAt(s, i); n > 0 {
			c.tick(n)
			i += n
			continue
		}
		j := first
		for {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			k := j
			for k < len(s) && k-j < maxSepRun && numSep(s[k]) {
				k++
			}
			c.tick(k - j + 1)
			if k > j && k < len(s) && isDigit(s[k]) {
				j = k
				continue
			}
			break
		}
		// A closing parenthesis that balances one inside the run belongs to it.
		if j < len(s) && s[j] == ')' && strings.Count(s[i:j], "(") > strings.Count(s[i:j], ")") {
			j++
		}
		c.tick(j - i)
		if j < len(s) && isAlpha(s[j:j+1]) && s[j] != 'x' && s[j] != 'X' || j < len(s) && s[j] == '_' {
			// digits glued to letters (ids, model numbers) are left to other scanners
			for j < len(s) && (isAlnum(s[j]) || s[j] == '_') {
				j++
			}
			c.tick(j - i)
			i = j
			continue
		}
		c.classifyRun(i, j)
		i = max(j, i+1)
	}
}

// numRun describes the digit groups of s[i:j].
type numRun struct {
	starts, ends []int // byte offsets of each digit group
}

func (c *scan) groupsOf(i, j int) numRun {
	var g numRun
	s := c.s
	for k := i; k < j; {
		if !isDigit(s[k]) {
			k++
			continue
		}
		e := k
		for e < j && isDigit(s[e]) {
			e++
		}
		g.starts = append(g.starts, k)
		g.ends = append(g.ends, e)
		k = e
	}
	return g
}

// maxNumberDigits is the most digits any number entity has (a 19-digit card).
const maxNumberDigits = 19

// classifyRun classifies the whole run and, if it is no entity, the
// longest runs of its groups that are, from left to right, so that several
// numbers written one after another ("123-45-6780 234-56-7891") are each
// found. A candidate part has at most maxNumberDigits digits, and only parts
// that can pass (a checksum, an SSN layout, a context word read once per
// start) are classified, so the work per group is bounded.
func (c *scan) classifyRun(i, j int) {
	if c.classifyNumber(i, j, false) {
		return
	}
	s := c.s
	g := c.groupsOf(i, j)
	n := len(g.starts)
	if n < 2 {
		return
	}
	glen := func(k int) int { return g.ends[k] - g.starts[k] }
	sep := func(k int) string { return s[g.ends[k]:g.starts[k+1]] } // after group k
	var dig [maxNumberDigits]byte
	var cum [maxNumberDigits + 2]int      // digits in groups a..a+m-1
	var uniform [maxNumberDigits + 2]bool // one separator throughout groups a..a+m-1
	var single [maxNumberDigits + 2]bool  // groups a..a+m-1 all of one digit
	for a := 0; a < n; {
		st := g.starts[a]
		if a == 0 {
			st = i // keep a leading '+' or '('
		}
		ctx := c.before(st, 48)
		phoneOK := s[st] == '+' || s[st] == '(' || hasAny(ctx, phoneWords...)
		idCtx := hasAny(ctx, "routing", "aba", "rtn", "social insurance", " sin", "nhs", "itin", "taxpayer identification", "ssn", "social security")
		m, nd := 0, 0
		for a+m < n && nd+glen(a+m) <= maxNumberDigits {
			k := a + m
			copy(dig[nd:], s[g.starts[k]:g.ends[k]])
			nd += glen(k)
			m++
			cum[m] = nd
			single[m] = glen(k) == 1 && (m == 1 || single[m-1])
			uniform[m] = m == 1 || (uniform[m-1] && (m == 2 || sep(k-1) == sep(a)))
		}
		c.tick(nd + m)
		found := false
		for ; m > 0; m-- {
			if a == 0 && m == n {
				continue // the whole run was tried
			}
			c.tick(1)
			k, d := cum[m], dig[:cum[m]]
			worth := k == 9 && (idCtx || single[m] && m >= 7 || m == 3 && uniform[m] && glen(a) == 3 && glen(a+1) == 2) ||
				k >= 12 && k <= 19 && luhnBytes(d) ||
				k >= 7 && k <= 15 && phoneOK ||
				k == 10 && idCtx ||
				k >= 4 && k <= 12 && m == 4 && sep(a) == "." && uniform[m]
			if worth && c.classifyNumber(st, g.ends[a+m-1], true) {
				found = true
				break
			}
		}
		if found {
			a += m
		} else {
			a++
		}
	}
}

// luhnBytes is Luhn for a digit slice, without a copy.
func luhnBytes(d []byte) bool {
	sum, dbl := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if dbl {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		dbl = !dbl
	}
	return len(d) >= 2 && sum%10 == 0
}

// phoneWords before a number say it is a phone number.
var phoneWords = []string{"phone", "tel", "call", "mobile", "cell", "fax", "desk", "contact", "number", "reach", "text me", "whatsapp", "sms", "answering", "dial"}

// numShape is what the classifiers read of a run of digit groups.
type numShape struct {
	raw    string
	d      string   // the digits
	groups []string // the digit groups
	seps   []string // the separators between groups
	// uniform: every separator is the same string and, spaces aside, at
	// most one of - . / _
	uniform bool
	// spaced: at least seven groups, all of one digit (1 2 3 4 5 6 7 8 9)
	spaced bool
}

func shapeOf(raw string) numShape {
	sh := numShape{raw: raw, uniform: true}
	var d []byte
	for k := 0; k < len(raw); {
		if isDigit(raw[k]) {
			e := k
			for e < len(raw) && isDigit(raw[e]) {
				e++
			}
			sh.groups = append(sh.groups, raw[k:e])
			d = append(d, raw[k:e]...)
			k = e
			continue
		}
		e := k
		for e < len(raw) && !isDigit(raw[e]) {
			e++
		}
		if len(sh.groups) > 0 && e < len(raw) {
			sh.seps = append(sh.seps, raw[k:e])
		}
		k = e
	}
	sh.d = string(d)
	for _, sp := range sh.seps {
		t := strings.TrimSpace(sp)
		if sp != sh.seps[0] || len(t) > 1 || t != "" && strings.IndexByte("-./_", t[0]) < 0 {
			sh.uniform = false
		}
	}
	sh.spaced = len(sh.groups) >= 7 && len(sh.groups) == len(sh.d)
	return sh
}

// ssnShape reports the layouts in which nine digits are written as an SSN
// or ITIN without context words: 3-2-4 with one separator throughout (any
// dash, dot, slash, underscore or space), or one digit at a time.
func (sh numShape) ssnShape() bool {
	if len(sh.d) != 9 || strings.ContainsAny(sh.raw, "()+") {
		return false
	}
	if sh.spaced {
		return true
	}
	return len(sh.groups) == 3 && len(sh.groups[0]) == 3 && len(sh.groups[1]) == 2 && len(sh.groups[2]) == 4 && sh.uniform
}

// cardShape reports plausible card layouts: no separators, 4-4-4-4(-3),
// 4-6-5 (Amex) or 4-6-4 (Diners) with dashes, dots, slashes, underscores or
// spaces, or one digit at a time.
func (sh numShape) cardShape() bool {
	if strings.ContainsAny(sh.raw, "()+") {
		return false
	}
	if len(sh.groups) == 1 || sh.spaced {
		return true
	}
	for _, sp := range sh.seps {
		if t := strings.TrimSpace(sp); len(t) > 1 || t != "" && strings.IndexByte("-./_", t[0]) < 0 {
			return false
		}
	}
	for k, g := range sh.groups {
		if len(g) != 4 && !(k > 0 && (len(g) == 6 || len(g) == 5 || len(g) == 3)) {
			return false
		}
	}
	return len(sh.groups) >= 3
}

// validated returns the types whose validity rules the digits pass in this
// layout, without context words: SSN/ITIN, payment card. A number taken as
// another type on context (phone, account) lists them as alternatives.
func (c *scan) validated(sh numShape, ctx string) []Type {
	var out []Type
	d := sh.d
	// Nine digits can be an SSN or ITIN written bare, in the SSN layout or
	// one digit at a time; with parentheses, a plus or another grouping
	// (555) 123-456 they are written as something else.
	if len(d) == 9 && (len(sh.groups) == 1 && !strings.ContainsAny(sh.raw, "()+") || sh.ssnShape()) {
		if ITIN(d) {
			out = append(out, "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER")
		} else if SSN(d) && !hasAny(ctx, "driver", "licen") {
			out = append(out, "US_SOCIAL_SECURITY_NUMBER")
		}
	}
	if len(d) >= 12 && len(d) <= 19 && d[0] >= '1' && d[0] <= '6' && Luhn(d) && sh.cardShape() {
		out = append(out, "CREDIT_DEBIT_CARD_NUMBER")
	}
	return out
}

// classifyNumber classifies s[i:j] and adds the entity; it reports whether
// it found one (or, for a whole run, whether the run is settled: a date is
// no entity, and its parts are none either). In a part of a longer run
// (part), only types confirmed by a validator or a layout are accepted, not
// bare shapes or context words alone.
func (c *scan) classifyNumber(i, j int, part bool) bool {
	s := c.s
	raw := s[i:j]
	c.tick(len(raw))
	sh := shapeOf(raw)
	d := sh.d
	nd := len(d)
	if nd == 0 {
		return false
	}
	ctx := c.before(i, 48)
	// IPv4.
	if strings.Count(raw, ".") == 3 && !strings.ContainsAny(raw, " -()/+_") && IP(raw) {
		c.add("IP_ADDRESS", i, j, 0.9, "IPv4 address")
		return true
	}
	seps := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return -1
		}
		return r
	}, raw)
	// Dates are not PII numbers here, nor parts of them.
	if isDateLike(raw) {
		if !part && hasAny(ctx, "exp", "valid thru", "valid through", "good thru") && (nd == 4 || nd == 6) {
			c.add("CREDIT_DEBIT_CARD_EXPIRY", i, j, 0.8, "date with expiry context")
			return true
		}
		return !part // a whole date ends the run's classification
	}
	n := &numberRun{c: c, i: i, j: j, raw: raw, d: d, seps: seps, ctx: ctx, valid: c.validated(sh, ctx)}
	if n.validatedLayout(sh) {
		return true
	}
	if t, score, reason := n.contextType(part); t != "" {
		c.addAlts(t, n.alts(t), i, j, score, reason)
		return true
	}
	// Phone numbers. In part of a longer run, only with phone context or an
	// international or area-code prefix.
	if ext, ok := c.phoneEnd(i, j, raw, d, seps, ctx); ok && (!part || raw[0] == '+' || raw[0] == '(' || hasAny(ctx, phoneWords...)) {
		c.addAlts("PHONE", n.alts("PHONE"), i, ext, 0.85, "phone-number shape")
		return true
	}
	if len(n.valid) > 0 {
		// Digits that pass a validator in a layout that is neither its own
		// nor a phone's ("1234 5678 9012 3456 7" with context missing): no
		// entity without context.
		return false
	}
	if part {
		return false
	}
	return n.age()
}

// numberRun is the run of digits s[i:j] classifyNumber is classifying.
type numberRun struct {
	c            *scan
	i, j         int
	raw, d, seps string // the run, its digits, its separators
	ctx          string // the text before it
	valid        []Type // the types its validators accept (see validated)
}

// alts are the other types the run fits besides t: the validated ones,
// and PHONE when the whole run reads as a phone number.
func (n *numberRun) alts(t Type) []Type {
	var out []Type
	for _, v := range n.valid {
		if v != t {
			out = append(out, v)
		}
	}
	if t != "PHONE" {
		if ext, ok := n.c.phoneEnd(n.i, n.j, n.raw, n.d, n.seps, n.ctx); ok && ext == n.j {
			out = append(out, "PHONE")
		}
	}
	return out
}

// validatedLayout adds an SSN or ITIN in an SSN layout, or a payment
// card, and reports whether it did.
func (n *numberRun) validatedLayout(sh numShape) bool {
	c, d, i, j := n.c, n.d, n.i, n.j
	// SSN / ITIN in an SSN layout.
	if sh.ssnShape() {
		if ITIN(d) {
			c.addAlts("US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", n.alts("US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER"), i, j, 0.85, "ITIN ranges")
			return true
		}
		if SSN(d) && !hasAny(n.ctx, "driver", "licen") {
			c.addAlts("US_SOCIAL_SECURITY_NUMBER", n.alts("US_SOCIAL_SECURITY_NUMBER"), i, j, 0.85, "SSN area/group/serial rules")
			return true
		}
	}
	// Payment cards: 12-19 digits, Luhn, plausible grouping and issuer prefix.
	if slices.Contains(n.valid, "CREDIT_DEBIT_CARD_NUMBER") {
		c.addAlts("CREDIT_DEBIT_CARD_NUMBER", n.alts("CREDIT_DEBIT_CARD_NUMBER"), i, j, 0.95, "Luhn-valid card number")
		return true
	}
	return false
}

// contextType is the identifier the words before (or, for an SSN, after)
// the run confirm, or "". In part of a longer run, a context word alone
// does not count: a checksum or the SSN/ITIN rules must agree.
func (n *numberRun) contextType(part bool) (t Type, score float64, reason string) {
	d, seps, ctx := n.d, n.seps, n.ctx
	nd := len(d)
	switch {
	case nd == 9 && hasAny(ctx, "routing", "aba", "rtn") && ABARouting(d):
		t, score, reason = "US_BANK_ROUTING_NUMBER", 0.9, "ABA checksum with context"
	case nd == 9 && hasAny(ctx, "social insurance", " sin") && Luhn(d):
		t, score, reason = "CA_SOCIAL_INSURANCE_NUMBER", 0.85, "Luhn with SIN context"
	case nd == 10 && hasAny(ctx, "nhs") && NHS(d):
		t, score, reason = "UK_NATIONAL_HEALTH_SERVICE_NUMBER", 0.9, "NHS mod-11 with context"
	case nd == 10 && hasAny(ctx, "health card", "health number", "ohip", "health insurance number"):
		t, score, reason = "CA_HEALTH_NUMBER", 0.75, "10 digits with health-card context"
	case nd == 10 && hasAny(ctx, "utr", "unique taxpayer", "tax reference"):
		t, score, reason = "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", 0.8, "10 digits with UTR context"
	case nd == 9 && hasAny(ctx, "itin", "taxpayer identification") && ITIN(d):
		t, score, reason = "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", 0.85, "ITIN with context"
	case nd == 9 && hasAny(ctx, "ssn", "social security") && SSN(d):
		t, score, reason = "US_SOCIAL_SECURITY_NUMBER", 0.85, "SSN with context"
	case nd == 9 && SSN(d) && hasAny(n.c.after(n.j, 24), "ssn", "social security"):
		t, score, reason = "US_SOCIAL_SECURITY_NUMBER", 0.85, "SSN with context after it"
	case nd >= 6 && nd <= 9 && len(seps) == 0 && hasAny(ctx, "passport"):
		t, score, reason = "US_PASSPORT_NUMBER", 0.8, "number with passport context"
	case nd >= 5 && nd <= 16 && hasAny(ctx, "driver", "licence", "license", " dl ", "dl#", "dl:"):
		t, score, reason = "DRIVER_ID", 0.75, "number with driver's licence context"
	case (nd == 3 || nd == 4) && len(seps) == 0 && hasAny(ctx, "cvv", "cvc", "cvv2", "security code", "card verification"):
		t, score, reason = "CREDIT_DEBIT_CARD_CVV", 0.85, "3-4 digits with CVV context"
	case nd >= 4 && nd <= 8 && len(seps) == 0 && hasAny(ctx, " pin", "pin:", "pin code", "pin number"):
		t, score, reason = "PIN", 0.8, "digits with PIN context"
	case nd >= 6 && nd <= 17 && !strings.ContainsAny(seps, "()+") && hasAny(ctx, "account", "acct", "a/c"):
		t, score, reason = "US_BANK_ACCOUNT_NUMBER", 0.75, "digits with account context"
	}
	if t != "" && part && !strings.Contains(reason, "checksum") && !strings.Contains(reason, "Luhn") && !strings.Contains(reason, "mod-11") &&
		t != "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER" && t != "US_SOCIAL_SECURITY_NUMBER" {
		return "", 0, "" // a context word alone does not single out part of a run
	}
	return t, score, reason
}

// age adds a short bare number with age context (before or after it) as
// an AGE, and reports whether it did.
func (n *numberRun) age() bool {
	c, d, ctx := n.c, n.d, n.ctx
	if len(d) > 3 || len(n.seps) != 0 {
		return false
	}
	v := 0
	for k := 0; k < len(d); k++ {
		v = v*10 + int(d[k]-'0')
	}
	aft := c.after(n.j, 16)
	if v > 0 && v < 125 && (hasAny(ctx, "age ", "age of", "aged", "age:", "i am", "i'm", " is ", " turned", " turn ") && hasSuffixAny(strings.TrimSpace(ctx), "age", "age of", "aged", "age:", "am", "i'm", "turned", "turn", "is", "is a", "was", "a") ||
		strings.HasPrefix(aft, " years") || strings.HasPrefix(aft, "-year") || strings.HasPrefix(aft, " year-old") ||
		strings.HasPrefix(aft, " year old") || strings.HasPrefix(aft, " yo") || strings.HasPrefix(aft, "yo ") || strings.HasPrefix(aft, " y/o") || strings.HasPrefix(aft, " yrs")) {
		if !strings.HasPrefix(aft, " years ago") && !strings.HasPrefix(aft, " years of experience") {
			c.add("AGE", n.i, n.j, 0.7, "number with age context")
			return true
		}
	}
	return false
}

// wordFollows reports whether a word starts right after position i (after
// spaces): a short number followed by words is a house number, not a phone.
func (c *scan) wordFollows(i int) bool {
	for i < len(c.s) && c.s[i] == ' ' {
		i++
	}
	return i < len(c.s) && isLetterAt(c.s, i)
}

func hasSuffixAny(s string, suf ...string) bool {
	for _, x := range suf {
		if strings.HasSuffix(s, " "+x) || s == x {
			return true
		}
	}
	return false
}

// dateAt returns the length of a date (yyyy-mm-dd, dd/mm/yyyy, mm/dd/yy)
// optionally followed by a time (hh:mm[:ss]) at s[i:], or 0.
func dateAt(s string, i int) int {
	j := i
	digits := func(n int) bool {
		for k := 0; k < n; k++ {
			if j+k >= len(s) || !isDigit(s[j+k]) {
				return false
			}
		}
		if j+n < len(s) && isDigit(s[j+n]) {
			return false
		}
		j += n
		return true
	}
	sep := func(cs string) bool {
		if j < len(s) && strings.IndexByte(cs, s[j]) >= 0 {
			j++
			return true
		}
		return false
	}
	ok := false
	if digits(4) && sep("-/.") && (digits(2) || digits(1)) && sep("-/.") && (digits(2) || digits(1)) {
		ok = true
	} else {
		j = i
		if (digits(2) || digits(1)) && sep("/.-") && (digits(2) || digits(1)) && sep("/.-") && (digits(4) || digits(2)) {
			ok = true
		}
	}
	if !ok || j+1 < len(s) && strings.IndexByte("-./", s[j]) >= 0 && isDigit(s[j+1]) {
		return 0
	}
	end := j
	if sep(" T") && digits(2) && sep(":") && digits(2) {
		end = j
		if sep(":") && digits(2) {
			end = j
		}
	}
	return end - i
}

func isDateLike(raw string) bool {
	// yyyy-mm-dd, dd/mm/yyyy, mm/dd/yy, mm/yy
	parts := strings.FieldsFunc(raw, func(r rune) bool { return r == '-' || r == '/' || r == '.' })
	if len(parts) < 2 || len(parts) > 3 || strings.ContainsAny(raw, " ()+") {
		return false
	}
	if len(parts) == 2 && !strings.Contains(raw, "/") {
		return false
	}
	for _, p := range parts {
		if len(p) != 1 && len(p) != 2 && len(p) != 4 {
			return false
		}
	}
	return true
}

// phoneContext reports phone context words before a number (ctx) or after
// its end.
func (c *scan) phoneContext(ctx string, end int) bool {
	aft := c.after(end, 12)
	return hasAny(ctx, phoneWords...) || hasAny(aft, "office", "fax", "mobile", "cell", "home", "work", "phone")
}

// phoneEnd reports whether s[i:j] reads as a phone number, and where it ends
// (after an extension such as x123).
func (c *scan) phoneEnd(i, j int, raw, d, seps, ctx string) (int, bool) {
	s := c.s
	nd := len(d)
	if nd < 7 || nd > 15 {
		return 0, false
	}
	ext := j
	// Extension: x123, ext. 123
	if k := j; k < len(s) && (s[k] == 'x' || s[k] == 'X') {
		e := k + 1
		for e < len(s) && e-k <= 8 && isDigit(s[e]) {
			e++
		}
		if e > k+1 && (e == len(s) || !isAlnum(s[e])) {
			ext = e
		}
	}
	phoneCtx := c.phoneContext(ctx, ext)
	formatted := raw[0] == '+' || raw[0] == '(' || strings.ContainsAny(seps, "-. ()")
	if strings.Count(seps, ".") > 0 && strings.Count(seps, ".") != len(seps) {
		formatted = formatted && !strings.Contains(seps, ".")
	}
	switch {
	case nd >= 10 && nd <= 15 && (formatted || phoneCtx):
	case nd >= 7 && nd <= 9 && (phoneCtx || formatted && looksPhoneGrouped(raw) && !c.wordFollows(ext)):
	default:
		return 0, false
	}
	return ext, true
}

// looksPhoneGrouped accepts short local numbers written like 781 1704,
// 555-0123 or (64) 3591-3246.
func looksPhoneGrouped(raw string) bool {
	groups := strings.FieldsFunc(raw, func(r rune) bool { return r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' })
	if len(groups) < 2 || strings.Count(raw, ".") == 1 {
		return false
	}
	for _, g := range groups {
		if len(g) > 5 {
			return false
		}
	}
	// 3-2-4 is the SSN shape, not a phone layout: without phone context
	// words such a number is left to the SSN detector (which may reject it).
	if len(groups) == 3 && len(groups[0]) == 3 && len(groups[1]) == 2 && len(groups[2]) == 4 {
		return false
	}
	return len(groups[len(groups)-1]) >= 2
}

// ---- tokens after keywords: username, password, plate, passport, driver id, AWS secret ----

var keyed = []struct {
	typ   Type
	words []string
}{
	{"PASSWORD", []string{"password", "passwd", "pwd", "passcode", "pass phrase", "passphrase"}},
	{"USERNAME", []string{"username", "user name", "user id", "userid", "login", "handle"}},
	{"LICENSE_PLATE", []string{"license plate", "licence plate", "number plate", "plate number", "registration number", "reg. no", "plate"}},
	{"US_PASSPORT_NUMBER", []string{"passport number", "passport no", "passport #", "passport"}},
	{"DRIVER_ID", []string{"driver's license", "drivers license", "driver license", "driver's licence", "driving licence", "driver id", "license number", "licence number", "dl#", "dl number"}},
	{"AWS_SECRET_KEY", []string{"aws_secret_access_key", "secret access key", "secret key", "aws secret"}},
}

func (c *scan) contextTokens() {
	low := ""
	for _, k := range keyed {
		if !c.on[k.typ] {
			continue
		}
		if low == "" {
			low = asciiLower(c.s)
		}
		for _, w := range k.words {
			for off := 0; ; {
				p := strings.Index(low[off:], w)
				if p < 0 {
					c.tick(len(low) - off)
					break
				}
				c.tick(p + len(w))
				p += off
				off = p + len(w)
				q := off
				// skip separators and filler: ':', '=', 'is', 'number', '#'
				// (a bounded stretch, so repeated keywords cost linear time)
				for q < len(low) && q-off < 32 {
					if strings.IndexByte(" :=#\"'\t", low[q]) >= 0 {
						q++
						continue
					}
					if strings.HasPrefix(low[q:], "is ") {
						q += 3
						continue
					}
					if strings.HasPrefix(low[q:], "number ") || strings.HasPrefix(low[q:], "no. ") {
						q += strings.IndexByte(low[q:], ' ') + 1
						continue
					}
					break
				}
				e := q
				for e < len(c.s) && e-q <= 64 && c.s[e] > ' ' && c.s[e] != '"' && c.s[e] != '\'' && c.s[e] != ',' {
					e++
				}
				c.tick(e - off)
				trim := ".;:!?)"
				if k.typ == "PASSWORD" {
					trim = ".;"
				}
				for e > q && strings.IndexByte(trim, c.s[e-1]) >= 0 {
					e--
				}
				tok := c.s[q:e]
				if e-q < 3 || e-q > 64 || c.covered(q, e) || !tokenFits(k.typ, tok) {
					continue
				}
				c.add(k.typ, q, e, 0.75, "value after \""+w+"\"")
			}
		}
	}
}

func tokenFits(t Type, tok string) bool {
	digits := len(digitsOf(tok))
	switch t {
	case "LICENSE_PLATE":
		return len(tok) >= 4 && len(tok) <= 10 && digits > 0 && isUpperAlnumDash(tok)
	case "US_PASSPORT_NUMBER":
		return len(tok) >= 6 && len(tok) <= 9 && digits >= 5 && isUpperAlnumDash(tok)
	case "DRIVER_ID":
		return len(tok) >= 5 && len(tok) <= 20 && digits >= 4 && isUpperAlnumDash(tok)
	case "AWS_SECRET_KEY":
		return len(tok) == 40
	case "USERNAME":
		return !commonCaps[strings.ToLower(tok)] && len(tok) <= 32
	case "PASSWORD":
		return !commonCaps[strings.ToLower(tok)]
	}
	return true
}

func isUpperAlnumDash(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(isDigit(s[i]) || s[i] >= 'A' && s[i] <= 'Z' || s[i] == '-' || s[i] == ' ') {
			return false
		}
	}
	return true
}

// ---- words: names and addresses ----

type word struct {
	a, b  int
	text  string
	cap   bool // Capitalised (first letter upper, not all caps unless short)
	init  bool // an initial: "J" or "J."
	digit bool // all digits
}

func (c *scan) words() []word {
	if c.wordsDone {
		return c.wordsCache
	}
	c.wordsDone = true
	c.wordsCache = c.splitWords()
	return c.wordsCache
}

func (c *scan) splitWords() []word {
	s := c.s
	var ws []word
	for i := 0; i < len(s); {
		r, sz := utf8.DecodeRuneInString(s[i:])
		c.tick(1)
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			i += sz
			continue
		}
		j := i
		for j < len(s) {
			c.tick(1)
			r2, sz2 := utf8.DecodeRuneInString(s[j:])
			if unicode.IsLetter(r2) || unicode.IsDigit(r2) || (r2 == '\'' || r2 == '-') && j+sz2 < len(s) && isLetterAt(s, j+sz2) && j > i {
				j += sz2
				continue
			}
			break
		}
		w := word{a: i, b: j, text: s[i:j]}
		if unicode.IsUpper(r) {
			rest := s[i+sz : j]
			w.cap = rest != "" && strings.ToUpper(rest) != rest || rest == ""
			if rest == "" {
				w.init = true
				if j < len(s) && s[j] == '.' {
					w.b = j + 1
				}
			}
		}
		if l := len(w.text); l > 2 && (strings.HasSuffix(w.text, "'s") || strings.HasSuffix(w.text, "'S")) {
			w.text = w.text[:l-2]
			w.b -= 2
		}
		if q := strings.IndexByte(w.text, '\''); q > 0 && commonCaps[strings.ToLower(w.text[:q])] {
			w.cap = false
		}
		w.digit = isDigitsOnly(w.text)
		ws = append(ws, w)
		i = j
	}
	return ws
}

func isLetterAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

// gap returns the text between two words.
func (c *scan) gap(x, y word) string { return c.s[x.b:y.a] }

func isStreetWord(w string) bool {
	lw := strings.ToLower(w)
	if streetSuffixes[lw] {
		return true
	}
	for _, e := range streetEndings {
		if strings.HasSuffix(lw, e) && len(lw) > len(e)+2 {
			return true
		}
	}
	return false
}

func (c *scan) addresses() {
	if !c.on["ADDRESS"] {
		return
	}
	ws := slices.Clone(c.words()) // adjusted below; names reads the originals
	for k := 0; k < len(ws); k++ {
		c.tick(1)
		w := ws[k]
		if w.digit && k+2 < len(ws) && ws[k+1].digit && c.gap(w, ws[k+1]) == " " && ws[k+2].cap {
			// Two numbers before the street name: "3378 217 Lovers Lane".
			ws[k+1].a = w.a
			continue
		}
		start, end := c.addressStart(ws, k)
		if start < 0 || c.covered(start, end) {
			continue
		}
		end = c.extendAddress(ws, k, end)
		c.add("ADDRESS", start, end, 0.7, "street address shape")
	}
}

// addressStart returns the span of the street part of an address that
// starts at word k, or -1, -1.
func (c *scan) addressStart(ws []word, k int) (start, end int) {
	s := c.s
	w := ws[k]
	lw := strings.ToLower(w.text)
	start, end = -1, -1
	switch {
	case w.digit && len(w.text) <= 6 && k+1 < len(ws) && c.gap(w, ws[k+1]) == " " && (ws[k+1].cap || streetPrefixes[strings.ToLower(ws[k+1].text)]):
		// 123 Main Street / 48010 Paseo del Atlántico 81
		return c.numberedStreet(ws, k)
	case w.cap && (streetPrefixes[lw] || isStreetWord(w.text)) && !commonCaps[lw] || w.cap && k+1 < len(ws) && isStreetWord(ws[k+1].text) && strings.HasSuffix(strings.ToLower(ws[k+1].text), ".") == false && ws[k+1].text != "" && !commonCaps[lw]:
		// Laukaantie 80 / Rue de Piétrain 371 / Kálmán Imre u. 12.
		m := k
		for m < len(ws) && m <= k+5 && !ws[m].digit && (m == k || strings.Trim(c.gap(ws[m-1], ws[m]), " .") == "") {
			m++
		}
		if m < len(ws) && m > k && ws[m].digit && len(ws[m].text) <= 5 && strings.Trim(c.gap(ws[m-1], ws[m]), " .") == "" {
			start, end = w.a, ws[m].b
		}
	case addrUnits[lw] || addrUnits[lw+"."]:
		if k+1 < len(ws) && (ws[k+1].digit || len(ws[k+1].text) <= 4 && len(digitsOf(ws[k+1].text)) > 0) && len(strings.TrimSpace(strings.Trim(c.gap(w, ws[k+1]), ".#"))) == 0 {
			start, end = w.a, ws[k+1].b
		}
	case lw == "box" && k > 0 && strings.HasSuffix(strings.ToLower(strings.TrimSpace(s[max(0, w.a-6):w.a])), "o.") && k+1 < len(ws) && ws[k+1].digit:
		start, end = max(0, strings.LastIndex(s[:w.a], "P")), ws[k+1].b
	case shipPrefixes[lw] && k+1 < len(ws) && ws[k+1].cap && c.gap(w, ws[k+1]) == " ":
		// A ship of a military address: "USNS Botolen\nFPO AE 12345".
		start, end = w.a, ws[k+1].b
	case lw == "corner" && k > 0 && strings.ToLower(ws[k-1].text) == "the" && k+1 < len(ws) && strings.ToLower(ws[k+1].text) == "of":
		// "the corner of Main Street and 5th Avenue".
		return c.streetCorner(ws, k)
	}
	return start, end
}

// numberedStreet reads a house number at word k followed by a street:
// "123 Main Street", or the name then the number as most of Europe writes
// it, or capitalised words after address context.
func (c *scan) numberedStreet(ws []word, k int) (start, end int) {
	w := ws[k]
	m := k + 1
	last := -1
	for m < len(ws) && m <= k+6 && (m == k+1 || c.gap(ws[m-1], ws[m]) == " " || c.gap(ws[m-1], ws[m]) == ". ") {
		lm := strings.ToLower(ws[m].text)
		if isStreetWord(ws[m].text) || streetPrefixes[lm] {
			last = m
		}
		if !(ws[m].cap || lm == "de" || lm == "del" || lm == "la" || lm == "di" || lm == "van" || lm == "von" || isStreetWord(ws[m].text)) {
			break
		}
		m++
	}
	switch {
	case last >= 0:
		start, end = w.a, ws[last].b
		if last+1 < len(ws) && ws[last+1].digit && c.gap(ws[last], ws[last+1]) == " " {
			end = ws[last+1].b
		}
		return start, end
	case m > k+1 && m-k-1 <= 3 && m < len(ws) && ws[m].digit && len(ws[m].text) <= 5 && c.gap(ws[m-1], ws[m]) == " " &&
		(m+1 == len(ws) || c.gap(ws[m], ws[m+1]) != " " || addrUnits[strings.ToLower(ws[m+1].text)]):
		// A number, a street name and the house number after it,
		// as most of Europe writes it: "20789 Allika 46".
		return w.a, ws[m].b
	case m > k+1 && m-k-1 <= 4 && hasAny(c.before(w.a, 40), "address", "live", "at ", "to ", "on ", "moved", "located", "ship", "send", "deliver", "visit"):
		return w.a, ws[m-1].b
	}
	return -1, -1
}

// streetCorner reads "the corner of Main Street and 5th Avenue", with
// "corner" at word k.
func (c *scan) streetCorner(ws []word, k int) (start, end int) {
	m, and := k+2, false
	for m < len(ws) && m <= k+12 && strings.Trim(c.gap(ws[m-1], ws[m]), " .") == "" && strings.Count(c.gap(ws[m-1], ws[m]), "\n") == 0 {
		lm := strings.ToLower(ws[m].text)
		if !(ws[m].cap || ws[m].digit || isStreetWord(ws[m].text) || lm == "and" || len(lm) <= 4) || commonCaps[lm] && lm != "and" && lm != "street" && lm != "road" && lm != "avenue" && lm != "lane" && lm != "drive" {
			break
		}
		and = and || lm == "and"
		m++
	}
	if and && m > k+3 {
		return ws[k-1].a, ws[m-1].b
	}
	return -1, -1
}

// extendAddress extends an address that ends at end (found from word k)
// over the rest of the address block: units, city, state, ZIP, country.
func (c *scan) extendAddress(ws []word, k, end int) int {
	s := c.s
	for m := k + 1; m < len(ws); m++ {
		if ws[m].b <= end {
			continue
		}
		g := s[end:ws[m].a]
		if len(g) > 8 || strings.Count(g, "\n") > 2 || strings.TrimLeft(g, " ,\n.") != "" {
			break
		}
		x := ws[m]
		lx := strings.ToLower(x.text)
		upper := len(x.text) >= 2 && strings.ToUpper(x.text) == x.text && strings.ToLower(x.text) != x.text
		if x.cap || x.digit && len(x.text) <= 6 || usStates[x.text] || addrUnits[lx] || isStreetWord(x.text) || places[lx] || upper {
			if x.cap && commonCaps[lx] && !places[lx] && !addrUnits[lx] {
				break
			}
			if x.digit && len(x.text) > 6 {
				break
			}
			end = x.b
			continue
		}
		break
	}
	return end
}

// names finds runs of capitalised words that are not ordinary English and
// decides person or place from gazetteers and the preposition before them.
func (c *scan) names() {
	if !c.on["NAME"] && !c.on["ADDRESS"] {
		return
	}
	ws := c.words()
	for k := 0; k < len(ws); {
		c.tick(1)
		if !ws[k].cap || c.covered(ws[k].a, ws[k].b) {
			k++
			continue
		}
		m := k + 1
		for m < len(ws) && (ws[m].cap || ws[m].init) && !c.covered(ws[m].a, ws[m].b) {
			g := c.gap(ws[m-1], ws[m])
			if g != " " && !(ws[m-1].init && g == "") && g != ". " {
				break
			}
			m++
		}
		run := ws[k:m]
		k = m
		if c.organisation(ws, run, m) {
			continue
		}
		// Trim ordinary words at both ends.
		for len(run) > 0 && (commonCaps[strings.ToLower(run[0].text)] || run[0].init && len(run) > 1 && false) {
			run = run[1:]
		}
		for len(run) > 0 && (commonCaps[strings.ToLower(run[len(run)-1].text)] || run[len(run)-1].init) {
			run = run[:len(run)-1]
		}
		if len(run) == 0 || len(run) > 4 {
			continue
		}
		if c.titleLine(run[0].a) {
			gaz := false
			for _, w := range run {
				gaz = gaz || firstNames[strings.ToLower(w.text)] || places[strings.ToLower(w.text)]
			}
			if !gaz {
				continue
			}
		}
		if len(run) == 1 && commonWordShape(run[0].text) {
			continue
		}
		c.nameOrPlace(run)
	}
}

// organisation reports whether a run of capitalised words (ending before
// word m) names an organisation, a law or a body: neither a person nor a
// place.
func (c *scan) organisation(ws, run []word, m int) bool {
	org := false
	for _, w := range run {
		org = org || orgWords[strings.ToLower(w.text)]
	}
	if m < len(ws) && c.gap(run[len(run)-1], ws[m]) == " " && orgWords[strings.ToLower(ws[m].text)] {
		org = true
	}
	return org
}

// nameOrPlace adds a run of capitalised words as a place (ADDRESS) or a
// NAME, from the gazetteers and the words before it; a single word that
// starts a sentence is taken only when what follows reads as a name's.
func (c *scan) nameOrPlace(run []word) {
	s := c.s
	a, b := run[0].a, run[len(run)-1].b
	allPlaces := true
	anyFirst := false
	for _, w := range run {
		lw := strings.ToLower(w.text)
		if !places[lw] {
			allPlaces = false
		}
		if firstNames[lw] {
			anyFirst = true
		}
		if strings.ToUpper(w.text) == w.text && len(w.text) > 1 {
			allPlaces = allPlaces && places[lw]
		}
	}
	prev := strings.TrimRight(s[max(0, a-24):a], " ")
	lp := strings.ToLower(prev)
	sentenceStart := a == 0 || strings.HasSuffix(prev, ".") || strings.HasSuffix(prev, "!") || strings.HasSuffix(prev, "?") ||
		strings.HasSuffix(prev, "\n") || prev == "" || strings.HasSuffix(prev, "\"") || strings.HasSuffix(prev, ":") || strings.HasSuffix(prev, ">")
	if s[max(0, a-1):a] == "\n" || a == 0 {
		sentenceStart = true
	}
	placeCtx := hasSuffixAny(lp, "in", "from", "to", "near", "at", "visit", "visited", "visiting", "across", "of") && !hasSuffixAny(lp, "name of", "son of", "daughter of", "wife of", "husband of")
	nameCtx := hasAny(lp, "name is", "name:", "named", "called", "i am", "i'm", "mr", "mrs", "ms", "dr", "dear", "by", "with", "thanks", "says", "said", "contact")
	isPlace := allPlaces || placeCtx && !anyFirst && !nameCtx
	if sentenceStart && len(run) == 1 && !anyFirst && !allPlaces {
		// A single capitalised word starting a sentence is usually ordinary English.
		nxt := strings.ToLower(c.after(b, 12))
		if !(strings.HasPrefix(nxt, "'s") || hasAny(nxt, " is ", " was ", " lives", " has ", " said", " and ")) {
			return
		}
	}
	if isPlace {
		c.add("ADDRESS", a, b, 0.55, "capitalised place name")
	} else {
		score := 0.5
		if anyFirst || nameCtx {
			score = 0.7
		}
		c.add("NAME", a, b, score, "capitalised name sequence")
	}
}

// englishSuffixes mark capitalised words that are ordinary nouns, adjectives
// or verbs in title case rather than names.
var englishSuffixes = []string{"ness", "tion", "sion", "ity", "ing", "ed", "ly", "ment", "ism", "ous", "ive", "ful",
	"less", "ics", "ence", "ance", "ship", "able", "ible", "ogy", "ies", "ers", "ist", "ure", "ism", "ght", "ward"}

func commonWordShape(w string) bool {
	lw := strings.ToLower(w)
	if firstNames[lw] || places[lw] {
		return false
	}
	for _, suf := range englishSuffixes {
		if strings.HasSuffix(lw, suf) && len(lw) > len(suf)+2 {
			return true
		}
	}
	return false
}

// titleLine reports whether the line holding position i is in title case
// (most of at least four words capitalised): a heading, a title or a list of
// genres, where capitals say nothing about names.
//
// The answer is kept per line; names asks in increasing order of i, so each
// line is read once.
func (c *scan) titleLine(i int) bool {
	if c.titleA >= 0 && c.titleA <= i && i < c.titleEnd {
		return c.titleB
	}
	from := 0
	if c.titleA >= 0 && i >= c.titleEnd {
		from = c.titleEnd
	}
	a := from + strings.LastIndexByte(c.s[from:i], '\n') + 1
	b := strings.IndexByte(c.s[i:], '\n')
	if b < 0 {
		b = len(c.s)
	} else {
		b += i
	}
	c.tick(b - from)
	fields := strings.Fields(c.s[a:b])
	caps := 0
	for _, f := range fields {
		r, _ := utf8.DecodeRuneInString(f)
		if unicode.IsUpper(r) {
			caps++
		}
	}
	c.titleA, c.titleEnd = a, max(b, i+1)
	c.titleB = len(fields) >= 5 && caps*10 >= len(fields)*6
	return c.titleB
}
