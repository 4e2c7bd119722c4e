package classify

import (
	"strings"
)

// Hate features beyond the n-grams: what is said about whom, read with
// negation scope, sentence scope and the frame of reported speech. A
// template-trained n-gram model cannot see that "X are not worthy of
// respect" inverts "X are worthy of respect", that "X like you are
// gorgeous" praises, or that "saying X are scum is bigoted" condemns what it
// quotes; these features carry that from the lexicons to every sentence
// frame.

// Feature bits of a scanned text.
const (
	hNeg           = 1 << iota // an evaluation that demeans: a negative word, or a positive or worth word negated
	hPos                       // an evaluation that praises: a positive word, or a negative or threat word negated
	hThreat                    // a threat word not negated
	hNegTarget                 // hNeg in a sentence naming a group (or continuing one with they/them/these)
	hPosTarget                 // hPos likewise
	hThreatTarget              // hThreat likewise
	hPosOnlyTarget             // praise of a group and no demeaning or threat anywhere
	hNegatedNeg                // a negative or threat word under negation
	hNegatedPos                // a positive or worth word under negation
	hReport                    // reported speech: say, call, claim, post, quote ...
	hCondemn                   // a verdict on speech: bigoted, racist, wrong, lies, not acceptable ...
	hReportCondemn             // both: counter speech
	hQuote                     // quotation marks
	hQuoteCondemn              // quotation and a verdict
	hSlur                      // a slur
	hSlurSelf                  // a slur with the speaker in the same sentence (reclaimed use)
	hProfaneTarget             // swearing in a segment naming a group
	hNone                      // no evaluative word and no slur
	hBits
)

// hateFeatureNames name the feature bits, in order.
var hateFeatureNames = []string{"neg", "pos", "threat", "neg+target", "pos+target", "threat+target", "pos-only+target",
	"negated-neg", "negated-pos", "report", "condemn", "report+condemn", "quote", "quote+condemn", "slur",
	"slur+self", "profane+target", "none"}

// hateFeatureIndex are the hashed indices of the feature bits.
var hateFeatureIndex = func() (t [32]uint32) {
	for i, n := range hateFeatureNames {
		t[i] = fnv(fnvBasis, "hate:"+n) & (Dim - 1)
	}
	return t
}()

// HateLexiconWeight is the value of one hate lexicon feature; the n-gram
// part of the vector has unit norm, so this sets how strongly the penalty
// of training pulls these weights towards zero compared with the n-grams'.
const HateLexiconWeight = 2.0

// hateInfo is what one scan of a folded text finds.
type hateInfo struct {
	flags    uint32
	target   bool // names a protected group (identity word or slur)
	identity bool // holds an identity word (MaskIdentity changes the text)
}

// negationScope is how many words after a negator it reaches, within its
// clause.
const negationScope = 5

// contrastWords end a clause and a segment: negation does not reach past
// them, and an evaluation after them is not about a group named before
// ("I don't like people in general but I have nothing against women").
var contrastWords = wordSet(`but although though however whereas yet`)

// clauseWords end a clause: negation does not reach past them.
var clauseWords = wordSet(`because unless while if when`)

// likeSubjects are the words after which "like" is the verb (I like, we
// really like, don't like), not the preposition (people like you).
var likeSubjects = wordSet(`i we they you he she really do don't does doesn't did didn't would wouldn't i'd we'd
	they'd just also still actually genuinely truly totally`)

// negatedVerbs follow can't, cannot or couldn't to make a phrase of
// contempt rather than a negation: can't stand, cannot bear.
var negatedVerbs = wordSet(`stand bear tolerate stomach`)

// notNegating are negator phrases that negate nothing.
var notNegating = wordSet(`no_matter not_only no_doubt not_just never_mind`)

// themWords continue a group named in the sentence before.
var themWords = wordSet(`they them their theirs these those`)

