package guardrail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit"
)

// StreamMode selects how streamed output is guarded, as in Bedrock.
type StreamMode string

// Stream modes.
const (
	// StreamSync holds text back until it has been assessed: nothing unmasked
	// or blocked reaches the caller, at the cost of latency. The default.
	StreamSync StreamMode = "sync"
	// StreamAsync releases text at once and assesses it in the background;
	// once a violation is found the rest of the stream is replaced by the
	// blocked message. Like Bedrock, async mode does not mask PII.
	StreamAsync StreamMode = "async"
)

// BlockedError reports that a guardrail blocked a request or response. It
// wraps bedrockkit.ErrGuardrailBlocked. It is returned only when
// MiddlewareOptions.BlockAsError is set.
type BlockedError struct {
	Source Source
	Result *Verdict
}

// Error names the direction and the blocked message.
func (e *BlockedError) Error() string {
	msg := ""
	if e.Result != nil && len(e.Result.Outputs) > 0 {
		msg = ": " + e.Result.Outputs[0].Text
	}
	return fmt.Sprintf("guardrail: blocked the %s%s; inspect Result.Assessments for why", strings.ToLower(string(e.Source)), msg)
}

// Unwrap returns bedrockkit.ErrGuardrailBlocked.
func (e *BlockedError) Unwrap() error { return bedrockkit.ErrGuardrailBlocked }

// MiddlewareOptions configures Middleware. The zero value means sync
// streaming, blocked calls answered as Bedrock answers them, and tool calls,
// tool results and reasoning guarded.
type MiddlewareOptions struct {
	// Mode is StreamSync (default) or StreamAsync.
	Mode StreamMode
	// HoldBack is how many bytes of streamed text are held until more text
	// arrives (sync mode), and the size of the piece released after each
	// assessment; 0 means MaxEntityLen. A PII entity or blocked word no
	// longer than HoldBack is never released partly. A larger HoldBack means
	// fewer, larger assessments (each byte is assessed about three times
	// whatever its value) and more latency.
	HoldBack int
	// BlockAsError makes a blocked call return a *BlockedError (wrapping
	// bedrockkit.ErrGuardrailBlocked) instead of, as Bedrock does, a normal
	// response holding the blocked message with StopReason guardrail_intervened.
	BlockAsError bool
	// SkipTools turns off guarding of tool calls (model output) and tool
	// results (model input). Bedrock itself does not guard them; by default
	// this middleware does.
	SkipTools bool
	// SkipReasoning turns off guarding of reasoning (extended thinking):
	// Reasoning parts and streamed ReasoningDelta text. By default reasoning
	// is guarded like text: a violation in it blocks the response, and PII
	// in it is masked. Masked reasoning no longer matches its Signature, so
	// a model that checks signatures refuses it when it is sent back in a
	// later turn; that refusal is the price of not leaking what the
	// reasoning held. Redacted reasoning is opaque and passes unassessed.
	SkipReasoning bool
}

// Middleware returns a bedrockkit.Middleware that guards the model it wraps
// with g; the zero MiddlewareOptions are the usual choice:
//
//	model := bedrockkit.Chain(converse, guardrail.Middleware(g, guardrail.MiddlewareOptions{}))
//
// Input: the text, reasoning and tool results of the last message are
// assessed before the model is called (as AWS recommends, earlier turns were
// assessed when they were new). Blocked input never reaches the model;
// anonymized input is sent masked. Output: response text, reasoning and
// tool-call inputs are assessed; blocked output is replaced by the blocked
// message, anonymized output masked.
//
// Sync streaming assesses each text or reasoning block in windows: the
// text released next (HoldBack bytes), HoldBack bytes after it that are held
// back, and HoldBack bytes (at least 128) before it for context. A window is assessed once
// enough text has arrived, so guarding a stream costs time linear in its
// length, and where the stream's chunks were split never changes what is
// found. Within a window, only findings that start in the part to be
// released can block it; the rest are judged by the next window. A PII
// entity or blocked word no longer than HoldBack is never released partly.
//
// A nil g fails every call, without reaching the model, with an error
// wrapping bedrockkit.ErrInvalidInput: an unguarded model is never passed
// off as guarded.
func Middleware(g Guard, opts MiddlewareOptions) bedrockkit.Middleware {
	if opts.HoldBack <= 0 {
		opts.HoldBack = MaxEntityLen
	}
	if opts.Mode == "" {
		opts.Mode = StreamSync
	}
	return func(m bedrockkit.Model) bedrockkit.Model { return &guarded{guard: g, cfg: opts, next: m} }
}

