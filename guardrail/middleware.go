package guardrail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
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
// MiddlewareConfig.BlockAsError is set.
type BlockedError struct {
	Source Source
	Result *Result
}

// Error names the direction and the blocked message.
func (e *BlockedError) Error() string {
	msg := ""
	if e.Result != nil && len(e.Result.Outputs) > 0 {
		msg = ": " + e.Result.Outputs[0].Text
	}
	return fmt.Sprintf("bedrockkit: guardrail blocked the %s%s; inspect Result.Assessments for why", strings.ToLower(string(e.Source)), msg)
}

// Unwrap returns bedrockkit.ErrGuardrailBlocked.
func (e *BlockedError) Unwrap() error { return bedrockkit.ErrGuardrailBlocked }

// MiddlewareConfig configures the guarding middleware. Only Guard is required.
type MiddlewareConfig struct {
	Guard Guard
	// Mode is StreamSync (default) or StreamAsync.
	Mode StreamMode
	// HoldBack is how many bytes of streamed text are held until more text
	// arrives (sync mode); 0 means MaxEntityLen. A PII entity or blocked word
	// no longer than HoldBack is never released partly.
	HoldBack int
	// BlockAsError makes a blocked call return a *BlockedError (wrapping
	// bedrockkit.ErrGuardrailBlocked) instead of, as Bedrock does, a normal
	// response holding the blocked message with StopReason guardrail_intervened.
	BlockAsError bool
	// SkipTools turns off guarding of tool calls (model output) and tool
	// results (model input). Bedrock itself does not guard them; by default
	// this middleware does.
	SkipTools bool
}

// Middleware guards a model with g using the defaults: sync streaming,
// blocked calls answered Bedrock-style, tool inputs and results guarded.
func Middleware(g Guard) bedrockkit.Middleware { return MiddlewareConfig{Guard: g}.Middleware() }

// Middleware returns the configured middleware.
//
// Input: the text and tool results of the last message are assessed before
// the model is called (as AWS recommends, earlier turns were assessed when
// they were new). Blocked input never reaches the model; anonymized input is
// sent masked. Output: response text and tool-call inputs are assessed;
// blocked output is replaced by the blocked message, anonymized output masked.
func (c MiddlewareConfig) Middleware() bedrockkit.Middleware {
	if c.HoldBack <= 0 {
		c.HoldBack = MaxEntityLen
	}
	if c.Mode == "" {
		c.Mode = StreamSync
	}
	return func(m bedrockkit.Model) bedrockkit.Model { return &guarded{cfg: c, next: m} }
}

