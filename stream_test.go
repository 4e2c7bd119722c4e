package bedrockkit

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"go.uber.org/goleak"
)

// fakeEventStream feeds scripted SDK events; after the last one it either
// closes the channel (with err as Err()) or, if stall is set, sends nothing.
type fakeEventStream struct {
	ch     chan types.ConverseStreamOutput
	err    error
	done   chan struct{}
	once   sync.Once
	closed chan struct{}
}

func newFakeEventStream(evs []types.ConverseStreamOutput, err error, stall bool) *fakeEventStream {
	f := &fakeEventStream{ch: make(chan types.ConverseStreamOutput), err: err, done: make(chan struct{}), closed: make(chan struct{})}
	go func() {
		defer close(f.closed)
		for _, ev := range evs {
			select {
			case f.ch <- ev:
			case <-f.done:
				return
			}
		}
		if stall {
			<-f.done
			return
		}
		close(f.ch)
	}()
	return f
}

func (f *fakeEventStream) Events() <-chan types.ConverseStreamOutput { return f.ch }
func (f *fakeEventStream) Err() error                                { return f.err }
func (f *fakeEventStream) Close() error {
	f.once.Do(func() { close(f.done) })
	<-f.closed
	return nil
}

func i32(v int32) *int32 { return &v }

func evStart(i int32, id, name string) types.ConverseStreamOutput {
	return &types.ConverseStreamOutputMemberContentBlockStart{Value: types.ContentBlockStartEvent{
		ContentBlockIndex: i32(i),
		Start:             &types.ContentBlockStartMemberToolUse{Value: types.ToolUseBlockStart{ToolUseId: &id, Name: &name}},
	}}
}

func evText(i int32, s string) types.ConverseStreamOutput {
	return &types.ConverseStreamOutputMemberContentBlockDelta{Value: types.ContentBlockDeltaEvent{ContentBlockIndex: i32(i), Delta: &types.ContentBlockDeltaMemberText{Value: s}}}
}

func evInput(i int32, s string) types.ConverseStreamOutput {
	return &types.ConverseStreamOutputMemberContentBlockDelta{Value: types.ContentBlockDeltaEvent{ContentBlockIndex: i32(i), Delta: &types.ContentBlockDeltaMemberToolUse{Value: types.ToolUseBlockDelta{Input: &s}}}}
}

func evStop(i int32) types.ConverseStreamOutput {
	return &types.ConverseStreamOutputMemberContentBlockStop{Value: types.ContentBlockStopEvent{ContentBlockIndex: i32(i)}}
}

func evMessageStop(r types.StopReason) types.ConverseStreamOutput {
	return &types.ConverseStreamOutputMemberMessageStop{Value: types.MessageStopEvent{StopReason: r}}
}

func evMetadata(in, out int32) types.ConverseStreamOutput {
	return &types.ConverseStreamOutputMemberMetadata{Value: types.ConverseStreamMetadataEvent{Usage: &types.TokenUsage{InputTokens: &in, OutputTokens: &out}}}
}