// errNoGuard is returned by every call of a model guarded by a nil Guard.
var errNoGuard = fmt.Errorf("guardrail: Middleware was given a nil Guard; pass a Guard such as the one guardrail.NewLocal returns: %w", bedrockkit.ErrInvalidInput)

type guarded struct {
	guard Guard
	cfg   MiddlewareOptions
	next  bedrockkit.Model
}

// ModelID forwards the wrapped model's ID (see bedrockkit.ModelIDOf): the
// guard calls only the model it wraps, so a meter or tracer outside it
// still learns the ID.
func (g *guarded) ModelID() string { return bedrockkit.ModelIDOf(g.next) }

// slot points at one guarded piece of a request or response.
type slot struct {
	msg, part, sub int // sub: index inside a ToolResult's parts; -1 otherwise
	json           bool
}

// inputSlots lists the guarded parts of the last message.
func (g *guarded) inputSlots(req *bedrockkit.Request) ([]slot, []Content) {
	if len(req.Messages) == 0 {
		return nil, nil
	}
	mi := len(req.Messages) - 1
	var slots []slot
	var content []Content
	for pi, p := range req.Messages[mi].Parts {
		switch x := p.(type) {
		case bedrockkit.Text:
			slots = append(slots, slot{mi, pi, -1, false})
			content = append(content, Content{Text: x.Text})
		case bedrockkit.Reasoning:
			if g.cfg.SkipReasoning || x.Text == "" {
				continue
			}
			slots = append(slots, slot{mi, pi, -1, false})
			content = append(content, Content{Text: x.Text})
		case bedrockkit.ToolResult:
			if g.cfg.SkipTools {
				continue
			}
			for si, sp := range x.Parts {
				switch y := sp.(type) {
				case bedrockkit.Text:
					slots = append(slots, slot{mi, pi, si, false})
					content = append(content, Content{Text: y.Text})
				case bedrockkit.JSON:
					slots = append(slots, slot{mi, pi, si, true})
					content = append(content, Content{Text: string(y.Value)})
				}
			}
		}
	}
	return slots, content
}

// checkInput assesses the request. It returns the request to send (masked
// if needed) or the result that blocked it.
func (g *guarded) checkInput(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Request, *Verdict, error) {
	slots, content := g.inputSlots(req)
	if len(content) == 0 {
		return req, nil, nil
	}
	res, err := g.guard.Assess(ctx, SourceInput, content...)
	if err != nil {
		return nil, nil, fmt.Errorf("guardrail: assess input: %w", err)
	}
	if res.Blocked {
		return nil, res, nil
	}
	if res.Action != OutcomeIntervened {
		return req, nil, nil
	}
	texts, ok := maskedTexts(res, content)
	if !ok {
		return nil, unmaskable(res), nil
	}
	// Copy the last message and apply the masked texts.
	cp := *req
	cp.Messages = append([]bedrockkit.Message(nil), req.Messages...)
	mi := len(cp.Messages) - 1
	parts := append([]bedrockkit.Part(nil), cp.Messages[mi].Parts...)
	for i, s := range slots {
		txt := texts[i]
		if s.sub < 0 {
			if r, ok := parts[s.part].(bedrockkit.Reasoning); ok {
				r.Text = txt
				parts[s.part] = r
				continue
			}
			parts[s.part] = bedrockkit.Text{Text: txt}
			continue
		}
		tr := parts[s.part].(bedrockkit.ToolResult)
		sub := append([]bedrockkit.Part(nil), tr.Parts...)
		if s.json {
			if !json.Valid([]byte(txt)) {
				return nil, unmaskable(res), nil // masking broke the JSON: block rather than leak
			}
			sub[s.sub] = bedrockkit.JSON{Value: json.RawMessage(txt)}
		} else {
			sub[s.sub] = bedrockkit.Text{Text: txt}
		}
		tr.Parts = sub
		parts[s.part] = tr
	}
	cp.Messages[mi] = bedrockkit.Message{Role: cp.Messages[mi].Role, Parts: parts}
	return &cp, nil, nil
}

