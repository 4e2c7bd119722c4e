package bedrockkit

import (
	"encoding/json"
	"testing"
)

// A streamed forced-tool answer given together with another tool call ends
// the turn, as Generate does: the other call's events are dropped, never
// passed on for a caller to run. Without the answer tool, the other call's
// events are released before Stop, unchanged.
func TestAnswerStreamDropsOtherCallsWithTheAnswer(t *testing.T) {
	s, err := NewOutputSchema("answer", "the answer", json.RawMessage(`{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	other := []StreamEvent{
		ToolCallDelta{Index: 0, ID: "t1", Name: "lookup"},
		ToolCallDelta{Index: 0, InputFragment: `{"q":1}`},
		ToolCallDone{Index: 0, Call: ToolCall{ID: "t1", Name: "lookup", Input: json.RawMessage(`{"q":1}`)}},
	}
	answer := []StreamEvent{
		ToolCallDelta{Index: 1, ID: "t2", Name: s.Name()},
		ToolCallDelta{Index: 1, InputFragment: `{"x":1}`},
		ToolCallDone{Index: 1, Call: ToolCall{ID: "t2", Name: s.Name(), Input: json.RawMessage(`{"x":1}`)}},
	}
	run := func(evs []StreamEvent) []StreamEvent {
		c := newAnswerStream(s, true)
		var out []StreamEvent
		for _, e := range evs {
			out = append(out, c.convert(e)...)
		}
		return out
	}
	out := run(append(append(append([]StreamEvent{}, other...), answer...), Stop{Reason: StopToolUse}))
	for _, e := range out {
		switch e.(type) {
		case ToolCallDelta, ToolCallDone:
			t.Fatalf("a tool call event passed with the answer: %#v", out)
		}
	}
	if len(out) != 2 || out[0] != (TextDelta{Index: 1, Text: `{"x":1}`}) || out[1].(Stop).Reason != StopEndTurn {
		t.Fatalf("events %#v", out)
	}
	out = run(append(append([]StreamEvent{}, other...), Stop{Reason: StopToolUse}))
	if len(out) != 4 || out[2].(ToolCallDone).Call.Name != "lookup" || out[3].(Stop).Reason != StopToolUse {
		t.Fatalf("without the answer tool: events %#v", out)
	}
}
