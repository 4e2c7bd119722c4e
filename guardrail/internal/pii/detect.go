// Package pii finds personally identifiable information in text: patterns
// checked by validators (Luhn, IBAN mod-97, SSN/ITIN rules, ABA routing
// checksum, VIN check digit, NHS mod-11, IP parsing via net/netip), context
// words that confirm otherwise ambiguous numbers, and gazetteer-plus-shape
// heuristics for names and addresses. Detection runs on NFKC-folded text
// with zero-width characters removed, and spans map back to the original.
package pii

import (
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

type scan struct {
	s    string
	ents []Entity
	on   map[Type]bool
}

func (c *scan) add(t Type, a, b int, score float64, reason string) {
	if !c.on[t] || a >= b {
		return
	}
	c.ents = append(c.ents, Entity{Type: t, Start: a, End: b, Score: score, Reason: reason})
}

// covered reports whether [a,b) overlaps an entity found so far.
func (c *scan) covered(a, b int) bool {
	for _, e := range c.ents {
		if a < e.End && e.Start < b {
			return true
		}
	}
	return false
}

// Detect returns the entities found in text, non-overlapping, in order.
func (d *Detector) Detect(text string) []Entity {
	if len(d.on) == 0 || text == "" {
		return nil
	}
	n := normalize.Basic(text)
	c := &scan{s: n.String(), on: d.on}
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
	ents := resolve(c.ents)
	for i := range ents {
		ents[i].Start, ents[i].End = n.Span(ents[i].Start, ents[i].End)
	}
	return ents
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

// resolve drops overlaps, keeping the earlier-found (higher-priority) entity,
// and sorts by position. The kept entities are held sorted; being disjoint,
// a new one can overlap only the last kept entity starting before its end.
func resolve(es []Entity) []Entity {
	if len(es) == 0 {
		return nil
	}
	out := make([]Entity, 0, len(es))
	for _, e := range es {
		k := sort.Search(len(out), func(i int) bool { return out[i].Start >= e.End })
		if k > 0 && out[k-1].End > e.Start {
			continue
		}
		out = slices.Insert(out, k, e)
	}
	return out
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
func isAlnum(b byte) bool { return isDigit(b) || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// before returns up to n bytes of lower-cased text before position i.
func (c *scan) before(i, n int) string {
	a := max(0, i-n)
	return strings.ToLower(c.s[a:i])
}

func (c *scan) after(i, n int) string {
	b := min(len(c.s), i+n)
	return strings.ToLower(c.s[i:b])
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

func localChar(b byte) bool {
	return isAlnum(b) || b == '.' || b == '_' || b == '%' || b == '+' || b == '-'
}

func (c *scan) emails() {
	s := c.s
	for i := strings.IndexByte(s, '@'); i >= 0; {
		a := i
		for a > 0 && localChar(s[a-1]) {
			a--
		}
		for a < i && s[a] == '.' {
			a++
		}
		b := i + 1
		for b < len(s) && (isAlnum(s[b]) || s[b] == '.' || s[b] == '-') {
			b++
		}
		for b > i+1 && (s[b-1] == '.' || s[b-1] == '-') {
			b--
		}
		dom := s[i+1 : b]
		if a < i && strings.Contains(dom, ".") {
			tld := dom[strings.LastIndexByte(dom, '.')+1:]
			if len(tld) >= 2 && isAlpha(tld) {
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

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
			return false
		}
	}
	return s != ""
}

func urlEnd(s string, b int) int {
	for b < len(s) {
		ch := s[b]
		if ch <= ' ' || ch == '"' || ch == '<' || ch == '>' || ch == '\'' || ch == '`' {
			break
		}
		b++
	}
	return b
}

var commonTLDs = set(`com org net edu gov io co us uk de fr es it nl be se dk no fi pl cz hu ee br au ca ch at ru jp cn in info biz app dev ai me tv ly eu`)

func (c *scan) urls() {
	s := c.s
	low := strings.ToLower(s)
	for _, pre := range []string{"https://", "http://", "ftp://", "www."} {
		for off := 0; ; {
			i := strings.Index(low[off:], pre)
			if i < 0 {
				break
			}
			i += off
			off = i + len(pre)
			if pre == "www." && i >= 3 && strings.HasSuffix(low[:i], "://") {
				continue
			}
			b := urlEnd(s, i+len(pre))
			for b > i+len(pre) && strings.IndexByte(".,;:!?)]}", s[b-1]) >= 0 {
				b--
			}
			if b-i > len(pre)+3 && !c.covered(i, b) {
				c.add("URL", i, b, 0.9, "URL scheme or www prefix")
			}
			off = max(off, b)
		}
	}
	// Bare domains with a common TLD: example.com, foo.co.uk/path.
	for i := 0; i < len(s); i++ {
		if s[i] != '.' || i == 0 || !isAlnum(s[i-1]) {
			continue
		}
		j := i + 1
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
		tld := strings.ToLower(s[i+1 : j])
		if !commonTLDs[tld] || (j < len(s) && (s[j] == '@')) {
			continue
		}
		a := i
		for a > 0 && (isAlnum(s[a-1]) || s[a-1] == '-' || s[a-1] == '.') {
			a--
		}
		if a > 0 && (s[a-1] == '@' || s[a-1] == '/') {
			continue
		}
		b := j
		if b < len(s) && s[b] == '/' {
			b = urlEnd(s, b)
			for b > j && strings.IndexByte(".,;:!?)]}", s[b-1]) >= 0 {
				b--
			}
		}
		label := s[a:i]
		if len(label) >= 2 && !isDigitsOnly(label) && !c.covered(a, b) {
			c.add("URL", a, b, 0.7, "domain with common TLD")
		}
		i = b
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
			i++
			continue
		}
		j := i
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
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
	for i := 0; i < len(s); i++ {
		if s[i] != ':' && s[i] != '-' {
			continue
		}
		a := i
		for a > 0 && (isHex(s[a-1]) || s[a-1] == ':' || s[a-1] == '-' || s[a-1] == '.') {
			a--
		}
		b := i
		for b < len(s) && (isHex(s[b]) || s[b] == ':' || s[b] == '-' || s[b] == '.') {
			b++
		}
		for b > a && (s[b-1] == '.' || s[b-1] == '-' || s[b-1] == ':') {
			b--
		}
		tok := s[a:b]
		if len(tok) == 17 && isMAC(tok) {
			c.add("MAC_ADDRESS", a, b, 0.9, "six hex pairs")
		} else if strings.Count(tok, ":") >= 2 && !strings.Contains(tok, "-") && IP(tok) {
			c.add("IP_ADDRESS", a, b, 0.9, "IPv6 address")
		}
		i = max(i, b)
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

func (c *scan) numbers() {
	s := c.s
	for i := 0; i < len(s); {
		ch := s[i]
		startOK := isDigit(ch) || (ch == '+' || ch == '(') && i+1 < len(s) && (isDigit(s[i+1]) || s[i+1] == '(')
		if !startOK || (i > 0 && (isAlnum(s[i-1]) || s[i-1] == '.' && i > 1 && isDigit(s[i-2]))) {
			i++
			continue
		}
		if n := dateAt(s, i); n > 0 {
			i += n
			continue
		}
		j := i
		for j < len(s) {
			ch := s[j]
			if isDigit(ch) || ch == '-' || ch == '.' || ch == '(' || ch == ')' || ch == '/' || ch == '+' {
				j++
				continue
			}
			if ch == ' ' && j+1 < len(s) && (isDigit(s[j+1]) || s[j+1] == '(') {
				j++
				continue
			}
			break
		}
		for j > i && !isDigit(s[j-1]) && s[j-1] != ')' {
			j--
		}
		if j > i && s[j-1] == ')' && strings.Count(s[i:j], "(") < strings.Count(s[i:j], ")") {
			j--
		}
		if j < len(s) && isAlpha(s[j:j+1]) && s[j] != 'x' && s[j] != 'X' {
			// digits glued to letters (ids, model numbers) are left to other scanners
			for j < len(s) && isAlnum(s[j]) {
				j++
			}
			i = j
			continue
		}
		if j > i {
			c.classifyNumber(i, j)
		}
		i = max(j, i+1)
	}
}

func (c *scan) classifyNumber(i, j int) {
	s := c.s
	raw := s[i:j]
	d := digitsOf(raw)
	nd := len(d)
	ctx := c.before(i, 48)
	// IPv4.
	if strings.Count(raw, ".") == 3 && !strings.ContainsAny(raw, " -()/+") && IP(raw) {
		c.add("IP_ADDRESS", i, j, 0.9, "IPv4 address")
		return
	}
	seps := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return -1
		}
		return r
	}, raw)
	// Dates are not PII numbers here.
	if isDateLike(raw) {
		if hasAny(ctx, "exp", "valid thru", "valid through", "good thru") && (nd == 4 || nd == 6) {
			c.add("CREDIT_DEBIT_CARD_EXPIRY", i, j, 0.8, "date with expiry context")
		}
		return
	}
	// SSN / ITIN with dashes or spaces: ddd-dd-dddd.
	if nd == 9 && len(raw) == 11 && (raw[3] == '-' && raw[6] == '-' || raw[3] == ' ' && raw[6] == ' ') {
		if ITIN(d) {
			c.add("US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", i, j, 0.85, "ITIN ranges")
			return
		}
		if SSN(d) && !hasAny(ctx, "driver", "licen") {
			c.add("US_SOCIAL_SECURITY_NUMBER", i, j, 0.85, "SSN area/group/serial rules")
			return
		}
	}
	// Payment cards: 12-19 digits, Luhn, plausible grouping and issuer prefix.
	if nd >= 12 && nd <= 19 && d[0] >= '1' && d[0] <= '6' && Luhn(d) && cardGrouping(raw) {
		c.add("CREDIT_DEBIT_CARD_NUMBER", i, j, 0.95, "Luhn-valid card number")
		return
	}
	// Context-confirmed identifiers.
	switch {
	case nd == 9 && hasAny(ctx, "routing", "aba", "rtn") && ABARouting(d):
		c.add("US_BANK_ROUTING_NUMBER", i, j, 0.9, "ABA checksum with context")
		return
	case nd == 9 && hasAny(ctx, "social insurance", " sin") && Luhn(d):
		c.add("CA_SOCIAL_INSURANCE_NUMBER", i, j, 0.85, "Luhn with SIN context")
		return
	case nd == 10 && hasAny(ctx, "nhs") && NHS(d):
		c.add("UK_NATIONAL_HEALTH_SERVICE_NUMBER", i, j, 0.9, "NHS mod-11 with context")
		return
	case nd == 10 && hasAny(ctx, "health card", "health number", "ohip", "health insurance number"):
		c.add("CA_HEALTH_NUMBER", i, j, 0.75, "10 digits with health-card context")
		return
	case nd == 10 && hasAny(ctx, "utr", "unique taxpayer", "tax reference"):
		c.add("UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", i, j, 0.8, "10 digits with UTR context")
		return
	case nd == 9 && hasAny(ctx, "itin", "taxpayer identification") && ITIN(d):
		c.add("US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", i, j, 0.85, "ITIN with context")
		return
	case nd == 9 && hasAny(ctx, "ssn", "social security") && SSN(d):
		c.add("US_SOCIAL_SECURITY_NUMBER", i, j, 0.85, "SSN with context")
		return
	case nd >= 6 && nd <= 9 && len(seps) == 0 && hasAny(ctx, "passport"):
		c.add("US_PASSPORT_NUMBER", i, j, 0.8, "number with passport context")
		return
	case nd >= 5 && nd <= 16 && hasAny(ctx, "driver", "licence", "license", " dl ", "dl#", "dl:"):
		c.add("DRIVER_ID", i, j, 0.75, "number with driver's licence context")
		return
	case (nd == 3 || nd == 4) && len(seps) == 0 && hasAny(ctx, "cvv", "cvc", "cvv2", "security code", "card verification"):
		c.add("CREDIT_DEBIT_CARD_CVV", i, j, 0.85, "3-4 digits with CVV context")
		return
	case nd >= 4 && nd <= 8 && len(seps) == 0 && hasAny(ctx, " pin", "pin:", "pin code", "pin number"):
		c.add("PIN", i, j, 0.8, "digits with PIN context")
		return
	case nd >= 6 && nd <= 17 && !strings.ContainsAny(seps, "()+") && hasAny(ctx, "account", "acct", "a/c"):
		c.add("US_BANK_ACCOUNT_NUMBER", i, j, 0.75, "digits with account context")
		return
	}
	// Phone numbers.
	if c.phone(i, j, raw, d, seps, ctx) {
		return
	}
	// Ages.
	if nd <= 3 && len(seps) == 0 {
		n := 0
		for k := 0; k < len(d); k++ {
			n = n*10 + int(d[k]-'0')
		}
		aft := c.after(j, 16)
		if n > 0 && n < 125 && (hasAny(ctx, "age ", "age of", "aged", "age:", "i am", "i'm", " is ", " turned", " turn ") && hasSuffixAny(strings.TrimSpace(ctx), "age", "age of", "aged", "age:", "am", "i'm", "turned", "turn", "is", "is a", "was", "a") ||
			strings.HasPrefix(aft, " years") || strings.HasPrefix(aft, "-year") || strings.HasPrefix(aft, " year-old") ||
			strings.HasPrefix(aft, " year old") || strings.HasPrefix(aft, " yo") || strings.HasPrefix(aft, "yo ") || strings.HasPrefix(aft, " y/o") || strings.HasPrefix(aft, " yrs")) {
			if !strings.HasPrefix(aft, " years ago") && !strings.HasPrefix(aft, " years of experience") {
				c.add("AGE", i, j, 0.7, "number with age context")
			}
		}
	}
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

func cardGrouping(raw string) bool {
	if !strings.ContainsAny(raw, " -") {
		return !strings.ContainsAny(raw, "().+/")
	}
	if strings.ContainsAny(raw, "().+/") {
		return false
	}
	groups := strings.FieldsFunc(raw, func(r rune) bool { return r == ' ' || r == '-' })
	// 4-4-4-4(-3), 4-6-5 (Amex), 4-6-4 (Diners)
	for k, g := range groups {
		if len(g) != 4 && !(k > 0 && (len(g) == 6 || len(g) == 5 || len(g) == 3)) {
			return false
		}
	}
	return len(groups) >= 3
}

func (c *scan) phone(i, j int, raw, d, seps, ctx string) bool {
	s := c.s
	nd := len(d)
	ext := j
	// Extension: x123, ext. 123
	if k := j; k < len(s) && (s[k] == 'x' || s[k] == 'X') {
		e := k + 1
		for e < len(s) && isDigit(s[e]) {
			e++
		}
		if e > k+1 && (e == len(s) || !isAlnum(s[e])) {
			ext = e
		}
	}
	aft := c.after(ext, 12)
	phoneCtx := hasAny(ctx, "phone", "tel", "call", "mobile", "cell", "fax", "desk", "contact", "number", "reach", "text me", "whatsapp", "sms", "answering", "dial") ||
		hasAny(aft, "office", "fax", "mobile", "cell", "home", "work", "phone")
	formatted := raw[0] == '+' || raw[0] == '(' || strings.ContainsAny(seps, "-. ()")
	if strings.Count(seps, ".") > 0 && strings.Count(seps, ".") != len(seps) {
		formatted = formatted && !strings.Contains(seps, ".")
	}
	switch {
	case nd >= 10 && nd <= 15 && (formatted || phoneCtx):
	case nd >= 7 && nd <= 9 && (phoneCtx || formatted && looksPhoneGrouped(raw) && !c.wordFollows(ext)):
	default:
		return false
	}
	c.add("PHONE", i, ext, 0.85, "phone-number shape")
	return true
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
			low = strings.ToLower(c.s)
		}
		for _, w := range k.words {
			for off := 0; ; {
				p := strings.Index(low[off:], w)
				if p < 0 {
					break
				}
				p += off
				off = p + len(w)
				q := off
				// skip separators and filler: ':', '=', 'is', 'number', '#'
				for q < len(low) {
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
				for e < len(c.s) && c.s[e] > ' ' && c.s[e] != '"' && c.s[e] != '\'' && c.s[e] != ',' {
					e++
				}
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
	s := c.s
	var ws []word
	for i := 0; i < len(s); {
		r, sz := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			i += sz
			continue
		}
		j := i
		for j < len(s) {
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
	ws := c.words()
	s := c.s
	for k := 0; k < len(ws); k++ {
		w := ws[k]
		if w.digit && k+2 < len(ws) && ws[k+1].digit && c.gap(w, ws[k+1]) == " " && ws[k+2].cap {
			// Two numbers before the street name: "3378 217 Lovers Lane".
			ws[k+1].a = w.a
			continue
		}
		lw := strings.ToLower(w.text)
		start, end := -1, -1
		switch {
		case w.digit && len(w.text) <= 6 && k+1 < len(ws) && c.gap(w, ws[k+1]) == " " && (ws[k+1].cap || streetPrefixes[strings.ToLower(ws[k+1].text)]):
			// 123 Main Street / 48010 Paseo del Atlántico 81
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
			if last >= 0 {
				start, end = w.a, ws[last].b
				if last+1 < len(ws) && ws[last+1].digit && c.gap(ws[last], ws[last+1]) == " " {
					end = ws[last+1].b
				}
			} else if m > k+1 && m-k-1 <= 4 && hasAny(c.before(w.a, 40), "address", "live", "at ", "to ", "on ", "moved", "located", "ship", "send", "deliver", "visit") {
				start, end = w.a, ws[m-1].b
			}
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
		}
		if start < 0 || c.covered(start, end) {
			continue
		}
		// Extend over the rest of the address block: units, city, state, ZIP, country.
		for m := k + 1; m < len(ws); m++ {
			if ws[m].b <= end {
				continue
			}
			g := s[end:ws[m].a]
			if len(g) > 6 || strings.Count(g, "\n") > 1 || strings.TrimLeft(g, " ,\n.") != "" {
				break
			}
			x := ws[m]
			lx := strings.ToLower(x.text)
			if x.cap || x.digit && len(x.text) <= 6 || usStates[x.text] || addrUnits[lx] || isStreetWord(x.text) || places[lx] || len(x.text) == 2 && strings.ToUpper(x.text) == x.text {
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
		c.add("ADDRESS", start, end, 0.7, "street address shape")
	}
}

// names finds runs of capitalised words that are not ordinary English and
// decides person or place from gazetteers and the preposition before them.
func (c *scan) names() {
	if !c.on["NAME"] && !c.on["ADDRESS"] {
		return
	}
	ws := c.words()
	s := c.s
	for k := 0; k < len(ws); {
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
				continue
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
func (c *scan) titleLine(i int) bool {
	a := strings.LastIndexByte(c.s[:i], '\n') + 1
	b := strings.IndexByte(c.s[i:], '\n')
	if b < 0 {
		b = len(c.s)
	} else {
		b += i
	}
	fields := strings.Fields(c.s[a:b])
	if len(fields) < 5 {
		return false
	}
	caps := 0
	for _, f := range fields {
		r, _ := utf8.DecodeRuneInString(f)
		if unicode.IsUpper(r) {
			caps++
		}
	}
	return caps*10 >= len(fields)*6
}