func (g *guarded) blockedResponse(src Source, res *Verdict) (*bedrockkit.Response, error) {
	if g.cfg.BlockAsError {
		return nil, &BlockedError{Source: src, Result: res}
	}
	msg := ""
	if len(res.Outputs) > 0 {
		msg = res.Outputs[0].Text
	}
	return &bedrockkit.Response{Message: bedrockkit.AssistantText(msg), StopReason: bedrockkit.StopGuardrailIntervened}, nil
}

// Generate guards the input, calls the model, and guards the output.
func (g *guarded) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	if g.guard == nil {
		return nil, errNoGuard
	}
	sent, blocked, err := g.checkInput(ctx, req)
	if err != nil {
		return nil, err
	}
	if blocked != nil {
		return g.blockedResponse(SourceInput, blocked)
	}
	resp, err := g.next.Generate(ctx, sent)
	if err != nil {
		return resp, err
	}
	return g.checkOutput(ctx, resp)
}

func (g *guarded) checkOutput(ctx context.Context, resp *bedrockkit.Response) (*bedrockkit.Response, error) {
	var idx []int
	var content []Content
	for i, p := range resp.Message.Parts {
		switch x := p.(type) {
		case bedrockkit.Text:
			idx = append(idx, i)
			content = append(content, Content{Text: x.Text})
		case bedrockkit.Reasoning:
			if !g.cfg.SkipReasoning && x.Text != "" {
				idx = append(idx, i)
				content = append(content, Content{Text: x.Text})
			}
		case bedrockkit.ToolCall:
			if !g.cfg.SkipTools {
				idx = append(idx, i)
				content = append(content, Content{Text: string(x.Input)})
			}
		}
	}
	if len(content) == 0 {
		return resp, nil
	}
	res, err := g.guard.Assess(ctx, SourceOutput, content...)
	if err != nil {
		return nil, fmt.Errorf("guardrail: assess output: %w", err)
	}
	if res.Blocked {
		b, err := g.blockedResponse(SourceOutput, res)
		if b != nil {
			b.Usage, b.Latency = resp.Usage, resp.Latency
		}
		return b, err
	}
	if res.Action != OutcomeIntervened {
		return resp, nil
	}
	texts, ok := maskedTexts(res, content)
	if !ok {
		return g.blockedResponse(SourceOutput, unmaskable(res))
	}
	out := *resp
	out.Message.Parts = append([]bedrockkit.Part(nil), resp.Message.Parts...)
	for k, i := range idx {
		switch x := out.Message.Parts[i].(type) {
		case bedrockkit.Text:
			out.Message.Parts[i] = bedrockkit.Text{Text: texts[k]}
		case bedrockkit.Reasoning:
			x.Text = texts[k]
			out.Message.Parts[i] = x
		case bedrockkit.ToolCall:
			if !json.Valid([]byte(texts[k])) {
				return g.blockedResponse(SourceOutput, unmaskable(res))
			}
			x.Input = json.RawMessage(texts[k])
			out.Message.Parts[i] = x
		}
	}
	return &out, nil
}

// Stream guards the input, then streams the output through the hold-back
// window (sync) or the background checker (async).
func (g *guarded) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		if g.guard == nil {
			yield(nil, errNoGuard)
			return
		}
		sent, blocked, err := g.checkInput(ctx, req)
		if err != nil {
			yield(nil, err)
			return
		}
		if blocked != nil {
			g.yieldBlocked(SourceInput, blocked, 0, yield)
			return
		}
		if g.cfg.Mode == StreamAsync {
			g.streamAsync(ctx, sent, yield)
			return
		}
		g.streamSync(ctx, sent, yield)
	}
}

