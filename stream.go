package bedrockkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

// eventStream is what ConverseModel needs of *bedrockruntime.ConverseStreamEventStream.
type eventStream interface {
	Events() <-chan types.ConverseStreamOutput
	Close() error
	Err() error
}

// errRemote marks an error that came from the service through Err(), as
// opposed to one detected locally (idle timeout, malformed content).
type errRemote struct{ err error }

func (e errRemote) Error() string { return e.err.Error() }
func (e errRemote) Unwrap() error { return e.err }

// streamReader turns SDK stream events into bedrockkit Events: it buffers
// tool-call input per content block, checks it at contentBlockStop, and
// enforces the idle timeout.
type streamReader struct {
	es      eventStream
	idle    time.Duration
	timer   *time.Timer
	strict  bool
	tools   map[int]*toolBlock
	pending []StreamEvent
	gotStop bool
	closed  bool
	// cancel, if set, ends the context of the stream's HTTP request.
	cancel context.CancelFunc
}

type toolBlock struct {
	id, name string
	input    strings.Builder
}

func newStreamReader(es eventStream, idle time.Duration, strict bool) *streamReader {
	return &streamReader{es: es, idle: idle, timer: time.NewTimer(idle), strict: strict, tools: map[int]*toolBlock{}}
}

// close stops the timer and closes the SDK stream; it is idempotent.
func (r *streamReader) close() {
	if r.closed {
		return
	}
	r.closed = true
	r.timer.Stop()
	if r.cancel != nil {
		r.cancel()
	}
	_ = r.es.Close()
}

// next returns the next event; io.EOF after a complete stream; an errRemote
// for a failure reported by the service or the transport; any other error
// for a failure detected here (ctx done, idle timeout, malformed stream).
func (r *streamReader) next(ctx context.Context) (StreamEvent, error) {
	if len(r.pending) == 0 {
		// Idleness is measured while waiting, not while the consumer works
		// on the previous event.
		r.timer.Reset(r.idle)
	}
	for len(r.pending) == 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-r.timer.C:
			return nil, &IdleTimeoutError{Timeout: r.idle}
		case ev, ok := <-r.es.Events():
			if !ok {
				return nil, r.end(ctx)
			}
			r.timer.Reset(r.idle)
			if err := r.convert(ev); err != nil {
				return nil, err
			}
		}
	}
	ev := r.pending[0]
	r.pending[0] = nil
	r.pending = r.pending[1:]
	return ev, nil
}

// end is called when the event channel closes.
func (r *streamReader) end(ctx context.Context) error {
	if err := r.es.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errRemote{err}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !r.gotStop {
		return fmt.Errorf("bedrockkit: the stream ended without a messageStop event; the response is incomplete: %w", ErrMalformedStream)
	}
	return io.EOF
}

func (r *streamReader) emit(ev StreamEvent) { r.pending = append(r.pending, ev) }

func (r *streamReader) unsupported(what string) error {
	if r.strict {
		return fmt.Errorf("bedrockkit: the stream sent a %s, which bedrockkit does not represent (ConverseOptions.Strict is set): %w", what, ErrUnsupported)
	}
	return nil
}

// convert turns one SDK stream event into pending bedrockkit events.
func (r *streamReader) convert(ev types.ConverseStreamOutput) error {
	switch e := ev.(type) {
	case *types.ConverseStreamOutputMemberMessageStart:
		return nil
	case *types.ConverseStreamOutputMemberContentBlockStart:
		return r.blockStart(e.Value)
	case *types.ConverseStreamOutputMemberContentBlockDelta:
		return r.blockDelta(e.Value)
	case *types.ConverseStreamOutputMemberContentBlockStop:
		return r.finishTool(int(aws.ToInt32(e.Value.ContentBlockIndex)))
	case *types.ConverseStreamOutputMemberMessageStop:
		return r.messageStop(e.Value)
	case *types.ConverseStreamOutputMemberMetadata:
		md := StreamMetadata{Usage: fromUsage(e.Value.Usage), ServiceTier: fromServiceTier(e.Value.ServiceTier), LatencyMode: fromPerformance(e.Value.PerformanceConfig)}
		if e.Value.Metrics != nil && e.Value.Metrics.LatencyMs != nil {
			md.Latency = time.Duration(*e.Value.Metrics.LatencyMs) * time.Millisecond
		}
		r.emit(md)
		return nil
	case *types.UnknownUnionMember:
		return r.unsupported(fmt.Sprintf("stream event %q", e.Tag))
	case nil:
		return fmt.Errorf("bedrockkit: nil stream event: %w", ErrMalformedStream)
	}
	return r.unsupported(fmt.Sprintf("stream event %T", ev))
}

