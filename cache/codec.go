package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

// wirePart is the JSON form of a bedrockkit.Part, used both for cache keys
// and for stored responses. T names the type.
type wirePart struct {
	T         string          `json:"t"`
	Text      string          `json:"text,omitempty"`
	Format    string          `json:"format,omitempty"`
	Bytes     []byte          `json:"bytes,omitempty"`
	S3URI     string          `json:"s3,omitempty"`
	Name      string          `json:"name,omitempty"`
	ID        string          `json:"id,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	Value     json.RawMessage `json:"value,omitempty"`
	Parts     []wirePart      `json:"parts,omitempty"`
	IsError   bool            `json:"err,omitempty"`
	Signature string          `json:"sig,omitempty"`
	Redacted  []byte          `json:"red,omitempty"`
}

type wireMessage struct {
	Role  string     `json:"role"`
	Parts []wirePart `json:"parts"`
}

// encodeParts converts parts to their wire form. CachePoint parts are
// dropped when forKey is set (they do not change the answer, so prompt
// caching must not split cache keys); raw JSON is canonicalised for keys.
func encodeParts(parts []bedrockkit.Part, forKey bool) ([]wirePart, error) {
	out := make([]wirePart, 0, len(parts))
	for _, p := range parts {
		var w wirePart
		switch p := p.(type) {
		case bedrockkit.Text:
			w = wirePart{T: "text", Text: p.Text}
		case bedrockkit.Image:
			w = wirePart{T: "image", Format: string(p.Format), Bytes: p.Bytes, S3URI: p.S3URI}
		case bedrockkit.Document:
			w = wirePart{T: "document", Name: p.Name, Format: string(p.Format), Bytes: p.Bytes, Text: p.Text, S3URI: p.S3URI}
		case bedrockkit.JSON:
			w = wirePart{T: "json", Value: canon(p.Value, forKey)}
		case bedrockkit.ToolCall:
			w = wirePart{T: "tool_call", ID: p.ID, Name: p.Name, Input: canon(p.Input, forKey)}
		case bedrockkit.ToolResult:
			sub, err := encodeParts(p.Parts, forKey)
			if err != nil {
				return nil, err
			}
			w = wirePart{T: "tool_result", ID: p.CallID, Parts: sub, IsError: p.IsError}
		case bedrockkit.Reasoning:
			w = wirePart{T: "reasoning", Text: p.Text, Signature: p.Signature, Redacted: p.Redacted}
		case bedrockkit.CachePoint:
			if forKey {
				continue
			}
			w = wirePart{T: "cache_point", Format: string(p.TTL)}
		default:
			return nil, fmt.Errorf("cache: cannot cache a part of type %T: %w", p, bedrockkit.ErrUnsupported)
		}
		out = append(out, w)
	}
	return out, nil
}

func decodeParts(ws []wirePart) ([]bedrockkit.Part, error) {
	out := make([]bedrockkit.Part, 0, len(ws))
	for _, w := range ws {
		switch w.T {
		case "text":
			out = append(out, bedrockkit.Text{Text: w.Text})
		case "image":
			out = append(out, bedrockkit.Image{Format: bedrockkit.ImageFormat(w.Format), Bytes: w.Bytes, S3URI: w.S3URI})
		case "document":
			out = append(out, bedrockkit.Document{Name: w.Name, Format: bedrockkit.DocumentFormat(w.Format), Bytes: w.Bytes, Text: w.Text, S3URI: w.S3URI})
		case "json":
			out = append(out, bedrockkit.JSON{Value: w.Value})
		case "tool_call":
			out = append(out, bedrockkit.ToolCall{ID: w.ID, Name: w.Name, Input: w.Input})
		case "tool_result":
			sub, err := decodeParts(w.Parts)
			if err != nil {
				return nil, err
			}
			out = append(out, bedrockkit.ToolResult{CallID: w.ID, Parts: sub, IsError: w.IsError})
		case "reasoning":
			out = append(out, bedrockkit.Reasoning{Text: w.Text, Signature: w.Signature, Redacted: w.Redacted})
		case "cache_point":
			out = append(out, bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL(w.Format)})
		default:
			return nil, fmt.Errorf("unknown part type %q", w.T)
		}
	}
	return out, nil
}

// canon returns raw JSON with object keys sorted and insignificant space
// removed (numbers keep their text), so that equal values give equal keys.
// Invalid JSON is kept as a JSON string of its bytes.
func canon(raw json.RawMessage, forKey bool) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	if !forKey {
		if json.Valid(raw) {
			return raw
		}
		b, _ := json.Marshal(string(raw))
		return b
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		b, _ := json.Marshal(string(raw))
		return b
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(string(raw))
	}
	return b
}

// keyRequest is the normalised request a cache key is computed from.
type keyRequest struct {
	V             int                         `json:"v"`
	Model         string                      `json:"model"`
	System        []wirePart                  `json:"system,omitempty"`
	Messages      []wireMessage               `json:"messages"`
	Tools         []keyTool                   `json:"tools,omitempty"`
	ToolChoice    bedrockkit.ToolChoice       `json:"tool_choice"`
	MaxTokens     int                         `json:"max_tokens,omitempty"`
	Temperature   *float32                    `json:"temperature,omitempty"`
	TopP          *float32                    `json:"top_p,omitempty"`
	StopSequences []string                    `json:"stop,omitempty"`
	Guardrail     *bedrockkit.GuardrailConfig `json:"guardrail,omitempty"`
	Extra         json.RawMessage             `json:"extra,omitempty"`
}

type keyTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
}

// Key returns the cache key of req for the model modelID: the hex SHA-256
// of the request's canonical JSON. Two requests get the same key when they
// ask the same model the same thing: same system prompt, messages, tools,
// tool choice, inference settings, guardrail and extra fields, with JSON
// (tool schemas, tool inputs, extra fields) compared by value rather than
// by spelling. Cache points (and Request.ToolCache) are left out: where the
// prompt is cached does not change the answer. The error wraps
// bedrockkit.ErrInvalidInput for a nil request or Extra values that do not
// encode as JSON.
func Key(modelID string, req *bedrockkit.Request) (string, error) {
	b, err := canonicalRequest(modelID, req)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func canonicalRequest(modelID string, req *bedrockkit.Request) ([]byte, error) {
	if req == nil {
		return nil, fmt.Errorf("cache: nil request: %w", bedrockkit.ErrInvalidInput)
	}
	k := keyRequest{V: 1, Model: modelID, ToolChoice: req.ToolChoice, MaxTokens: req.MaxTokens,
		Temperature: req.Temperature, TopP: req.TopP, StopSequences: req.StopSequences, Guardrail: req.Guardrail,
		Messages: make([]wireMessage, 0, len(req.Messages))}
	var err error
	if k.System, err = encodeParts(req.System, true); err != nil {
		return nil, err
	}
	for _, m := range req.Messages {
		ps, err := encodeParts(m.Parts, true)
		if err != nil {
			return nil, err
		}
		k.Messages = append(k.Messages, wireMessage{Role: string(m.Role), Parts: ps})
	}
	for _, t := range req.Tools {
		k.Tools = append(k.Tools, keyTool{Name: t.Name, Description: t.Description, Schema: canon(t.InputSchema, true)})
	}
	if len(req.Extra) > 0 {
		b, err := json.Marshal(req.Extra)
		if err != nil {
			return nil, fmt.Errorf("cache: Request.Extra does not encode as JSON: %v: %w", err, bedrockkit.ErrInvalidInput)
		}
		k.Extra = canon(b, true)
	}
	return json.Marshal(k)
}

// record is a stored response.
type record struct {
	V          int             `json:"v"`
	Message    wireMessage     `json:"message"`
	StopReason string          `json:"stop"`
	Usage      usageJSON       `json:"usage"`
	Additional json.RawMessage `json:"additional,omitempty"`
	Stored     time.Time       `json:"stored"`
}

type usageJSON struct {
	In, Out, CacheRead, CacheWrite int
	Estimated                      bool `json:",omitempty"`
}

func encodeResponse(r *bedrockkit.Response, now time.Time) ([]byte, error) {
	ps, err := encodeParts(r.Message.Parts, false)
	if err != nil {
		return nil, err
	}
	u := r.Usage
	return json.Marshal(record{V: 1, Message: wireMessage{Role: string(r.Message.Role), Parts: ps}, StopReason: string(r.StopReason),
		Usage:      usageJSON{u.InputTokens, u.OutputTokens, u.CacheReadTokens, u.CacheWriteTokens, u.Estimated},
		Additional: r.AdditionalFields, Stored: now.UTC()})
}

// decodeResponse returns the stored response, its original usage and when
// it was stored.
func decodeResponse(b []byte) (*bedrockkit.Response, bedrockkit.Usage, time.Time, error) {
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, bedrockkit.Usage{}, time.Time{}, fmt.Errorf("cache: stored response is not valid: %w", err)
	}
	if rec.V != 1 {
		return nil, bedrockkit.Usage{}, time.Time{}, fmt.Errorf("cache: stored response has version %d, want 1", rec.V)
	}
	parts, err := decodeParts(rec.Message.Parts)
	if err != nil {
		return nil, bedrockkit.Usage{}, time.Time{}, fmt.Errorf("cache: stored response is not valid: %w", err)
	}
	u := rec.Usage
	orig := bedrockkit.Usage{InputTokens: u.In, OutputTokens: u.Out, CacheReadTokens: u.CacheRead, CacheWriteTokens: u.CacheWrite, Estimated: u.Estimated}
	return &bedrockkit.Response{
		Message:          bedrockkit.Message{Role: bedrockkit.Role(rec.Message.Role), Parts: parts},
		StopReason:       bedrockkit.StopReason(rec.StopReason),
		AdditionalFields: rec.Additional,
	}, orig, rec.Stored, nil
}