// selfWords put the speaker in the sentence as its subject.
var selfWords = wordSet(`i i'm im i've we we're we've our ourselves myself proud`)

// postNegators after an evaluative word negate it ("contribute nothing",
// "worth nothing"); "less" also undoes a negation before it ("not worth any
// less").
var postNegators = wordSet(`nothing none less zero`)

// invertingAux are negated auxiliaries that, followed by a subject, ask a
// rhetorical question rather than negate ("isn't it obvious that ...",
// "shouldn't we ...", "why don't we ...").
var invertingAux = wordSet(`isn't aren't wasn't weren't don't doesn't didn't won't wouldn't shouldn't can't
	couldn't haven't hasn't mustn't ain't`)

// subjects are the pronouns of such a question, and of "is it not".
var subjects = wordSet(`i we you it they he she there this that`)

// postScope is how many words after an evaluative word a post-negator
// reaches back.
const postScope = 2

// hateScanner is the state of scanHate.
type hateScanner struct {
	flags       uint32
	identity    bool // an identity word as listed
	spelt       bool // an identity word misspelt or run into another
	lastNeg     int  // index of the last negator in words
	clauseStart int  // index of the first word of the clause
	// pending is the last evaluative word, committed once postScope words
	// have passed without a post-negator, or at a clause boundary.
	pending struct {
		kind    uint32 // 0: none
		negated bool
		weak    bool // weakWords
		at      int
	}
	// The segment (a sentence, or the part of one on either side of a
	// contrast) being read, and the one before.
	seg, prev segment
	camel     bool // the word before was "camel" (a slur with the next)
}

type segment struct {
	target, them, self, slur, neg, pos, threat, profane bool
}

// commit records the pending evaluative word.
func (h *hateScanner) commit() {
	p := &h.pending
	k := p.kind
	if k == 0 {
		return
	}
	p.kind = 0
	switch {
	case k&kindThreat != 0:
		if p.negated {
			h.flags |= hPos | hNegatedNeg
			h.seg.pos = true
		} else {
			h.flags |= hThreat
			h.seg.threat = true
		}
	case k&kindNegative != 0:
		if p.negated {
			h.flags |= hPos | hNegatedNeg
			h.seg.pos = true
		} else {
			h.flags |= hNeg
			h.seg.neg = true
		}
	case k&kindPositive != 0:
		if p.negated {
			h.flags |= hNeg | hNegatedPos
			h.seg.neg = true
		} else {
			h.flags |= hPos
			h.seg.pos = true
		}
	case k&kindWorth != 0:
		if p.negated {
			h.flags |= hNeg | hNegatedPos
			h.seg.neg = true
		}
	case k&kindVerdict != 0:
		if p.negated {
			h.flags |= hCondemn
		}
	case k&kindCondemn != 0:
		if p.negated {
			h.flags |= hPos
			h.seg.pos = true
		}
	}
}

// endClause closes the clause before word k.
func (h *hateScanner) endClause(k int) {
	h.commit()
	h.clauseStart = k
}

// endSegment closes the segment before word k; sentence is whether a
// sentence ends too.
func (h *hateScanner) endSegment(k int, sentence bool) {
	h.endClause(k)
	s, p := h.seg, h.prev
	// A group named in this segment, or named in the one before and
	// taken up by they/them/these, or named in this one after a
	// judgement of they/them in the one before ("They are scum. They are
	// immigrants.").
	target := s.target || s.slur || s.them && p.target
	if target {
		if s.neg {
			h.flags |= hNegTarget
		}
		if s.pos {
			h.flags |= hPosTarget
		}
		if s.threat {
			h.flags |= hThreatTarget
		}
		if s.profane {
			h.flags |= hProfaneTarget
		}
		if p.them && !p.target {
			if p.neg {
				h.flags |= hNegTarget
			}
			if p.threat {
				h.flags |= hThreatTarget
			}
			if p.profane {
				h.flags |= hProfaneTarget
			}
		}
	}
	if s.slur && s.self {
		h.flags |= hSlurSelf
	}
	s.target = target
	if sentence || target {
		h.prev = s
	}
	h.seg = segment{}
}