// drain reads a streamReader to its end.
func drain(t *testing.T, r *streamReader, ctx context.Context) ([]StreamEvent, error) {
	t.Helper()
	defer r.close()
	var evs []StreamEvent
	for {
		ev, err := r.next(ctx)
		if err == io.EOF {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

func TestStreamReaderToolFragments(t *testing.T) {
	defer goleak.VerifyNone(t)
	es := newFakeEventStream([]types.ConverseStreamOutput{
		&types.ConverseStreamOutputMemberMessageStart{Value: types.MessageStartEvent{Role: "assistant"}},
		evText(0, "Let me check."),
		evStop(0),
		evStart(1, "call-1", "get_weather"),
		evInput(1, `{"ci`),
		evInput(1, `ty": "Par`),
		evInput(1, `is", "days": [1, `),
		evInput(1, `2]}`),
		evStop(1),
		evMessageStop(types.StopReasonToolUse),
		evMetadata(10, 20),
	}, nil, false)
	evs, err := drain(t, newStreamReader(es, time.Minute, false), context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := Collect(func(yield func(StreamEvent, error) bool) {
		for _, ev := range evs {
			if !yield(ev, nil) {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	calls := resp.Message.ToolCalls()
	if len(calls) != 1 || calls[0].ID != "call-1" || string(calls[0].Input) != `{"city":"Paris","days":[1,2]}` {
		t.Fatalf("tool calls = %+v", calls)
	}
	if resp.Message.Text() != "Let me check." || resp.StopReason != StopToolUse || resp.Usage.InputTokens != 10 || resp.Usage.OutputTokens != 20 {
		t.Fatalf("response = %+v", resp)
	}
	var deltas int
	for _, ev := range evs {
		if d, ok := ev.(ToolCallDelta); ok && d.InputFragment != "" {
			deltas++
		}
	}
	if deltas != 4 {
		t.Errorf("got %d input fragments, want 4", deltas)
	}
}

func TestStreamReaderErrors(t *testing.T) {
	defer goleak.VerifyNone(t)
	remote := errors.New("boom")
	tests := []struct {
		name  string
		evs   []types.ConverseStreamOutput
		err   error
		stall bool
		check func(error) bool
	}{
		{"invalid tool json", []types.ConverseStreamOutput{evStart(0, "c", "t"), evInput(0, `{"a":`), evStop(0)}, nil, false,
			func(err error) bool { return errors.Is(err, ErrMalformedStream) }},
		{"input before start", []types.ConverseStreamOutput{evInput(0, `{}`)}, nil, false,
			func(err error) bool { return errors.Is(err, ErrMalformedStream) }},
		{"duplicate start", []types.ConverseStreamOutput{evStart(0, "c", "t"), evStart(0, "c", "t")}, nil, false,
			func(err error) bool { return errors.Is(err, ErrMalformedStream) }},
		{"no messageStop", []types.ConverseStreamOutput{evText(0, "partial")}, nil, false,
			func(err error) bool { return errors.Is(err, ErrMalformedStream) }},
		{"remote error", []types.ConverseStreamOutput{evText(0, "partial")}, remote, false,
			func(err error) bool { var r errRemote; return errors.As(err, &r) && r.err == remote }},
		{"idle", []types.ConverseStreamOutput{evText(0, "partial")}, nil, true,
			func(err error) bool {
				var ie *IdleTimeoutError
				return errors.Is(err, ErrStreamIdle) && errors.As(err, &ie)
			}},
		{"nil event", []types.ConverseStreamOutput{nil}, nil, false,
			func(err error) bool { return errors.Is(err, ErrMalformedStream) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := newFakeEventStream(tt.evs, tt.err, tt.stall)
			_, err := drain(t, newStreamReader(es, 50*time.Millisecond, false), context.Background())
			if err == nil || !tt.check(err) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestStreamReaderUnknownMembers(t *testing.T) {
	defer goleak.VerifyNone(t)
	evs := []types.ConverseStreamOutput{
		&types.UnknownUnionMember{Tag: "futureEvent"},
		&types.ConverseStreamOutputMemberContentBlockDelta{Value: types.ContentBlockDeltaEvent{ContentBlockIndex: i32(0), Delta: &types.ContentBlockDeltaMemberImage{}}},
		&types.ConverseStreamOutputMemberContentBlockStart{Value: types.ContentBlockStartEvent{ContentBlockIndex: i32(0), Start: &types.ContentBlockStartMemberImage{}}},
		evText(0, "ok"),
		evMessageStop(types.StopReasonEndTurn),
	}
	got, err := drain(t, newStreamReader(newFakeEventStream(evs, nil, false), time.Minute, false), context.Background())
	if err != nil || len(got) != 2 {
		t.Fatalf("lenient: events %v, err %v; want text and stop", got, err)
	}
	for i := range 3 {
		_, err := drain(t, newStreamReader(newFakeEventStream(evs[i:i+1], nil, false), time.Minute, true), context.Background())
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("strict, event %d: err = %v, want ErrUnsupported", i, err)
		}
	}
}

// A tool block the model never stopped is completed at messageStop.
func TestStreamReaderUnstoppedToolAtMessageStop(t *testing.T) {
	defer goleak.VerifyNone(t)
	evs := []types.ConverseStreamOutput{evStart(2, "c", "t"), evInput(2, `{"x":1}`), evMessageStop(types.StopReasonToolUse)}
	got, err := drain(t, newStreamReader(newFakeEventStream(evs, nil, false), time.Minute, false), context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done, ok := got[len(got)-2].(ToolCallDone)
	if !ok || string(done.Call.Input) != `{"x":1}` || done.Index != 2 {
		t.Fatalf("events = %#v", got)
	}
}

func TestStreamReaderContextCancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	es := newFakeEventStream([]types.ConverseStreamOutput{evText(0, "a")}, nil, true)
	r := newStreamReader(es, time.Minute, false)
	defer r.close()
	if _, err := r.next(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// FuzzStreamToolInput splits arbitrary input into fragments: the reader must
// never panic, and must either yield the compacted JSON or fail with
// ErrMalformedStream.
func FuzzStreamToolInput(f *testing.F) {
	f.Add(`{"city":"Paris"}`, 3)
	f.Add(`{"a":[1,2,{"b":null}]}`, 1)
	f.Add(`{"a":`, 2)
	f.Add(``, 5)
	f.Add(`"\u00e9"`, 1)
	f.Fuzz(func(t *testing.T, input string, chunk int) {
		if chunk <= 0 || chunk > 64 {
			chunk = 1 + (chunk&0xff)%64
		}
		evs := []types.ConverseStreamOutput{evStart(0, "c", "t")}
		for i := 0; i < len(input); i += chunk {
			evs = append(evs, evInput(0, input[i:min(i+chunk, len(input))]))
		}
		evs = append(evs, evStop(0), evMessageStop(types.StopReasonToolUse))
		got, err := drain(t, newStreamReader(newFakeEventStream(evs, nil, false), time.Minute, false), context.Background())
		if err != nil {
			if !errors.Is(err, ErrMalformedStream) {
				t.Fatalf("err = %v", err)
			}
			return
		}
		var done *ToolCallDone
		for _, ev := range got {
			if d, ok := ev.(ToolCallDone); ok {
				done = &d
			}
		}
		if done == nil || !json.Valid(done.Call.Input) {
			t.Fatalf("no valid ToolCallDone in %#v", got)
		}
	})
}

// hangingAPI never answers until its context ends.
type hangingAPI struct{}

func (hangingAPI) Converse(ctx context.Context, _ *bedrockruntime.ConverseInput, _ ...func(*bedrockruntime.Options)) (*bedrockruntime.ConverseOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (hangingAPI) ConverseStream(ctx context.Context, _ *bedrockruntime.ConverseStreamInput, _ ...func(*bedrockruntime.Options)) (*bedrockruntime.ConverseStreamOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// The idle timeout also bounds the wait for the stream's response headers,
// and cancellation ends that wait.
func TestStreamOpenHangs(t *testing.T) {
	defer goleak.VerifyNone(t)
	m, err := NewConverseModel(hangingAPI{}, "amazon.nova-lite-v1:0", ConverseOptions{IdleTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	req := &Request{Messages: []Message{UserText("hi")}}
	_, err = Collect(m.Stream(context.Background(), req))
	var ie *IdleTimeoutError
	var se *StreamError
	if !errors.As(err, &ie) || errors.As(err, &se) {
		t.Fatalf("err = %v, want a bare *IdleTimeoutError", err)
	}

	m, _ = NewConverseModel(hangingAPI{}, "amazon.nova-lite-v1:0", ConverseOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := Collect(m.Stream(ctx, req)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// A consumer slower than the idle timeout does not make the stream idle:
// only time spent waiting for the service counts.
func TestStreamReaderSlowConsumer(t *testing.T) {
	defer goleak.VerifyNone(t)
	es := newFakeEventStream([]types.ConverseStreamOutput{evText(0, "a"), evText(0, "b"), evMessageStop(types.StopReasonEndTurn)}, nil, false)
	r := newStreamReader(es, 30*time.Millisecond, false)
	defer r.close()
	for {
		_, err := r.next(context.Background())
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		time.Sleep(60 * time.Millisecond) // the consumer works longer than the idle timeout
	}
}

// BenchmarkStreamReader measures converting a 200-event stream (text deltas
// and a tool call in 50 fragments) into bedrockkit events.
func BenchmarkStreamReader(b *testing.B) {
	evs := []types.ConverseStreamOutput{&types.ConverseStreamOutputMemberMessageStart{Value: types.MessageStartEvent{Role: "assistant"}}}
	for range 148 {
		evs = append(evs, evText(0, "word "))
	}
	evs = append(evs, evStop(0), evStart(1, "c", "t"))
	for i := range 50 {
		if i == 0 {
			evs = append(evs, evInput(1, `{"k":[`))
		} else {
			evs = append(evs, evInput(1, `1,`))
		}
	}
	evs = append(evs, evInput(1, `0]}`), evStop(1), evMessageStop(types.StopReasonToolUse), evMetadata(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		r := newStreamReader(newFakeEventStream(evs, nil, false), time.Minute, false)
		for {
			_, err := r.next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		r.close()
	}
}
