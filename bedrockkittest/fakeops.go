package bedrockkittest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
)

// serveInvokeModelStream answers InvokeModelWithResponseStream with the
// scripted Reply.Chunks, each a "chunk" event whose payload is
// {"bytes": base64(chunk)}, as Bedrock frames a model's native streaming
// JSON. Reply.Interrupt applies as for ConverseStream.
func (f *FakeBedrock) serveInvokeModelStream(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	modelID := r.PathValue("modelId")
	f.note(OpInvokeModelWithResponseStream, modelID, r, body)
	if fault := f.validator().checkModel(OpInvokeModelWithResponseStream, modelID); fault != nil {
		writeFault(w, fault)
		return
	}
	rep, ok := f.take(OpInvokeModelWithResponseStream)
	switch {
	case !ok:
		noReply(w, OpInvokeModelWithResponseStream)
		return
	case rep.Fault != nil:
		writeFault(w, rep.Fault)
		return
	}
	evs := make([]wireEvent, 0, len(rep.Chunks))
	for i, c := range rep.Chunks {
		if !json.Valid(c) {
			writeFault(w, &Fault{Code: "InternalServerException", Message: fmt.Sprintf("fakebedrock: invalid scripted reply: chunk %d is not valid JSON", i)})
			return
		}
		evs = append(evs, wireEvent{"chunk", map[string]any{"bytes": base64.StdEncoding.EncodeToString(c)}})
	}
	f.sendEvents(w, r, evs, rep.Interrupt)
}

// serveCountTokens answers CountTokens. The request is validated like a
// Converse request (and Bedrock counts only some models, by base model
// ID); the count is Reply.Usage.InputTokens when a reply is queued, else
// an estimate: for a converse input, one token per four characters
// (rounded up) of every text, tool name, description and schema, tool
// input and result, plus 3 per message; for an invokeModel input, one per
// four characters of the body.
func (f *FakeBedrock) serveCountTokens(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	modelID := r.PathValue("modelId")
	f.note(OpCountTokens, modelID, r, body)
	v := f.validator()
	if fault := v.checkModel(OpCountTokens, modelID); fault != nil {
		writeFault(w, fault)
		return
	}
	if fault := v.checkCountModel(modelID); fault != nil {
		writeFault(w, fault)
		return
	}
	var req struct {
		Input struct {
			Converse    json.RawMessage `json:"converse"`
			InvokeModel *struct {
				Body []byte `json:"body"`
			} `json:"invokeModel"`
		} `json:"input"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeFault(w, validationFault("fakebedrock: request body is not a valid CountTokens request: %v", err))
		return
	}
	var tokens int
	switch {
	case len(req.Input.Converse) > 0 && req.Input.InvokeModel == nil:
		if fault := v.checkConverse(req.Input.Converse); fault != nil {
			writeFault(w, fault)
			return
		}
		tokens = estimateConverseTokens(req.Input.Converse)
	case req.Input.InvokeModel != nil && len(req.Input.Converse) == 0:
		tokens = estimateTokens(string(req.Input.InvokeModel.Body))
	default:
		writeFault(w, validationFault("fakebedrock: CountTokens input must set exactly one of converse and invokeModel"))
		return
	}
	rep, ok := f.take(OpCountTokens)
	switch {
	case ok && rep.Fault != nil:
		writeFault(w, rep.Fault)
		return
	case ok && len(rep.Body) > 0:
		writeJSON(w, http.StatusOK, rep.Body)
		return
	case ok:
		tokens = rep.Usage.InputTokens
	}
	out, _ := json.Marshal(map[string]any{"inputTokens": tokens})
	writeJSON(w, http.StatusOK, out)
}

// estimateConverseTokens estimates the input tokens of a Converse body: a
// quarter of the characters of every string in messages, system and
// toolConfig (rounded up per string), plus 3 per message.
func estimateConverseTokens(body []byte) int {
	var req struct {
		Messages   []json.RawMessage `json:"messages"`
		System     json.RawMessage   `json:"system"`
		ToolConfig json.RawMessage   `json:"toolConfig"`
	}
	if json.Unmarshal(body, &req) != nil {
		return 0
	}
	n := 3 * len(req.Messages)
	for _, m := range append(req.Messages, req.System, req.ToolConfig) {
		n += stringTokens(m)
	}
	return n
}

// stringTokens sums estimateTokens over the strings of a JSON value,
// skipping object keys and the structural values role, format and type.
func stringTokens(raw json.RawMessage) int {
	if len(bytes.TrimSpace(raw)) == 0 {
		return 0
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	var walk func(v any, key string) int
	walk = func(v any, key string) int {
		switch x := v.(type) {
		case string:
			switch key {
			case "role", "format", "type", "status", "toolUseId":
				return 0
			}
			return estimateTokens(x)
		case []any:
			n := 0
			for _, e := range x {
				n += walk(e, key)
			}
			return n
		case map[string]any:
			n := 0
			for k, e := range x {
				n += walk(e, k)
			}
			return n
		}
		return 0
	}
	return walk(v, "")
}