type guarded struct {
	cfg  MiddlewareConfig
	next bedrockkit.Model
}

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
func (g *guarded) checkInput(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Request, *Result, error) {
	slots, content := g.inputSlots(req)
	if len(content) == 0 {
		return req, nil, nil
	}
	res, err := g.cfg.Guard.Assess(ctx, SourceInput, content...)
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

func (g *guarded) blockedResponse(src Source, res *Result) (*bedrockkit.Response, error) {
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
	res, err := g.cfg.Guard.Assess(ctx, SourceOutput, content...)
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
func (g *guarded) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.Event, error] {
	return func(yield func(bedrockkit.Event, error) bool) {
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

func (g *guarded) yieldBlocked(src Source, res *Result, index int, yield func(bedrockkit.Event, error) bool) {
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

// textBlock is the sync-mode state of one streamed text block.
type textBlock struct {
	acc      strings.Builder
	released int // original bytes already released
	assessed int // length of acc at the last assessment
}

var errStopped = errors.New("stopped")

// release assesses the block's text and yields what is safe: everything up to
// the hold-back window (or all of it when final), never cutting a finding.
// It returns errStopped when the stream must end (blocked or caller gone).
func (g *guarded) release(ctx context.Context, idx int, b *textBlock, final bool, yield func(bedrockkit.Event, error) bool) error {
	text := b.acc.String()
	if !final && len(text)-b.assessed < 32 && len(text)-b.released <= g.cfg.HoldBack {
		return nil
	}
	b.assessed = len(text)
	res, err := g.cfg.Guard.Assess(ctx, SourceOutput, Content{Text: text})
	if err != nil {
		yield(nil, fmt.Errorf("guardrail: assess streamed output: %w", err))
		return errStopped
	}
	if res.Blocked {
		g.yieldBlocked(SourceOutput, res, idx, yield)
		return errStopped
	}
	cut := len(text)
	if !final {
		cut = len(text) - g.cfg.HoldBack
		if cut <= b.released {
			return nil
		}
	}
	spans, ok := maskSpans(res)
	if !ok && res.Action == OutcomeIntervened {
		// Findings without a place in the text (a remote guard could not
		// locate them): release nothing until the end, then the guard's own
		// masked text if nothing was released yet, else block.
		if !final {
			return nil
		}
		if b.released == 0 && len(res.Outputs) == 1 {
			b.released = len(text)
			if !yield(bedrockkit.TextDelta{Index: idx, Text: res.Outputs[0].Text}, nil) {
				return errStopped
			}
			return nil
		}
		g.yieldBlocked(SourceOutput, unmaskable(res), idx, yield)
		return errStopped
	}
	for moved := true; moved; {
		moved = false
		for _, s := range spans {
			if s.start < cut && cut < s.end {
				cut = s.start
				moved = true
			}
		}
	}
	for cut > b.released && cut < len(text) && !utf8.RuneStart(text[cut]) {
		cut--
	}
	if cut <= b.released {
		return nil
	}
	var fs []finding
	for _, s := range spans {
		if s.start >= b.released && s.end <= cut {
			fs = append(fs, finding{0, s.start - b.released, s.end - b.released, ActionAnonymize, s.mask})
		} else if s.start < b.released && s.end > b.released {
			// Detected only now across an earlier release: mask the rest of it.
			fs = append(fs, finding{0, 0, min(s.end, cut) - b.released, ActionAnonymize, s.mask})
		}
	}
	piece := mask(text[b.released:cut], 0, fs)
	b.released = cut
	if piece == "" {
		return nil
	}
	if !yield(bedrockkit.TextDelta{Index: idx, Text: piece}, nil) {
		return errStopped
	}
	return nil
}

// maskSpans returns the anonymized spans of a single-block result and
// whether every anonymized finding has one.
func maskSpans(res *Result) ([]finding, bool) {
	spans, ok := anonymizedSpans(res)
	for i := range spans {
		spans[i].block = 0
	}
	return spans, ok
}

// maskedTexts returns the masked text of each content block of an
// anonymizing result: its Outputs when there is one per block, else the
// blocks masked by the findings' spans. ok is false when neither is possible.
func maskedTexts(res *Result, content []Content) (texts []string, ok bool) {
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
func unmaskable(res *Result) *Result {
	return &Result{Action: OutcomeIntervened, Blocked: true, Outputs: []Output{{Text: unmaskableMessage}},
		Assessments: res.Assessments, Usage: res.Usage, ActionReason: "masks could not be applied to the content"}
}

func (g *guarded) streamSync(ctx context.Context, req *bedrockkit.Request, yield func(bedrockkit.Event, error) bool) {
	blocks := map[int]*textBlock{}
	var order []int
	flush := func() error {
		for _, i := range order {
			if err := g.release(ctx, i, blocks[i], true, yield); err != nil {
				return err
			}
		}
		order = nil
		return nil
	}
	for ev, err := range g.next.Stream(ctx, req) {
		if err != nil {
			if flush() == nil {
				yield(nil, err)
			}
			return
		}
		switch e := ev.(type) {
		case bedrockkit.TextDelta:
			b := blocks[e.Index]
			if b == nil {
				b = &textBlock{}
				blocks[e.Index] = b
				order = append(order, e.Index)
			}
			b.acc.WriteString(e.Text)
			if g.release(ctx, e.Index, b, false, yield) != nil {
				return
			}
			continue
		case bedrockkit.ToolCallDelta:
			if !g.cfg.SkipTools {
				continue // the checked input is sent whole before ToolCallDone
			}
		case bedrockkit.ToolCallDone:
			if !g.cfg.SkipTools {
				if flush() != nil {
					return
				}
				call, ok := g.checkToolCall(ctx, e, yield)
				if !ok {
					return
				}
				if !yield(bedrockkit.ToolCallDelta{Index: e.Index, ID: call.ID, Name: call.Name, InputFragment: string(call.Input)}, nil) {
					return
				}
				ev = bedrockkit.ToolCallDone{Index: e.Index, Call: call}
			}
		case bedrockkit.Stop, bedrockkit.Metadata:
			if flush() != nil {
				return
			}
		}
		if !yield(ev, nil) {
			return
		}
	}
	flush()
}

func (g *guarded) checkToolCall(ctx context.Context, e bedrockkit.ToolCallDone, yield func(bedrockkit.Event, error) bool) (bedrockkit.ToolCall, bool) {
	call := e.Call
	res, err := g.cfg.Guard.Assess(ctx, SourceOutput, Content{Text: string(call.Input)})
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
// assesses the text so far; after a violation the stream is cut short. The
// goroutine ends before Stream returns.
func (g *guarded) streamAsync(ctx context.Context, req *bedrockkit.Request, yield func(bedrockkit.Event, error) bool) {
	actx, cancel := context.WithCancel(ctx)
	snaps := make(chan string, 1)
	var mu sync.Mutex
	var violation *Result
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for s := range snaps {
			res, err := g.cfg.Guard.Assess(actx, SourceOutput, Content{Text: s})
			if err == nil && res.Blocked {
				mu.Lock()
				if violation == nil {
					violation = res
				}
				mu.Unlock()
			}
		}
	}()
	var once sync.Once
	stopWorker := func() {
		once.Do(func() {
			close(snaps)
			cancel()
			wg.Wait()
		})
	}
	defer stopWorker()
	violated := func() *Result {
		mu.Lock()
		defer mu.Unlock()
		return violation
	}
	var text strings.Builder
	final := false
	for ev, err := range g.next.Stream(ctx, req) {
		if v := violated(); v != nil && !final {
			stopWorker()
			g.yieldBlocked(SourceOutput, v, 0, yield)
			return
		}
		if err != nil {
			yield(nil, err)
			return
		}
		switch e := ev.(type) {
		case bedrockkit.TextDelta:
			text.WriteString(e.Text)
			if !final {
				select { // keep only the newest snapshot
				case <-snaps:
				default:
				}
				snaps <- text.String()
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
			// Final verdict on the whole text before the stream ends.
			stopWorker()
			final = true
			if v := violated(); v != nil {
				g.yieldBlocked(SourceOutput, v, 0, yield)
				return
			}
			res, err := g.cfg.Guard.Assess(ctx, SourceOutput, Content{Text: text.String()})
			if err != nil {
				yield(nil, fmt.Errorf("guardrail: assess streamed output: %w", err))
				return
			}
			if res.Blocked {
				g.yieldBlocked(SourceOutput, res, 0, yield)
				return
			}
		}
		if !yield(ev, nil) {
			return
		}
	}
}
