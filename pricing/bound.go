package pricing

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/bedrockkit/bedrockkit"
)

// ErrUnbounded is returned (wrapped) for a call under a budget whose cost has
// no upper bound the meter can compute: a request without MaxTokens when
// MeterOptions.DefaultMaxTokens is not set, or a document whose text cannot be
// bounded by its size when TokenBounds.Document is not set. It wraps
// bedrockkit.ErrInvalidInput: fix the request or the meter's configuration.
var ErrUnbounded = fmt.Errorf("pricing: the call's cost has no upper bound: %w", bedrockkit.ErrInvalidInput)

// DefaultImageTokenBound is the default TokenBounds.Image.
const DefaultImageTokenBound = 8192

// Overheads InputTokenBound adds for what a model's prompt template writes
// around the content. They are assumptions, chosen well above what vendors
// document (Anthropic documents 159 to 530 tokens for its tool-use system
// prompt, a few tokens of role framing per message).
const (
	boundRequestOverhead = 64   // start-of-text, system framing, the assistant prefix
	boundMessageOverhead = 16   // role header and end-of-turn tokens per message
	boundPartOverhead    = 8    // block markers per content part
	boundToolsOverhead   = 1024 // the hidden tool-use system prompt, once when tools are given
	boundToolOverhead    = 32   // framing per tool definition
	boundExtraOverhead   = 2048 // additionalModelRequestFields may add built-in tools and prompts
	boundJSONFactor      = 3    // a model may re-render JSON with spaces and \u escapes
	boundEmbedOverhead   = 8    // special tokens per embedded text
	boundOutputOverhead  = 16   // unseen tokens (block and stop markers) per streamed output block
)

// TokenBounds are the per-item limits InputTokenBound assumes where a part's
// size does not bound its tokens. The zero value means the defaults.
type TokenBounds struct {
	// Image is the most input tokens one image can cost, whatever its size
	// (models downscale large images). 0 means DefaultImageTokenBound, above
	// the per-image counts vendors document (Claude: about 1,600; Llama 3.2
	// Vision: four 1,601-token tiles). Lower it to your model's figure for
	// tighter reservations.
	Image int
	// Document is the most input tokens one document can cost when its bytes
	// do not bound its text: PDF, DOC, DOCX, XLS and XLSX files are
	// compressed (a few hundred bytes can hold megabytes of text) and may be
	// read page by page as images, and a document given by S3 URI has no
	// size here. 0 means no bound: a call with such a document under a
	// budget is refused with ErrUnbounded (unless MeterOptions.InputCounter
	// counts it). Set it to your model's context window to allow them.
	Document int
}

// InputTokenBound returns an upper bound on the input tokens (input, cache
// read and cache write together) a model can bill for req, or an error
// wrapping ErrUnbounded when req holds a document the bounds cannot cover.
//
// The bound rests on one fact and a few stated assumptions. The fact: a
// byte-level BPE token (Claude, Llama 3, Mistral's Tekken, cl100k, o200k)
// covers at least one byte of text, so text never costs more tokens than its
// UTF-8 bytes, whatever it holds (hex, base64 and CJK text cost the most per
// byte; the chars/4 estimate undercounts hex by more than half). The
// assumptions, each with margin: per-request, per-message and per-part
// template overheads (64, 16 and 8 tokens); 1,024 tokens for a tool-use
// system prompt plus 32 per tool; JSON (tool schemas, tool inputs, JSON
// parts, plain-text documents, which Bedrock may reformat) at three tokens
// a byte; 2,048 tokens plus three a byte of its JSON for Request.Extra;
// TokenBounds.Image per image; TokenBounds.Document per compressed or
// S3 document; a Request.Output schema as one more tool definition.
//
// Bedrock's CountTokens (through MeterOptions.InputCounter) gives the exact
// count instead; a count from another model's tokenizer is not a bound.
func InputTokenBound(req *bedrockkit.Request, b TokenBounds) (int, error) {
	if req == nil {
		return boundRequestOverhead, nil
	}
	if b.Image <= 0 {
		b.Image = DefaultImageTokenBound
	}
	var n satInt
	n.add(boundRequestOverhead)
	if err := boundParts(&n, req.System, b); err != nil {
		return 0, err
	}
	for _, m := range req.Messages {
		n.add(boundMessageOverhead)
		if err := boundParts(&n, m.Parts, b); err != nil {
			return 0, err
		}
	}
	if len(req.Tools) > 0 {
		n.add(boundToolsOverhead)
	}
	for _, t := range req.Tools {
		n.add(boundToolOverhead)
		n.add(len(t.Name))
		n.add(len(t.Description))
		n.mul(boundJSONFactor, len(t.InputSchema))
	}
	n.add(len(req.ToolChoice.Name))
	if req.Output != nil {
		// The output schema travels natively (outputConfig) or as a forced
		// answer tool: bound it as a tool definition either way.
		n.add(boundToolsOverhead)
		n.add(boundToolOverhead)
		n.add(len(req.Output.Name()))
		n.add(len(req.Output.Description()))
		n.mul(boundJSONFactor, len(req.Output.WireJSON()))
	}
	if len(req.Extra) > 0 {
		raw, err := json.Marshal(req.Extra)
		if err != nil {
			return 0, fmt.Errorf("pricing: Request.Extra cannot be encoded, so its size is unknown: %v: %w", err, ErrUnbounded)
		}
		n.add(boundExtraOverhead)
		n.mul(boundJSONFactor, len(raw))
	}
	return n.v, nil
}

