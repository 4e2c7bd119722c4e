package guardrail

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/guardrail/internal/ahocorasick"
	"github.com/bedrockkit/bedrockkit/guardrail/internal/classify"
	"github.com/bedrockkit/bedrockkit/guardrail/internal/normalize"
	"github.com/bedrockkit/bedrockkit/guardrail/internal/perplexity"
	"github.com/bedrockkit/bedrockkit/guardrail/internal/pii"
)

// Guard assesses content against a guardrail, the way ApplyGuardrail does.
// Local (in-process), Remote (Bedrock) and Both satisfy it.
type Guard interface {
	Assess(ctx context.Context, source Source, content ...Content) (*Verdict, error)
}

// Options configures a Local guard. The zero value is valid.
type Options struct {
	// Embedder, if set, is used for denied topics (similarity of the text to
	// each topic's definition and examples). Without it topics use keyword
	// evidence only.
	Embedder bedrockkit.Embedder
	// TopicThreshold is the cosine similarity at or above which a topic is
	// detected through the Embedder; 0 means 0.6.
	TopicThreshold float64
	// Judge, if set, scores contextual grounding with a model instead of (and
	// averaged with) the lexical scorer.
	Judge bedrockkit.Model
}

// Local evaluates a Policy in-process. It is safe for concurrent use.
type Local struct {
	p    *Policy
	opts Options

	piiDet  *pii.Detector
	piiCfg  map[PIIType]PIIEntityConfig
	regexes []*regexp.Regexp

	words     []wordEntry
	wordPats  []string
	wordMatch *ahocorasick.Matcher

	topicKW    []topicKeywords // per TopicsConfig entry
	topicVocab map[string]bool // every word of topicKW
	topicMu    sync.Mutex
	topicVec   map[string][][]float32
}

type wordEntry struct {
	text    string
	managed bool
	dir     Direction
}

