package bedrockkit

import "fmt"

// How parts and events holding JSON print: fmt shows a json.RawMessage as
// a list of bytes, so the types below print their JSON as text instead,
// also inside %v and %+v of the structs and slices that hold them
// (ToolResult.Parts, Message.Parts, ToolCallDone).

// String returns the JSON value as text.
func (j JSON) String() string { return string(j.Value) }

// String returns the call as %+v would, with the input as JSON text:
// {ID:tooluse_1 Name:get_weather Input:{"city":"Paris"}}.
func (c ToolCall) String() string {
	return fmt.Sprintf("{ID:%s Name:%s Input:%s}", c.ID, c.Name, c.Input)
}

// String returns the structured answer as JSON text.
func (v OutputValue) String() string { return string(v.Value) }