// scanHate reads the words of folded text (Words(folded)) once, with the
// punctuation between them, and returns its hate feature bits and whether
// it names a protected group. Linear in the length of the text.
func scanHate(folded string, words []string) hateInfo {
	h := hateScanner{lastNeg: -100}
	quote := false
	pos := 0 // end of the previous word in folded
	prevKind := uint32(0)
	var nextKind uint32
	if len(words) > 0 {
		nextKind, _ = lookupKind(strings.Trim(words[0], "'"))
	}
	for k, w := range words {
		i := pos + strings.Index(folded[pos:], w)
		// The gap between the previous word and this one.
		if h.punctuation(k, folded[pos:i]) {
			quote = true
		}
		pos = i + len(w)
		w = strings.Trim(w, "'")
		kind := nextKind
		next := ""
		nextKind = 0
		if k+1 < len(words) {
			next = strings.Trim(words[k+1], "'")
			nextKind, _ = lookupKind(next)
		}
		prevKind = h.word(k, w, next, kind, nextKind, prevKind)
	}
	if strings.IndexByte(folded[pos:], '"') >= 0 || strings.Contains(folded[pos:], "“") || strings.Contains(folded[pos:], "”") {
		quote = true
	}
	h.endSegment(len(words), true)
	flags := hateFlags(h.flags, quote)
	return hateInfo{flags: flags, identity: h.identity, target: h.identity || h.spelt || flags&hSlur != 0}
}

// punctuation ends the segments and clauses the punctuation in gap (before
// word k) ends, and reports whether gap holds a quotation mark.
func (h *hateScanner) punctuation(k int, gap string) (quote bool) {
	for j := 0; j < len(gap); j++ {
		switch gap[j] {
		case '.', '!', '?', '\n', ';':
			h.endSegment(k, true)
		case ',', ':', '(', ')', '[', ']':
			h.endClause(k)
		case '"':
			quote = true
			h.endClause(k)
		case 0xe2: // “ ” (U+201C, U+201D)
			if strings.HasPrefix(gap[j:], "“") || strings.HasPrefix(gap[j:], "”") {
				quote = true
				h.endClause(k)
			}
		}
	}
	return quote
}

// word reads word k, w, of kind (its lexicon kinds), and returns the kind
// it was read as: a word not in the lexicons is read as a misspelt or
// run-together lexicon word when it can be.
func (h *hateScanner) word(k int, w, next string, kind, nextKind, prevKind uint32) uint32 {
	switch {
	case kind&kindContrast != 0:
		h.endSegment(k, false)
	case kind&kindClause != 0:
		h.endClause(k)
	}
	if h.pending.kind != 0 && k-h.pending.at > postScope {
		h.commit()
	}
	if kind != 0 || len(w) < 4 {
		h.visit(k, w, next, kind, nextKind, prevKind, false)
	} else if sk, split := spellKind(w); split > 0 {
		// Run together: each part in turn.
		a, b := w[:split], w[split:]
		ka, _ := lookupKind(a)
		kb, _ := lookupKind(b)
		h.visit(k, a, b, ka, kb, prevKind, true)
		h.visit(k, b, next, kb, nextKind, ka, true)
	} else {
		h.visit(k, w, next, sk, nextKind, prevKind, true)
		kind = sk
	}
	return kind
}

// hateFlags adds to the scanner's flags those derived from them and from
// quote.
func hateFlags(flags uint32, quote bool) uint32 {
	if quote {
		flags |= hQuote
	}
	if flags&(hNeg|hThreat) == 0 && flags&hPosTarget != 0 {
		flags |= hPosOnlyTarget
	}
	if flags&hReport != 0 && flags&hCondemn != 0 {
		flags |= hReportCondemn
	}
	if flags&hQuote != 0 && flags&hCondemn != 0 {
		flags |= hQuoteCondemn
	}
	if flags&(hNeg|hPos|hThreat|hSlur) == 0 {
		flags |= hNone
	}
	return flags
}