func (g *guarded) yieldBlocked(src Source, res *Verdict, index int, yield func(bedrockkit.StreamEvent, error) bool) {
	if g.cfg.BlockAsError {
		yield(nil, &BlockedError{Source: src, Result: res})
		return
	}
	msg := ""
	if len(res.Outputs) > 0 {
		msg = res.Outputs[0].Text
	}
	if !yield(bedrockkit.TextDelta{Index: index, Text: msg}, nil) {
		return
	}
	yield(bedrockkit.Stop{Reason: bedrockkit.StopGuardrailIntervened}, nil)
}

// blockKey names one streamed block: its content index and whether it holds
// reasoning.
type blockKey struct {
	index     int
	reasoning bool
}

// textBlock is the sync-mode state of one streamed text or reasoning block.
// It keeps only the text a later window can still read.
type textBlock struct {
	key      blockKey
	buf      []byte // the block's text from offset base on
	base     int
	total    int  // length of the block's text so far
	released int  // offset up to which text has been released
	hold     bool // a finding could not be placed: hold the rest until the end
}

func (b *textBlock) append(s string) {
	b.buf = append(b.buf, s...)
	b.total += len(s)
}

// trim drops the text before keep, copying only when at least half of the
// buffer is dead, so that trimming costs amortised constant time per byte.
func (b *textBlock) trim(keep int) {
	n := keep - b.base
	if n <= 0 || n < len(b.buf)/2 {
		return
	}
	b.buf = append(b.buf[:0], b.buf[n:]...)
	b.base = keep
}

// runeStart moves i forward (at most to limit) to the start of a character.
func (b *textBlock) runeStart(i, limit int) int {
	for i < limit && i-b.base < len(b.buf) && !utf8.RuneStart(b.buf[i-b.base]) {
		i++
	}
	return i
}

var errStopped = errors.New("stopped")

// emit yields released text of block k.
func emit(k blockKey, piece string, yield func(bedrockkit.StreamEvent, error) bool) bool {
	if k.reasoning {
		return yield(bedrockkit.ReasoningDelta{Index: k.index, Text: piece}, nil)
	}
	return yield(bedrockkit.TextDelta{Index: k.index, Text: piece}, nil)
}

// advance releases what the block's windows allow (see Middleware): while
// HoldBack bytes past the next HoldBack-byte piece have arrived, that piece
// is assessed in its window and released. With final, the rest is assessed
// and released. It returns errStopped when the stream must end (blocked,
// failed or caller gone).
func (g *guarded) advance(ctx context.Context, b *textBlock, final bool, yield func(bedrockkit.StreamEvent, error) bool) error {
	hb := g.cfg.HoldBack
	for !b.hold && b.total-b.released >= 2*hb {
		if err := g.window(ctx, b, b.released+hb, false, yield); err != nil {
			return err
		}
	}
	if !final || b.released >= b.total {
		return nil
	}
	if b.hold {
		return g.releaseHeld(ctx, b, yield)
	}
	return g.window(ctx, b, b.total, true, yield)
}

// window assesses the text from HoldBack bytes before the released point to
// HoldBack bytes after target (the end, when final) and releases the text up
// to target, masked, never cutting a finding.
func (g *guarded) window(ctx context.Context, b *textBlock, target int, final bool, yield func(bedrockkit.StreamEvent, error) bool) error {
	hb := g.cfg.HoldBack
	ws := b.runeStart(max(b.base, b.released-lookBehind(hb)), b.released)
	we, cut := b.total, b.total
	if !final {
		cut = b.runeStart(target, b.total)
		we = b.runeStart(min(b.total, cut+hb), b.total)
	}
	text := string(b.buf[ws-b.base : we-b.base])
	rel, rc := b.released-ws, cut-ws
	res, err := g.guard.Assess(ctx, SourceOutput, Content{Text: text})
	if err != nil {
		yield(nil, fmt.Errorf("guardrail: assess streamed output: %w", err))
		return errStopped
	}
	if res.Blocked && blocksWithin(res, rel, rc) {
		g.yieldBlocked(SourceOutput, res, b.key.index, yield)
		return errStopped
	}
	spans, ok := maskSpans(res)
	if !ok {
		// Findings without a place in the text (a remote guard could not
		// locate them): release nothing more until the end.
		b.hold = true
		if final {
			return g.releaseHeld(ctx, b, yield)
		}
		return nil
	}
	// Never cut a finding: a masked span that began in released text is
	// released whole, one that begins later is left for the next window.
	iv := mergeSpans(spans)
	for _, s := range iv {
		if s.start <= rel && rel < s.end && s.end > rc {
			rc = s.end
		}
	}
	for _, s := range iv {
		if s.start > rel && s.start < rc && rc < s.end {
			rc = s.start
		}
	}
	var fs []finding
	for _, s := range spans {
		if s.end > rel && s.start < rc {
			fs = append(fs, finding{0, max(s.start, rel) - rel, min(s.end, rc) - rel, ActionAnonymize, s.mask})
		}
	}
	piece := mask(text[rel:rc], 0, fs)
	b.released = ws + rc
	b.trim(b.released - lookBehind(hb))
	if piece != "" && !emit(b.key, piece, yield) {
		return errStopped
	}
	return nil
}