func boundParts(n *satInt, parts []bedrockkit.Part, b TokenBounds) error {
	for _, p := range parts {
		if _, ok := p.(bedrockkit.CachePoint); ok {
			continue
		}
		n.add(boundPartOverhead)
		switch p := p.(type) {
		case bedrockkit.Text:
			n.add(len(p.Text))
		case bedrockkit.Reasoning:
			n.add(len(p.Text))
			n.add(len(p.Signature))
			n.add(len(p.Redacted))
		case bedrockkit.ToolCall:
			n.add(len(p.ID))
			n.add(len(p.Name))
			n.mul(boundJSONFactor, len(p.Input))
		case bedrockkit.ToolResult:
			n.add(len(p.CallID))
			if err := boundParts(n, p.Parts, b); err != nil {
				return err
			}
		case bedrockkit.JSON:
			n.mul(boundJSONFactor, len(p.Value))
		case bedrockkit.Image:
			n.add(b.Image)
		case bedrockkit.Document:
			n.add(len(p.Name))
			if err := boundDocument(n, p, b); err != nil {
				return err
			}
		default:
			return fmt.Errorf("pricing: a %T part has no known token bound: %w", p, ErrUnbounded)
		}
	}
	return nil
}

func boundDocument(n *satInt, d bedrockkit.Document, b TokenBounds) error {
	plain := false
	switch d.Format {
	case bedrockkit.DocTXT, bedrockkit.DocMD, bedrockkit.DocCSV, bedrockkit.DocHTML:
		plain = true
	}
	if d.S3URI == "" && (plain || d.Bytes == nil) {
		// Plain text (given as Text or as the bytes of a text format):
		// its bytes bound its tokens, with room for reformatting.
		n.mul(boundJSONFactor, len(d.Text))
		n.mul(boundJSONFactor, len(d.Bytes))
		return nil
	}
	if b.Document <= 0 {
		what := fmt.Sprintf("a %q document of %d bytes", d.Format, len(d.Bytes))
		if d.S3URI != "" {
			what = "a document given by S3 URI"
		}
		return fmt.Errorf("pricing: %s can hold any amount of text, so a budget cannot bound the call; set MeterOptions.Bounds.Document to the most tokens one document may cost (your model's context window), or count the input exactly with MeterOptions.InputCounter: %w", what, ErrUnbounded)
	}
	n.add(b.Document)
	n.mul(boundJSONFactor, len(d.Text))
	return nil
}

// satInt is a non-negative int that saturates instead of overflowing.
type satInt struct{ v int }

func (s *satInt) add(x int) {
	if x <= 0 {
		return
	}
	if s.v > math.MaxInt-x {
		s.v = math.MaxInt
		return
	}
	s.v += x
}

func (s *satInt) mul(k, x int) {
	if x <= 0 {
		return
	}
	if x > math.MaxInt/k {
		s.v = math.MaxInt
		return
	}
	s.add(k * x)
}

// InputCounter counts the input tokens a model will bill for a request
// exactly, with that model's own tokenizer (Bedrock's CountTokens API is
// one). With MeterOptions.InputCounter set, budgets reserve its count instead
// of InputTokenBound. The count must be the one Bedrock bills (input plus
// cache read and cache write tokens); a count from another model's
// tokenizer is not enough (cl100k undercounts Claude's tokens on some
// texts). An error, or a count that is negative, makes the meter fall back
// to InputTokenBound; return an error wrapping bedrockkit.ErrUnsupported
// for models the counter does not serve (the fallback is then silent).
type InputCounter interface {
	CountInputTokens(ctx context.Context, modelID string, req *bedrockkit.Request) (int, error)
}

// callBound is a call's reservation and the terms it was computed on, kept
// to settle a stream whose usage never arrived.
type callBound struct {
	inTokens  int    // input tokens bound (or exact count)
	outTokens int    // output cap
	inRate    uint64 // highest rate an input-side token can be billed at
	outRate   uint64 // the output rate (the highest rate when unset)
	amount    Money  // the reservation
	counted   bool   // inTokens is the InputCounter's count
}

// checkCount reports a count that fell short of the billed input.
func (m *Meter) checkCount(ctx context.Context, cb callBound, modelID string, u bedrockkit.Usage) {
	if !cb.counted {
		return
	}
	if billed := u.InputTokens + u.CacheReadTokens + u.CacheWriteTokens; billed > cb.inTokens {
		m.report(ctx, &CountMismatchError{ModelID: modelID, Counted: cb.inTokens, Billed: billed})
	}
}

// lineRounding covers Row.Cost rounding each of its four lines up by at most
// half a nano-dollar.
const lineRounding = 2

// boundRates returns the rates a reservation prices input-side and output
// tokens at: input, cache read and the cache-write rate the call is priced
// at (as finish prices it), and the output rate.
func boundRates(p Price, req *bedrockkit.Request) (in, out uint64) {
	write := p.CacheWrite5m
	if cacheTTL(req) == bedrockkit.CacheTTL1h {
		write = p.CacheWrite1h
	}
	rate := p.Input.perM
	for _, r := range []Rate{p.CacheRead, write} {
		if r.set && r.perM > rate {
			rate = r.perM
		}
	}
	outRate := p.Output.perM
	if !p.Output.set {
		outRate = max(rate, p.CacheWrite1h.perM, p.CacheWrite5m.perM)
	}
	return uint64(rate), uint64(outRate)
}

// cost returns the most in input-side and out output tokens can cost,
// with the rounding margin, saturating.
func (c *callBound) cost(in, out int) Money {
	if c.inRate == 0 && c.outRate == 0 {
		return 0 // committed capacity (Provisioned Throughput, reserved tier): nothing per token
	}
	return satAdd(satAdd(ceilMillionths(uint64(max(in, 0)), c.inRate), ceilMillionths(uint64(max(out, 0)), c.outRate)), lineRounding)
}

func satAdd(a, b Money) Money {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