// blockStart opens a tool-call block (text and reasoning blocks have no
// start event).
func (r *streamReader) blockStart(e types.ContentBlockStartEvent) error {
	i := int(aws.ToInt32(e.ContentBlockIndex))
	s, ok := e.Start.(*types.ContentBlockStartMemberToolUse)
	if !ok {
		return r.unsupported(fmt.Sprintf("content block start %T", e.Start))
	}
	if _, dup := r.tools[i]; dup {
		return fmt.Errorf("bedrockkit: content block %d started twice: %w", i, ErrMalformedStream)
	}
	tb := &toolBlock{id: aws.ToString(s.Value.ToolUseId), name: aws.ToString(s.Value.Name)}
	if tb.id == "" || tb.name == "" {
		return fmt.Errorf("bedrockkit: tool call in content block %d has no ID or name: %w", i, ErrMalformedStream)
	}
	r.tools[i] = tb
	r.emit(ToolCallDelta{Index: i, ID: tb.id, Name: tb.name})
	return nil
}

// blockDelta converts a piece of text, tool input, citation or reasoning.
func (r *streamReader) blockDelta(e types.ContentBlockDeltaEvent) error {
	i := int(aws.ToInt32(e.ContentBlockIndex))
	switch d := e.Delta.(type) {
	case *types.ContentBlockDeltaMemberText:
		r.emit(TextDelta{Index: i, Text: d.Value})
	case *types.ContentBlockDeltaMemberToolUse:
		tb, ok := r.tools[i]
		if !ok {
			return fmt.Errorf("bedrockkit: tool input for content block %d arrived before its contentBlockStart: %w", i, ErrMalformedStream)
		}
		frag := aws.ToString(d.Value.Input)
		tb.input.WriteString(frag)
		r.emit(ToolCallDelta{Index: i, InputFragment: frag})
	case *types.ContentBlockDeltaMemberCitation:
		src, ok := fromCitation(d.Value.Title, d.Value.Source, d.Value.Location)
		if !ok {
			if err := r.unsupported(fmt.Sprintf("citation location %T", d.Value.Location)); err != nil {
				return err
			}
		}
		var cited strings.Builder
		for _, sc := range d.Value.SourceContent {
			cited.WriteString(aws.ToString(sc.Text))
		}
		src.Text = cited.String()
		r.emit(CitationDelta{Index: i, Source: src})
	case *types.ContentBlockDeltaMemberReasoningContent:
		switch rd := d.Value.(type) {
		case *types.ReasoningContentBlockDeltaMemberText:
			r.emit(ReasoningDelta{Index: i, Text: rd.Value})
		case *types.ReasoningContentBlockDeltaMemberSignature:
			r.emit(ReasoningDelta{Index: i, Signature: rd.Value})
		case *types.ReasoningContentBlockDeltaMemberRedactedContent:
			r.emit(ReasoningDelta{Index: i, Redacted: rd.Value})
		default:
			return r.unsupported(fmt.Sprintf("reasoning delta %T", rd))
		}
	default:
		return r.unsupported(fmt.Sprintf("content block delta %T", d))
	}
	return nil
}

// messageStop finishes the tool blocks the model never stopped (so a
// complete call is not lost; invalid JSON is still an error) and emits Stop.
func (r *streamReader) messageStop(e types.MessageStopEvent) error {
	for len(r.tools) > 0 {
		first := -1
		for i := range r.tools {
			if first < 0 || i < first {
				first = i
			}
		}
		if err := r.finishTool(first); err != nil {
			return err
		}
	}
	extra, err := readDocument(e.AdditionalModelResponseFields)
	if err != nil {
		return fmt.Errorf("bedrockkit: additionalModelResponseFields: %v: %w", err, ErrMalformedStream)
	}
	r.gotStop = true
	r.emit(Stop{Reason: StopReason(e.StopReason), AdditionalFields: extra})
	return nil
}