// minLookBehind is the least context a window keeps before the released
// point: more than the 48 bytes in which the PII detectors look for context
// words before a number.
const minLookBehind = 128

// lookBehind is how much text before the released point a window reads.
func lookBehind(holdBack int) int { return max(holdBack, minLookBehind) }

// releaseHeld ends a block whose findings could not all be placed: if
// nothing was released yet, the guard's own masked text of the whole block
// is released; otherwise the block is withheld.
func (g *guarded) releaseHeld(ctx context.Context, b *textBlock, yield func(bedrockkit.StreamEvent, error) bool) error {
	if b.released == 0 && b.base == 0 {
		res, err := g.guard.Assess(ctx, SourceOutput, Content{Text: string(b.buf)})
		if err != nil {
			yield(nil, fmt.Errorf("guardrail: assess streamed output: %w", err))
			return errStopped
		}
		if res.Blocked {
			g.yieldBlocked(SourceOutput, res, b.key.index, yield)
			return errStopped
		}
		if texts, ok := maskedTexts(res, []Content{{Text: string(b.buf)}}); ok || res.Action != OutcomeIntervened {
			out := string(b.buf)
			if ok {
				out = texts[0]
			}
			b.released = b.total
			if !emit(b.key, out, yield) {
				return errStopped
			}
			return nil
		}
	}
	g.yieldBlocked(SourceOutput, unmaskable(&Verdict{}), b.key.index, yield)
	return errStopped
}

// mergeSpans returns the union of the spans as sorted disjoint intervals.
func mergeSpans(spans []finding) []finding {
	iv := append([]finding(nil), spans...)
	sort.Slice(iv, func(i, j int) bool { return iv[i].start < iv[j].start })
	out := iv[:0]
	for _, s := range iv {
		if n := len(out); n > 0 && s.start < out[n-1].end {
			out[n-1].end = max(out[n-1].end, s.end)
			continue
		}
		out = append(out, s)
	}
	return out
}

// blocksWithin reports whether a blocked window result blocks the text
// [lo, hi) of the window: a finding that blocks without a place in the text
// (content filters and topics judge the whole window, a remote guard may
// not place a finding) does, and so does a placed one that overlaps
// [lo, hi). Blocked findings wholly before lo were judged by the window that
// released them; those from hi on are judged by the next window. A blocked
// result that shows no blocked finding blocks (fail closed).
func blocksWithin(res *Verdict, lo, hi int) bool {
	if !res.Blocked {
		return false
	}
	placed := false
	hit := false
	check := func(action string, sp *Span, whole bool) {
		if action != actBlocked {
			return
		}
		if sp == nil || whole {
			hit = true
			return
		}
		placed = true
		if sp.End > lo && sp.Start < hi {
			hit = true
		}
	}
	for _, a := range res.Assessments {
		if p := a.SensitiveInformationPolicy; p != nil {
			for _, e := range p.PiiEntities {
				check(e.Action, e.Span, false)
			}
			for _, e := range p.Regexes {
				check(e.Action, e.Span, false)
			}
		}
		if w := a.WordPolicy; w != nil {
			for _, e := range w.CustomWords {
				check(e.Action, e.Span, false)
			}
			for _, e := range w.ManagedWordLists {
				check(e.Action, e.Span, false)
			}
		}
		if c := a.ContentPolicy; c != nil {
			for _, e := range c.Filters {
				check(e.Action, e.Span, true)
			}
		}
		if t := a.TopicPolicy; t != nil {
			for _, e := range t.Topics {
				check(e.Action, e.Span, true)
			}
		}
		if gp := a.ContextualGroundingPolicy; gp != nil {
			for _, e := range gp.Filters {
				check(e.Action, nil, true)
			}
		}
	}
	return hit || !placed
}

