package bedrockkit

import (
	"fmt"
	"iter"
	"sort"
	"strings"
)

// Collect drains a stream into a Response: text and reasoning deltas are
// joined per content block (text with CitationDelta sources becomes a
// CitedText part), tool calls are taken from ToolCallDone events, and the
// stop reason, usage, latency and service tier from Stop and Metadata. In a
// structured stream (see StructuredOutput) an OutputRetry discards what
// came before it and the final OutputValue becomes the message's text. If
// the stream yields an error, Collect returns it together with the partial
// response gathered so far (its Usage marked Estimated when no Metadata
// arrived).
func Collect(stream iter.Seq2[Event, error]) (*Response, error) {
	type block struct {
		text      strings.Builder
		sources   []CitationSource
		reasoning *Reasoning
		call      *ToolCall
	}
	blocks := map[int]*block{}
	get := func(i int) *block {
		b, ok := blocks[i]
		if !ok {
			b = &block{}
			blocks[i] = b
		}
		return b
	}
	resp := &Response{Message: Message{Role: RoleAssistant}}
	gotUsage := false
	var value *OutputValue
	var streamErr error
	for ev, err := range stream {
		if err != nil {
			streamErr = err
			break
		}
		switch e := ev.(type) {
		case TextDelta:
			get(e.Index).text.WriteString(e.Text)
		case ReasoningDelta:
			b := get(e.Index)
			if b.reasoning == nil {
				b.reasoning = &Reasoning{}
			}
			b.reasoning.Text += e.Text
			b.reasoning.Signature += e.Signature
			b.reasoning.Redacted = append(b.reasoning.Redacted, e.Redacted...)
		case CitationDelta:
			b := get(e.Index)
			b.sources = append(b.sources, e.Source)
		case ToolCallDelta:
			// The complete call arrives in ToolCallDone.
		case ToolCallDone:
			c := e.Call
			get(e.Index).call = &c
		case Stop:
			resp.StopReason = e.Reason
			resp.AdditionalFields = e.AdditionalFields
		case Metadata:
			resp.Usage = e.Usage
			resp.Latency = e.Latency
			resp.ServiceTier = e.ServiceTier
			resp.LatencyMode = e.LatencyMode
			gotUsage = true
		case OutputRetry:
			// The answer so far was invalid; a repaired one follows.
			clear(blocks)
		case OutputValue:
			v := e
			value = &v
		case nil:
			streamErr = fmt.Errorf("%w: nil event", ErrMalformedStream)
		}
		if streamErr != nil {
			break
		}
	}
	idx := make([]int, 0, len(blocks))
	for i := range blocks {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		b := blocks[i]
		if b.reasoning != nil {
			resp.Message.Parts = append(resp.Message.Parts, *b.reasoning)
		}
		switch {
		case len(b.sources) > 0 && value == nil:
			resp.Message.Parts = append(resp.Message.Parts, CitedText{Text: b.text.String(), Sources: b.sources})
		case b.text.Len() > 0 && value == nil:
			resp.Message.Parts = append(resp.Message.Parts, Text{Text: b.text.String()})
		}
		if b.call != nil {
			resp.Message.Parts = append(resp.Message.Parts, *b.call)
		}
	}
	if value != nil {
		resp.Message.Parts = append(resp.Message.Parts, Text{Text: string(value.Value)})
	}
	if streamErr != nil && !gotUsage {
		resp.Usage.Estimated = true
	}
	return resp, streamErr
}