// NewLocal validates p and compiles it into a local guard.
func NewLocal(p *Policy, opts Options) (*Local, error) {
	if p == nil {
		return nil, fmt.Errorf("guardrail: %v: %w", errNoPolicy, bedrockkit.ErrInvalidInput)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(p.AutomatedReasoningPolicyConfig) > 0 {
		return nil, fmt.Errorf("guardrail: automated reasoning policies are evaluated by Bedrock only; guard with NewRemote, or remove automatedReasoningPolicyConfig to run the rest locally: %w", bedrockkit.ErrUnsupported)
	}
	l := &Local{p: p, opts: opts, piiCfg: map[PIIType]PIIEntityConfig{}}
	if c := p.SensitiveInformationPolicyConfig; c != nil {
		var types []pii.Type
		for _, e := range c.PiiEntitiesConfig {
			l.piiCfg[e.Type] = e
			types = append(types, pii.Type(e.Type))
		}
		l.piiDet = pii.New(types)
		for _, r := range c.RegexesConfig {
			l.regexes = append(l.regexes, regexp.MustCompile(r.Pattern)) // validated above
		}
	}
	if c := p.TopicPolicyConfig; c != nil {
		l.topicVocab = map[string]bool{}
		for _, t := range c.TopicsConfig {
			kw := newTopicKeywords(t)
			l.topicKW = append(l.topicKW, kw)
			for _, k := range kw {
				for _, w := range k.words {
					l.topicVocab[w] = true
				}
			}
		}
	}
	if c := p.WordPolicyConfig; c != nil {
		for _, w := range c.WordsConfig {
			l.words = append(l.words, wordEntry{text: w.Text, dir: w.Direction})
		}
		for _, m := range c.ManagedWordListsConfig {
			for _, w := range profanity {
				l.words = append(l.words, wordEntry{text: w, managed: true, dir: m.Direction})
			}
		}
		for _, w := range l.words {
			l.wordPats = append(l.wordPats, normalize.Full(w.text).String())
		}
		l.wordMatch = ahocorasick.New(l.wordPats)
	}
	return l, nil
}

// Policy returns the guard's policy. Do not modify it.
func (l *Local) Policy() *Policy { return l.p }

// MaxEntityLen is the longest match (in bytes) the streaming middleware must
// hold back so that no PII entity or blocked word can be split across the
// released and held parts. Words longer than this are still caught when the
// whole output is assessed, but may be released partly in a stream.
const MaxEntityLen = 256

type finding struct {
	block      int
	start, end int // original offsets
	action     Action
	mask       string // replacement for ANONYMIZE
}

// assessRun gathers one Assess call's findings across the guarded blocks.
type assessRun struct {
	a       Assessment
	fs      []finding
	blocked bool
}

// note records that a finding took act.
func (r *assessRun) note(act Action) {
	if act == ActionBlock {
		r.blocked = true
	}
}

// sensitive returns the sensitive-information assessment, creating it.
func (r *assessRun) sensitive() *SensitiveAssessment {
	if r.a.SensitiveInformationPolicy == nil {
		r.a.SensitiveInformationPolicy = &SensitiveAssessment{}
	}
	return r.a.SensitiveInformationPolicy
}

// Assess evaluates content against the policy. Blocks qualified
// grounding_source or query are context for the grounding check; if any block
// is qualified guard_content only those are assessed, otherwise every
// unqualified block is.
func (l *Local) Assess(ctx context.Context, source Source, content ...Content) (*Verdict, error) {
	if source != SourceInput && source != SourceOutput {
		return nil, fmt.Errorf("guardrail: source %q must be INPUT or OUTPUT: %w", source, bedrockkit.ErrInvalidInput)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	guarded := guardedBlocks(content)
	var r assessRun
	for _, bi := range guarded {
		text := content[bi].Text
		if text == "" {
			continue
		}
		folded := normalize.Full(text)
		v := &blockView{raw: text, folded: folded.String()}
		defer v.release()
		if err := l.assessBlock(ctx, source, bi, v, folded, &r); err != nil {
			return nil, err
		}
	}
	if err := l.assessGrounding(ctx, content, guarded, &r); err != nil {
		return nil, err
	}
	return l.verdict(source, content, guarded, &r), nil
}

// assessBlock runs the per-block policies (sensitive information, regexes,
// words, content filters, denied topics) over guarded block bi.
func (l *Local) assessBlock(ctx context.Context, source Source, bi int, v *blockView, folded *normalize.Text, r *assessRun) error {
	if l.piiDet != nil {
		if err := l.assessPII(ctx, source, bi, v.raw, r); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l.assessRegexes(source, bi, v.raw, r)
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.wordMatch != nil {
		l.assessWords(source, bi, v, folded, r)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if c := l.p.ContentPolicyConfig; c != nil {
		cf, err := l.contentFindings(ctx, source, v, c)
		if err != nil {
			return err
		}
		for _, f := range cf {
			if r.a.ContentPolicy == nil {
				r.a.ContentPolicy = &ContentAssessment{}
			}
			f.Span = &Span{bi, 0, len(v.raw)}
			r.a.ContentPolicy.Filters = append(r.a.ContentPolicy.Filters, f)
			if f.Action == actBlocked {
				r.blocked = true
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if c := l.p.TopicPolicyConfig; c != nil {
		tf, err := l.topicFindings(ctx, source, v, c)
		if err != nil {
			return err
		}
		for _, f := range tf {
			if r.a.TopicPolicy == nil {
				r.a.TopicPolicy = &TopicAssessment{}
			}
			f.Span = &Span{bi, 0, len(v.raw)}
			r.a.TopicPolicy.Topics = append(r.a.TopicPolicy.Topics, f)
			if f.Action == actBlocked {
				r.blocked = true
			}
		}
	}
	return nil
}

// assessPII records the PII entities of block bi that the policy enables.
func (l *Local) assessPII(ctx context.Context, source Source, bi int, text string, r *assessRun) error {
	ents, err := l.piiDet.Detect(ctx, text)
	if err != nil {
		return err
	}
	for _, e := range ents {
		typ, act, ok := l.piiAction(source, e)
		if !ok {
			continue
		}
		reason := e.Reason
		if typ != PIIType(e.Type) {
			reason += "; also fits " + string(typ) + ", whose action is stricter"
		}
		s := r.sensitive()
		s.PiiEntities = append(s.PiiEntities, PIIFinding{
			Type: typ, Match: text[e.Start:e.End], Action: reportAction(act), Detected: true,
			Score: e.Score, Reason: reason, Span: &Span{bi, e.Start, e.End},
		})
		r.note(act)
		r.fs = append(r.fs, finding{bi, e.Start, e.End, act, typ.Tag()})
	}
	return nil
}

// assessRegexes records the non-empty matches of the enabled custom regexes
// in block bi.
func (l *Local) assessRegexes(source Source, bi int, text string, r *assessRun) {
	for ri, re := range l.regexes {
		cfg := l.p.SensitiveInformationPolicyConfig.RegexesConfig[ri]
		if !cfg.enabled(source) {
			continue
		}
		act := cfg.action(source, cfg.Action)
		for _, m := range re.FindAllStringIndex(text, -1) {
			if m[0] == m[1] {
				continue
			}
			s := r.sensitive()
			s.Regexes = append(s.Regexes, RegexFinding{
				Name: cfg.Name, Regex: cfg.Pattern, Match: text[m[0]:m[1]], Action: reportAction(act), Detected: true,
				Span: &Span{bi, m[0], m[1]},
			})
			r.note(act)
			r.fs = append(r.fs, finding{bi, m[0], m[1], act, "{" + cfg.Name + "}"})
		}
	}
}

// assessWords records the custom and managed words found, on word
// boundaries, in the folded text of block bi.
func (l *Local) assessWords(source Source, bi int, v *blockView, folded *normalize.Text, r *assessRun) {
	s := v.folded
	l.wordMatch.FindAll(s, l.wordPats, func(m ahocorasick.Match) {
		if !wordBoundary(s, m.Start, m.End) {
			return
		}
		w := l.words[m.Pattern]
		if !w.dir.enabled(source) {
			return
		}
		act := w.dir.action(source, ActionBlock)
		os, oe := folded.Span(m.Start, m.End)
		f := WordFinding{Match: w.text, Action: reportAction(act), Detected: true, Text: v.raw[os:oe], Span: &Span{bi, os, oe}}
		if r.a.WordPolicy == nil {
			r.a.WordPolicy = &WordAssessment{}
		}
		if w.managed {
			f.Type = string(ManagedProfanity)
			r.a.WordPolicy.ManagedWordLists = append(r.a.WordPolicy.ManagedWordLists, f)
		} else {
			r.a.WordPolicy.CustomWords = append(r.a.WordPolicy.CustomWords, f)
		}
		r.note(act)
	})
}

// assessGrounding runs the contextual grounding check over all of content.
func (l *Local) assessGrounding(ctx context.Context, content []Content, guarded []int, r *assessRun) error {
	c := l.p.ContextualGroundingPolicyConfig
	if c == nil {
		return nil
	}
	gf, err := l.groundingFindings(ctx, content, guarded, c)
	if err != nil {
		return err
	}
	if len(gf) > 0 {
		r.a.ContextualGroundingPolicy = &GroundingAssessment{Filters: gf}
		for _, f := range gf {
			if f.Action == actBlocked {
				r.blocked = true
			}
		}
	}
	return nil
}

// verdict turns the findings into the outcome: the blocked message, the
// masked guarded blocks, or no intervention.
func (l *Local) verdict(source Source, content []Content, guarded []int, r *assessRun) *Verdict {
	res := &Verdict{Action: OutcomeNone, Outputs: []Output{}, Assessments: []Assessment{r.a}}
	if r.blocked {
		res.Action, res.Blocked = OutcomeIntervened, true
		msg := l.p.BlockedInputMessaging
		if source == SourceOutput {
			msg = l.p.BlockedOutputsMessaging
		}
		res.Outputs = []Output{{Text: msg}}
		return res
	}
	anon := false
	for _, f := range r.fs {
		anon = anon || f.action == ActionAnonymize
	}
	if anon {
		res.Action = OutcomeIntervened
		for _, bi := range guarded {
			res.Outputs = append(res.Outputs, Output{Text: mask(content[bi].Text, bi, r.fs)})
		}
	}
	return res
}

// actionRank orders actions by strictness.
func actionRank(a Action) int {
	switch a {
	case ActionBlock:
		return 3
	case ActionAnonymize:
		return 2
	case ActionNone:
		return 1
	}
	return 0
}

// piiAction picks, among the types an entity fits (its type, then its
// alternatives), the enabled one with the strictest action for source: a
// nine-digit number that reads as a phone but passes the SSN rules is
// blocked when SSNs are blocked, not masked as a phone. Ties keep the
// detector's order.
func (l *Local) piiAction(source Source, e pii.Entity) (PIIType, Action, bool) {
	var best PIIType
	var bestAct Action
	for _, t := range append([]pii.Type{e.Type}, e.Alts...) {
		cfg, ok := l.piiCfg[PIIType(t)]
		if !ok || !cfg.enabled(source) {
			continue
		}
		act := cfg.action(source, cfg.Action)
		if best == "" || actionRank(act) > actionRank(bestAct) {
			best, bestAct = PIIType(t), act
		}
	}
	return best, bestAct, best != ""
}

func reportAction(a Action) string {
	switch a {
	case ActionBlock:
		return actBlocked
	case ActionAnonymize:
		return actAnonymized
	}
	return actNone
}

func guardedBlocks(content []Content) []int {
	var guard, plain []int
	for i, c := range content {
		switch {
		case c.has(QualifierGuardContent):
			guard = append(guard, i)
		case len(c.Qualifiers) == 0:
			plain = append(plain, i)
		}
	}
	if len(guard) > 0 {
		return guard
	}
	return plain
}

// wordBoundary reports whether s[a:b] is not glued to letters or digits.
func wordBoundary(s string, a, b int) bool {
	isW := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80 }
	if a > 0 && isW(s[a-1]) && isW(s[a]) {
		return false
	}
	if b < len(s) && isW(s[b]) && isW(s[b-1]) {
		return false
	}
	return true
}

// mask replaces the anonymized findings of block bi with their tags. Where
// findings overlap, their union is masked with the first tag.
func mask(text string, bi int, fs []finding) string {
	var spans []finding
	for _, f := range fs {
		if f.block == bi && f.action == ActionAnonymize {
			spans = append(spans, f)
		}
	}
	if len(spans) == 0 {
		return text
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var b strings.Builder
	pos := 0
	for i := 0; i < len(spans); {
		s, e, tag := spans[i].start, spans[i].end, spans[i].mask
		j := i + 1
		for j < len(spans) && spans[j].start < e {
			e = max(e, spans[j].end)
			j++
		}
		if s < pos {
			s = pos
		}
		b.WriteString(text[pos:s])
		b.WriteString(tag)
		pos = max(pos, e)
		i = j
	}
	b.WriteString(text[pos:])
	return b.String()
}

// confidence maps a probability onto NONE/LOW/MEDIUM/HIGH with the model's thresholds.
func confidence(p float64, low, med, high float64) Strength {
	switch {
	case p >= high:
		return StrengthHigh
	case p >= med:
		return StrengthMedium
	case p >= low:
		return StrengthLow
	}
	return StrengthNone
}

// blockView is one content block as the detectors read it; what several
// detectors need is computed once, on first use.
type blockView struct {
	raw, folded string
	ws          []string
	wsDone      bool
	views       []attackView        // rewordedViews, once computed
	featBuf     *[]classify.Feature // from featurePool
}

// reworded returns rewordedViews(raw, folded).
func (v *blockView) reworded() []attackView {
	if v.views == nil {
		v.views = rewordedViews(v.raw, v.folded)
	}
	return v.views
}

// words returns wordsOf(folded).
func (v *blockView) words() []string {
	if !v.wsDone {
		v.ws, v.wsDone = wordsOf(v.folded), true
	}
	return v.ws
}

// features returns the classifier features of the folded text.
func (v *blockView) features() []classify.Feature {
	if v.featBuf == nil {
		v.featBuf = featurePool.Get().(*[]classify.Feature)
		*v.featBuf = classify.AppendFeatures((*v.featBuf)[:0], v.folded)
	}
	return *v.featBuf
}

// featurePool recycles feature slices between assessments.
var featurePool = sync.Pool{New: func() any { return new([]classify.Feature) }}

// release returns the view's features to the pool; the view must not be
// used afterwards.
func (v *blockView) release() {
	if v.featBuf != nil && cap(*v.featBuf) <= 1<<18 {
		featurePool.Put(v.featBuf)
	}
	v.featBuf = nil
}

func (l *Local) contentFindings(ctx context.Context, source Source, v *blockView, c *ContentPolicyConfig) ([]ContentFinding, error) {
	var out []ContentFinding
	for _, f := range c.FiltersConfig {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		strength, ok := filterStrength(f, source)
		if !ok {
			continue
		}
		p, conf, reason, err := filterScore(ctx, f.Type, v)
		if err != nil {
			return nil, err
		}
		if conf == StrengthNone {
			continue
		}
		act := f.action(source, ActionBlock)
		rep := actNone
		if strength.Blocks(conf) && act == ActionBlock {
			rep = actBlocked
		}
		out = append(out, ContentFinding{Type: f.Type, Confidence: conf, FilterStrength: strength, Action: rep,
			Detected: strength.Blocks(conf), Score: p, Reason: reason})
	}
	return out, nil
}

// filterStrength is the strength filter f applies to source; ok is false
// when the filter does not run there (disabled, strength NONE, or a prompt
// attack filter on output).
func filterStrength(f ContentFilterConfig, source Source) (strength Strength, ok bool) {
	if !f.enabled(source) {
		return "", false
	}
	strength = f.InputStrength
	if source == SourceOutput {
		strength = f.OutputStrength
	}
	if strength == StrengthNone || strength == "" {
		return "", false
	}
	if f.Type == FilterPromptAttack && source != SourceInput {
		return "", false
	}
	return strength, true
}

// filterScore scores block v for one content filter type: its probability,
// the confidence that maps to, and why.
func filterScore(ctx context.Context, typ ContentFilterType, v *blockView) (p float64, conf Strength, reason string, err error) {
	words := v.words()
	switch typ {
	case FilterPromptAttack:
		return promptAttackScore(ctx, v, words)
	case FilterHate:
		// Hate needs a protected target and derogation of it: the model
		// reads the text with group names removed (so a mention alone
		// weighs nothing) plus what the lexicons say about whom, with
		// negation and reported speech (slurs included), and its score
		// is damped when no group is named.
		m := classify.Hate()
		p = classify.HateScore(m, v.folded, words, v.features)
		reason = fmt.Sprintf("classifier p=%.2f", p)
		conf = confidence(p, float64(m.Low), float64(m.Medium), float64(m.High))
	default:
		var hits []string
		p, hits = lexiconScore(words, typ)
		conf = confidence(p, 0.55, 0.75, 0.9)
		if len(hits) > 0 {
			reason = "lexicon: " + strings.Join(hits, ", ")
		}
	}
	return p, conf, reason, nil
}

// promptAttackScore scores block v as a prompt attack: the classifier,
// overridden by the attack rules, evasion, token soup and persuasion, and
// otherwise raised by reworded and encoded readings of the text.
func promptAttackScore(ctx context.Context, v *blockView, words []string) (p float64, conf Strength, reason string, err error) {
	folded, raw := v.folded, v.raw
	m := classify.PromptAttack()
	p = classify.AttackProb(m, v.features(), folded)
	conf = confidence(p, float64(m.Low), float64(m.Medium), float64(m.High))
	reason = fmt.Sprintf("classifier p=%.2f", p)
	if r := ruleAttack(folded); r != "" {
		return 1, StrengthHigh, "rule: " + r, nil
	}
	if r := evasiveAttack(raw, folded, v.reworded()); r != "" {
		return 1, StrengthHigh, "rule: " + r, nil
	}
	sc, r, err := soupAttack(ctx, raw, words)
	if err != nil {
		return 0, "", "", err
	}
	if sc != StrengthNone {
		return 1, sc, r, nil
	}
	if pc, r := persuasionAttack(folded, words); pc != StrengthNone {
		return 1, pc, "rule: " + r, nil
	}
	// Reworded text (backwards, spelled out, camel case) is read by the
	// model too.
	for _, cv := range classifierViews(folded, v.reworded()) {
		bar := float64(m.Medium)
		if cv.strict {
			bar = max(float64(m.High), strictViewBar)
		}
		if dp := classify.AttackProb(m, classify.Features(cv.text), cv.text); dp >= bar && dp > p {
			p, conf, reason = dp, confidence(dp, float64(m.Low), float64(m.Medium), float64(m.High)), cv.name+"classifier"
		}
	}
	return encodedAttackScore(ctx, m, raw, folded, p, conf, reason)
}

// encodedAttackScore reads the payloads encoded in raw (base64, hex, ROT13
// ...) with the attack rules and model m; the first payload that reads as
// an attack replaces the score so far (p, conf, reason).
func encodedAttackScore(ctx context.Context, m *classify.Model, raw, folded string, p float64, conf Strength, reason string) (float64, Strength, string, error) {
	withROT13 := mayHoldROT13Attack(folded)
	r13 := ""
	if withROT13 {
		r13 = rot13(raw)
	}
	for _, dec := range decodedPayloads(raw, withROT13) {
		if err := ctx.Err(); err != nil {
			return 0, "", "", err
		}
		df := normalize.Full(dec).String()
		if r := ruleAttack(df); r != "" {
			return 1, StrengthHigh, "encoded payload: " + r, nil
		}
		if withROT13 && dec == r13 {
			continue
		}
		if dp := classify.AttackProb(m, classify.Features(df), df); dp >= float64(m.Medium) {
			return dp, confidence(dp, float64(m.Low), float64(m.Medium), float64(m.High)), "encoded payload: classifier", nil
		}
	}
	return p, conf, reason, nil
}

// strictViewBar is the least probability a strict classifier view (see
// attackView) counts from.
const strictViewBar = 0.8

// soupAttack looks for an optimised adversarial suffix: a span at the end
// of a line that reads as token soup rather than language (package
// perplexity). The soup alone is reported with HIGH confidence from the
// model's High threshold; from its Low and Medium thresholds only after a
// harmful request (classify.HarmfulRequest), which is what such suffixes
// are appended to, with MEDIUM and HIGH confidence.
func soupAttack(ctx context.Context, raw string, words []string) (Strength, string, error) {
	m := perplexity.Default()
	sp, err := m.Score(ctx, raw)
	if err != nil || sp.Score < float64(m.Low) {
		return StrengthNone, "", err
	}
	conf := StrengthNone
	switch {
	case sp.Score >= float64(m.High):
		conf = StrengthHigh
	case !classify.HarmfulRequest(words):
	case sp.Score >= float64(m.Medium):
		conf = StrengthHigh
	default:
		conf = StrengthMedium
	}
	if conf == StrengthNone {
		return conf, "", nil
	}
	return conf, fmt.Sprintf("token soup (optimised adversarial suffix) at bytes %d-%d: %.2f bits per character more likely as random tokens than as language",
		sp.Start, sp.End, sp.Score), nil
}