// maskSpans returns the anonymized spans of a single-block result and
// whether every anonymized finding has one.
func maskSpans(res *Verdict) ([]finding, bool) {
	spans, ok := anonymizedSpans(res)
	for i := range spans {
		spans[i].block = 0
	}
	return spans, ok
}

// maskedTexts returns the masked text of each content block of an
// anonymizing result: its Outputs when there is one per block, else the
// blocks masked by the findings' spans. ok is false when neither is possible.
func maskedTexts(res *Verdict, content []Content) (texts []string, ok bool) {
	if len(res.Outputs) == len(content) {
		for _, o := range res.Outputs {
			texts = append(texts, o.Text)
		}
		return texts, true
	}
	spans, ok := anonymizedSpans(res)
	if !ok || len(spans) == 0 {
		return nil, false
	}
	for i, c := range content {
		texts = append(texts, mask(c.Text, i, spans))
	}
	return texts, true
}

// unmaskableMessage replaces content whose masks could not be applied.
const unmaskableMessage = "Sorry, this content was withheld by a guardrail."

// unmaskable turns an anonymizing result whose masks cannot be applied into
// a block, so that nothing unmasked is sent or released.
func unmaskable(res *Verdict) *Verdict {
	return &Verdict{Action: OutcomeIntervened, Blocked: true, Outputs: []Output{{Text: unmaskableMessage}},
		Assessments: res.Assessments, Usage: res.Usage, ActionReason: "masks could not be applied to the content"}
}

// streamSync holds each text and reasoning block back until its window has
// been assessed, and checks each tool call's input whole before its
// ToolCallDone.
func (g *guarded) streamSync(ctx context.Context, req *bedrockkit.Request, yield func(bedrockkit.StreamEvent, error) bool) {
	s := &syncBlocks{g: g, ctx: ctx, yield: yield, blocks: map[blockKey]*textBlock{}}
	for ev, err := range g.next.Stream(ctx, req) {
		if err != nil {
			if s.flush() == nil {
				yield(nil, err)
			}
			return
		}
		switch e := ev.(type) {
		case bedrockkit.TextDelta:
			if !s.text(blockKey{e.Index, false}, e.Text) {
				return
			}
			continue
		case bedrockkit.ReasoningDelta:
			if g.cfg.SkipReasoning {
				break
			}
			closed, ok := s.reasoning(e)
			if !ok {
				return
			}
			if !closed {
				continue
			}
			ev = bedrockkit.ReasoningDelta{Index: e.Index, Signature: e.Signature, Redacted: e.Redacted}
		case bedrockkit.ToolCallDelta:
			if !g.cfg.SkipTools {
				continue // the checked input is sent whole before ToolCallDone
			}
		case bedrockkit.ToolCallDone:
			if !g.cfg.SkipTools {
				call, ok := s.toolCall(e)
				if !ok {
					return
				}
				ev = bedrockkit.ToolCallDone{Index: e.Index, Call: call}
			}
		case bedrockkit.Stop, bedrockkit.StreamMetadata:
			if s.flush() != nil {
				return
			}
		}
		if !yield(ev, nil) {
			return
		}
	}
	s.flush()
}

// syncBlocks is streamSync's state: the open text and reasoning blocks, in
// the order they started.
type syncBlocks struct {
	g      *guarded
	ctx    context.Context
	yield  func(bedrockkit.StreamEvent, error) bool
	blocks map[blockKey]*textBlock
	order  []blockKey
}

// get returns block k, opening it if needed.
func (s *syncBlocks) get(k blockKey) *textBlock {
	b := s.blocks[k]
	if b == nil {
		b = &textBlock{key: k}
		s.blocks[k] = b
		s.order = append(s.order, k)
	}
	return b
}

