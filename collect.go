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
func Collect(stream iter.Seq2[StreamEvent, error]) (*Response, error) {
	c := collector{blocks: map[int]*collectedBlock{}, resp: &Response{Message: Message{Role: RoleAssistant}}}
	var streamErr error
	for ev, err := range stream {
		if err == nil {
			err = c.add(ev)
		}
		if err != nil {
			streamErr = err
			break
		}
	}
	resp := c.response()
	if streamErr != nil && !c.gotUsage {
		resp.Usage.Estimated = true
	}
	return resp, streamErr
}

// collector gathers a stream's events by content block.
type collector struct {
	blocks   map[int]*collectedBlock
	resp     *Response
	gotUsage bool
	value    *OutputValue
}

// collectedBlock is one content block of a collected stream.
type collectedBlock struct {
	text      strings.Builder
	sources   []CitationSource
	reasoning *Reasoning
	call      *ToolCall
}

func (c *collector) block(i int) *collectedBlock {
	b, ok := c.blocks[i]
	if !ok {
		b = &collectedBlock{}
		c.blocks[i] = b
	}
	return b
}

// add folds one event into the response; a nil event is an error.
func (c *collector) add(ev StreamEvent) error {
	switch e := ev.(type) {
	case TextDelta:
		c.block(e.Index).text.WriteString(e.Text)
	case ReasoningDelta:
		b := c.block(e.Index)
		if b.reasoning == nil {
			b.reasoning = &Reasoning{}
		}
		b.reasoning.Text += e.Text
		b.reasoning.Signature += e.Signature
		b.reasoning.Redacted = append(b.reasoning.Redacted, e.Redacted...)
	case CitationDelta:
		b := c.block(e.Index)
		b.sources = append(b.sources, e.Source)
	case ToolCallDelta:
		// The complete call arrives in ToolCallDone.
	case ToolCallDone:
		call := e.Call
		c.block(e.Index).call = &call
	case Stop:
		c.resp.StopReason = e.Reason
		c.resp.AdditionalFields = e.AdditionalFields
	case StreamMetadata:
		c.resp.Usage = e.Usage
		c.resp.Latency = e.Latency
		c.resp.ServiceTier = e.ServiceTier
		c.resp.LatencyMode = e.LatencyMode
		c.gotUsage = true
	case OutputRetry:
		// The answer so far was invalid; a repaired one follows.
		clear(c.blocks)
	case OutputValue:
		v := e
		c.value = &v
	case nil:
		return fmt.Errorf("bedrockkit: nil event: %w", ErrMalformedStream)
	}
	return nil
}

// response returns the response with the blocks' parts in block order (a
// structured answer's value replacing their text).
func (c *collector) response() *Response {
	idx := make([]int, 0, len(c.blocks))
	for i := range c.blocks {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	resp := c.resp
	for _, i := range idx {
		b := c.blocks[i]
		if b.reasoning != nil {
			resp.Message.Parts = append(resp.Message.Parts, *b.reasoning)
		}
		switch {
		case len(b.sources) > 0 && c.value == nil:
			resp.Message.Parts = append(resp.Message.Parts, CitedText{Text: b.text.String(), Sources: b.sources})
		case b.text.Len() > 0 && c.value == nil:
			resp.Message.Parts = append(resp.Message.Parts, Text{Text: b.text.String()})
		}
		if b.call != nil {
			resp.Message.Parts = append(resp.Message.Parts, *b.call)
		}
	}
	if c.value != nil {
		resp.Message.Parts = append(resp.Message.Parts, Text{Text: string(c.value.Value)})
	}
	return resp
}