// finishTool validates the buffered input of the tool block at i (if any)
// and emits ToolCallDone.
func (r *streamReader) finishTool(i int) error {
	tb, ok := r.tools[i]
	if !ok {
		return nil // text and reasoning blocks need nothing at their stop
	}
	delete(r.tools, i)
	raw := bytes.TrimSpace([]byte(tb.input.String()))
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	if !json.Valid(raw) || raw[0] != '{' {
		return fmt.Errorf("bedrockkit: tool call %q (%s) input is not a JSON object: %q: %w", tb.name, tb.id, truncate(string(raw), 200), ErrMalformedStream)
	}
	var buf bytes.Buffer
	_ = json.Compact(&buf, raw)
	r.emit(ToolCallDone{Index: i, Call: ToolCall{ID: tb.id, Name: tb.name, Input: buf.Bytes()}})
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// classifyStream classifies an error reported by an open stream. An error
// with no service error code and no known class (such as an event frame
// whose checksum does not match) means the stream could not be decoded.
func classifyStream(err error) error {
	err = classify("ConverseStream", err)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Kind == nil && apiErr.Code == "" {
		apiErr.Kind = ErrMalformedStream
	}
	return err
}

// runStream opens the stream (with retries), then yields its events.
func (m *ConverseModel) runStream(parent context.Context, in *bedrockruntime.ConverseStreamInput, yield func(StreamEvent, error) bool) {
	// The stream's HTTP request lives in ctx: cancelling it aborts the body
	// read, so nothing outlives this function.
	ctx, cancel := context.WithCancel(parent)
	o := &streamOpener{m: m, in: in}
	defer func() {
		cancel()
		o.closeReader()
	}()
	first, err := o.open(ctx)
	if err != nil {
		yield(nil, err)
		return
	}
	relay(ctx, o.r, first, o.attempts, yield)
}

// streamOpener opens one ConverseStream call, retrying per the model's
// RetryPolicy.
type streamOpener struct {
	m        *ConverseModel
	in       *bedrockruntime.ConverseStreamInput
	r        *streamReader // the reader of the latest attempt, if it opened
	attempts int
}

func (o *streamOpener) closeReader() {
	if o.r != nil {
		o.r.close()
		o.r = nil
	}
}

// open returns the stream's first event. Opening is retried, and so is a
// stream that fails before its first event reaches the consumer. A stream
// that opened and then failed is reported as a *StreamError.
func (o *streamOpener) open(ctx context.Context) (StreamEvent, error) {
	var (
		first    StreamEvent
		started  bool
		localErr error
	)
	err := o.m.opts.Retry.do(ctx, "ConverseStream", func(ctx context.Context) error {
		var err error
		first, started, localErr, err = o.attempt(ctx)
		return err
	})
	if err == nil {
		err = localErr
	}
	if err != nil {
		if started {
			err = &StreamError{Err: err}
		}
		return nil, err
	}
	return first, nil
}

// attempt opens the stream once and reads its first event. It returns err
// for the retry loop to classify and maybe retry, or localErr, a failure
// detected here that is final; started says whether the stream opened.
func (o *streamOpener) attempt(ctx context.Context) (first StreamEvent, started bool, localErr, err error) {
	o.attempts++
	o.closeReader()
	idle := o.m.opts.IdleTimeout
	// The attempt's context carries the stream's HTTP request; the idle
	// timeout also bounds the wait for the response headers.
	actx, acancel := context.WithCancel(ctx)
	timer := time.AfterFunc(idle, acancel)
	out, err := o.m.client.ConverseStream(actx, o.in, disableSDKRetry, freshProtocol, safeRequestBody)
	if !timer.Stop() {
		if err == nil && out.GetStream() != nil {
			_ = out.GetStream().Close()
		}
		acancel()
		if ctx.Err() != nil {
			return nil, false, nil, ctx.Err()
		}
		return nil, false, &IdleTimeoutError{Timeout: idle}, nil
	}
	if err != nil {
		acancel()
		return nil, false, nil, err
	}
	es := out.GetStream()
	if es == nil {
		acancel()
		return nil, false, fmt.Errorf("bedrockkit: ConverseStream returned no event stream: %w", ErrMalformedStream), nil
	}
	o.r = newStreamReader(es, idle, o.m.opts.Strict)
	o.r.cancel = acancel
	ev, err := o.r.next(ctx)
	if err == nil {
		return ev, true, nil, nil
	}
	var remote errRemote
	if errors.As(err, &remote) {
		return nil, true, nil, classifyStream(remote.err)
	}
	return nil, true, err, nil
}

// relay yields the events of an open stream from first on. A failure ends
// it with a *StreamError saying whether content was yielded, and with the
// text yielded so far.
func relay(ctx context.Context, r *streamReader, first StreamEvent, attempts int, yield func(StreamEvent, error) bool) {
	var text strings.Builder
	content := false // whether text, reasoning or a tool call was yielded
	ev := first
	for {
		switch e := ev.(type) {
		case TextDelta:
			text.WriteString(e.Text)
			content = true
		case ReasoningDelta, ToolCallDelta, ToolCallDone:
			content = true
		}
		if !yield(ev, nil) {
			return
		}
		var err error
		ev, err = r.next(ctx)
		if err == io.EOF {
			return
		}
		if err != nil {
			yield(nil, &StreamError{Partial: content, Text: text.String(), Err: streamFailure(err, attempts)})
			return
		}
	}
}

// streamFailure classifies an error that ended an open stream: one from
// the service becomes an *APIError that counts the attempts.
func streamFailure(err error, attempts int) error {
	var remote errRemote
	if !errors.As(err, &remote) {
		return err
	}
	err = classifyStream(remote.err)
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		apiErr.Attempts = attempts
	}
	return err
}