// finish closes block k, releasing the rest of its text after a final
// assessment.
func (s *syncBlocks) finish(k blockKey) error {
	b := s.blocks[k]
	if b == nil {
		return nil
	}
	delete(s.blocks, k)
	s.order = slices.DeleteFunc(s.order, func(x blockKey) bool { return x == k })
	return s.g.advance(s.ctx, b, true, s.yield)
}

// flush closes every open block, oldest first.
func (s *syncBlocks) flush() error {
	for len(s.order) > 0 {
		if err := s.finish(s.order[0]); err != nil {
			return err
		}
	}
	return nil
}

// text adds text to block k and releases what has been assessed; false
// means the stream must end.
func (s *syncBlocks) text(k blockKey, text string) bool {
	b := s.get(k)
	b.append(text)
	return s.g.advance(s.ctx, b, false, s.yield) == nil
}

// reasoning handles a reasoning delta. closed reports that it carried a
// signature or redacted content, which closes the reasoning after its text
// is released, in order; ok false means the stream must end.
func (s *syncBlocks) reasoning(e bedrockkit.ReasoningDelta) (closed, ok bool) {
	k := blockKey{e.Index, true}
	if e.Text != "" && !s.text(k, e.Text) {
		return false, false
	}
	if e.Signature == "" && e.Redacted == nil {
		return false, true
	}
	return true, s.finish(k) == nil
}

// toolCall releases the open blocks, checks the call's input and sends it
// whole; false means the stream must end.
func (s *syncBlocks) toolCall(e bedrockkit.ToolCallDone) (bedrockkit.ToolCall, bool) {
	if s.flush() != nil {
		return e.Call, false
	}
	call, ok := s.g.checkToolCall(s.ctx, e, s.yield)
	if !ok {
		return call, false
	}
	if !s.yield(bedrockkit.ToolCallDelta{Index: e.Index, ID: call.ID, Name: call.Name, InputFragment: string(call.Input)}, nil) {
		return call, false
	}
	return call, true
}

func (g *guarded) checkToolCall(ctx context.Context, e bedrockkit.ToolCallDone, yield func(bedrockkit.StreamEvent, error) bool) (bedrockkit.ToolCall, bool) {
	call := e.Call
	res, err := g.guard.Assess(ctx, SourceOutput, Content{Text: string(call.Input)})
	if err != nil {
		yield(nil, fmt.Errorf("guardrail: assess tool call %s: %w", call.Name, err))
		return call, false
	}
	if res.Blocked {
		g.yieldBlocked(SourceOutput, res, e.Index, yield)
		return call, false
	}
	if res.Action == OutcomeIntervened {
		texts, ok := maskedTexts(res, []Content{{Text: string(call.Input)}})
		if !ok || !json.Valid([]byte(texts[0])) {
			g.yieldBlocked(SourceOutput, unmaskable(res), e.Index, yield)
			return call, false
		}
		call.Input = json.RawMessage(texts[0])
	}
	return call, true
}

// streamAsync releases events at once while one background goroutine
// assesses the new text of each block (with HoldBack bytes before it for
// context), so each byte is assessed about once however the stream is
// split; after a violation the stream is cut short. Before the stream ends,
// each block is assessed whole once more. The goroutine ends before Stream
// returns.
func (g *guarded) streamAsync(ctx context.Context, req *bedrockkit.Request, yield func(bedrockkit.StreamEvent, error) bool) {
	c := g.startAsyncChecker(ctx)
	defer c.stop()
	for ev, err := range g.next.Stream(ctx, req) {
		if v := c.violated(); v != nil {
			c.stop()
			g.yieldBlocked(SourceOutput, v, 0, yield)
			return
		}
		if err != nil {
			yield(nil, err)
			return
		}
		switch e := ev.(type) {
		case bedrockkit.TextDelta:
			c.add(blockKey{e.Index, false}, e.Text)
		case bedrockkit.ReasoningDelta:
			if !g.cfg.SkipReasoning && e.Text != "" {
				c.add(blockKey{e.Index, true}, e.Text)
			}
		case bedrockkit.ToolCallDone:
			if !g.cfg.SkipTools {
				call, ok := g.checkToolCall(ctx, e, yield)
				if !ok {
					return
				}
				ev = bedrockkit.ToolCallDone{Index: e.Index, Call: call}
			}
		case bedrockkit.Stop:
			if !c.final(ctx, yield) {
				return
			}
		}
		if !yield(ev, nil) {
			return
		}
	}
}