// visit reads word k of the text, w, with its kinds; next is the word
// after it, and nextKind and prevKind the kinds of the words around it;
// spelt is whether w was read as a misspelt or run-together lexicon word.
func (h *hateScanner) visit(k int, w, next string, kind, nextKind, prevKind uint32, spelt bool) {
	negated := h.lastNeg >= h.clauseStart && k-h.lastNeg <= negationScope
	if kind&kindIdentity != 0 {
		if spelt {
			h.spelt = true
		} else {
			h.identity = true
		}
		h.seg.target = true
	}
	h.seg.them = h.seg.them || kind&kindThem != 0
	h.seg.self = h.seg.self || kind&kindSelf != 0
	h.seg.profane = h.seg.profane || kind&kindProfane != 0
	if kind&kindReport != 0 {
		h.flags |= hReport
	}
	if kind&kindCondemn != 0 && !negated {
		h.flags |= hCondemn
	}
	switch {
	case kind&kindSlur != 0 || h.camel && (w == "fucker" || w == "fuckers"):
		h.flags |= hSlur
		h.seg.slur = true
	case kind&kindPostNeg != 0 && h.pending.kind != 0:
		// "contribute nothing", "not worth any less".
		h.pending.negated = !h.pending.negated
		h.commit()
		h.lastNeg = -100
	case kind&kindNegator != 0:
		switch {
		case nextKind&kindNegatedVerb != 0 && (w == "can't" || w == "cannot" || w == "couldn't"):
			// "can't stand": contempt, read at the next word.
			h.commit()
			h.pending.kind, h.pending.negated, h.pending.at, h.pending.weak = kindNegative, false, k+1, false
		case w == "no" && (next == "matter" || next == "doubt") || w == "not" && (next == "only" || next == "just") ||
			w == "never" && next == "mind":
			// Phrases that negate nothing.
		case kind&kindInvertingAux != 0 && nextKind&kindSubject != 0:
			// "isn't it obvious that", "shouldn't we".
		case w == "not" && prevKind&kindSubject != 0 && k >= 2 && h.clauseStart <= k-2:
			// "is it not obvious that".
		default:
			h.lastNeg = k
		}
	case kind&kindNegatedVerb != 0 && h.pending.kind == kindNegative && h.pending.at == k:
		// The verb of "can't stand", already pending.
	case kind&(kindThreat|kindNegative|kindPositive|kindWorth|kindVerdict|kindCondemn) != 0 ||
		w == "like" && prevKind&kindLikeSubject != 0:
		if h.pending.kind != 0 && h.pending.weak && k-h.pending.at <= negationScope {
			// "do not deserve respect": the word after deserve is what
			// the negation falls on.
			h.pending.kind = 0
		}
		h.commit()
		lk := kind & lexicalKinds
		if w == "like" {
			lk = kindPositive
		}
		h.pending.kind, h.pending.negated, h.pending.at, h.pending.weak = lk, negated, k, kind&kindWeak != 0
	}
	h.camel = w == "camel"
}

// weakWords are worth words that pass a negation on to the evaluative word
// after them and take it only when none follows: "do not deserve
// respect" denies respect, "no one deserves to be mocked" defends, "do not
// deserve to live" denies life.
var weakWords = wordSet(`deserve deserves deserved deserving`)

// appendHateLexicon appends one feature per feature bit of t.
func appendHateLexicon(dst []Feature, t hateInfo) []Feature {
	for b := range hateFeatureNames {
		if t.flags&(1<<b) != 0 {
			dst = append(dst, Feature{hateFeatureIndex[b], HateLexiconWeight})
		}
	}
	return dst
}