// asyncChecker is streamAsync's state: the background goroutine's queue of
// text it has not taken yet and the first violation it found, and each
// block's whole text for the final verdict.
type asyncChecker struct {
	g      *guarded
	actx   context.Context // the goroutine's; cancelled by stop
	cancel context.CancelFunc

	mu        sync.Mutex
	pending   map[blockKey]*strings.Builder // text the checker has not taken yet
	violation *Verdict

	wake chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	whole map[blockKey]*strings.Builder // used by the stream's goroutine only
	order []blockKey
}

// startAsyncChecker starts the background goroutine; stop ends it.
func (g *guarded) startAsyncChecker(ctx context.Context) *asyncChecker {
	actx, cancel := context.WithCancel(ctx)
	c := &asyncChecker{
		g: g, actx: actx, cancel: cancel,
		pending: map[blockKey]*strings.Builder{},
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		whole:   map[blockKey]*strings.Builder{},
	}
	c.wg.Add(1)
	go c.run()
	return c
}

// run is the background goroutine: woken by add, it assesses the pending
// text of each block after that block's tail, until stop.
func (c *asyncChecker) run() {
	defer c.wg.Done()
	tails := map[blockKey]string{}
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		for {
			k, s := c.take()
			if s == "" {
				break
			}
			tails[k] = c.check(tails[k] + s)
		}
	}
}

// take removes the pending text of one block that has some.
func (c *asyncChecker) take() (blockKey, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, p := range c.pending {
		if p.Len() > 0 {
			s := p.String()
			p.Reset()
			return key, s
		}
	}
	return blockKey{}, ""
}

// check assesses text, records the first violation, and returns the tail
// (the last HoldBack bytes, from a rune start) that gives the block's next
// text its context.
func (c *asyncChecker) check(text string) string {
	res, err := c.g.guard.Assess(c.actx, SourceOutput, Content{Text: text})
	if err == nil && res.Blocked {
		c.mu.Lock()
		if c.violation == nil {
			c.violation = res
		}
		c.mu.Unlock()
	}
	t := max(0, len(text)-c.g.cfg.HoldBack)
	for t < len(text) && !utf8.RuneStart(text[t]) {
		t++
	}
	return text[t:]
}

// stop ends the background goroutine and waits for it; it may be called
// more than once.
func (c *asyncChecker) stop() {
	c.once.Do(func() {
		close(c.done)
		c.cancel()
		c.wg.Wait()
	})
}

// violated returns the first violation found, or nil.
func (c *asyncChecker) violated() *Verdict {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.violation
}

// add records s as block k's new text and wakes the goroutine.
func (c *asyncChecker) add(k blockKey, s string) {
	w := c.whole[k]
	if w == nil {
		w = &strings.Builder{}
		c.whole[k] = w
		c.order = append(c.order, k)
	}
	w.WriteString(s)
	c.mu.Lock()
	p := c.pending[k]
	if p == nil {
		p = &strings.Builder{}
		c.pending[k] = p
	}
	p.WriteString(s)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// final gives the final verdict on each whole block before the stream ends:
// it stops the goroutine, then reports a violation it found or assesses each
// block whole. False means the stream must end.
func (c *asyncChecker) final(ctx context.Context, yield func(bedrockkit.StreamEvent, error) bool) bool {
	c.stop()
	if v := c.violated(); v != nil {
		c.g.yieldBlocked(SourceOutput, v, 0, yield)
		return false
	}
	for _, k := range c.order {
		res, err := c.g.guard.Assess(ctx, SourceOutput, Content{Text: c.whole[k].String()})
		if err != nil {
			yield(nil, fmt.Errorf("guardrail: assess streamed output: %w", err))
			return false
		}
		if res.Blocked {
			c.g.yieldBlocked(SourceOutput, res, k.index, yield)
			return false
		}
	}
	c.order = nil
	return true
}
