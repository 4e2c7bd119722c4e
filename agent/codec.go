package agent

import (
	"encoding/json"
	"fmt"

	"github.com/bedrockkit/bedrockkit"
)

// wirePart is the JSON form of a bedrockkit.Part, tagged by Type.
type wirePart struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	Format    string          `json:"format,omitempty"`
	Bytes     []byte          `json:"bytes,omitempty"`
	S3URI     string          `json:"s3_uri,omitempty"`
	Name      string          `json:"name,omitempty"`
	Value     json.RawMessage `json:"value,omitempty"`
	ID        string          `json:"id,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	InputText string          `json:"input_text,omitempty"`
	CallID    string          `json:"call_id,omitempty"`
	Parts     []wirePart      `json:"parts,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
	Signature string          `json:"signature,omitempty"`
	Redacted  []byte          `json:"redacted,omitempty"`
	TTL       string          `json:"ttl,omitempty"`
}

type wireMessage struct {
	Role  bedrockkit.Role `json:"role"`
	Parts []wirePart      `json:"parts"`
}

func encodeParts(ps []bedrockkit.Part) ([]wirePart, error) {
	out := make([]wirePart, 0, len(ps))
	for _, p := range ps {
		var w wirePart
		switch p := p.(type) {
		case bedrockkit.Text:
			w = wirePart{Type: "text", Text: p.Text}
		case bedrockkit.Image:
			w = wirePart{Type: "image", Format: string(p.Format), Bytes: p.Bytes, S3URI: p.S3URI}
		case bedrockkit.Document:
			w = wirePart{Type: "document", Name: p.Name, Format: string(p.Format), Bytes: p.Bytes, Text: p.Text, S3URI: p.S3URI}
		case bedrockkit.JSON:
			w = wirePart{Type: "json", Value: p.Value}
		case bedrockkit.ToolCall:
			w = wirePart{Type: "tool_call", ID: p.ID, Name: p.Name, Input: p.Input}
			if len(p.Input) > 0 && !json.Valid(p.Input) {
				w.Input, w.InputText = nil, string(p.Input) // keep malformed input as text
			}
		case bedrockkit.ToolResult:
			inner, err := encodeParts(p.Parts)
			if err != nil {
				return nil, err
			}
			w = wirePart{Type: "tool_result", CallID: p.CallID, Parts: inner, IsError: p.IsError}
		case bedrockkit.Reasoning:
			w = wirePart{Type: "reasoning", Text: p.Text, Signature: p.Signature, Redacted: p.Redacted}
		case bedrockkit.CachePoint:
			w = wirePart{Type: "cache_point", TTL: string(p.TTL)}
		default:
			return nil, fmt.Errorf("agent: cannot encode part of type %T", p)
		}
		out = append(out, w)
	}
	return out, nil
}

func decodeParts(ws []wirePart) ([]bedrockkit.Part, error) {
	out := make([]bedrockkit.Part, 0, len(ws))
	for _, w := range ws {
		var p bedrockkit.Part
		switch w.Type {
		case "text":
			p = bedrockkit.Text{Text: w.Text}
		case "image":
			p = bedrockkit.Image{Format: bedrockkit.ImageFormat(w.Format), Bytes: w.Bytes, S3URI: w.S3URI}
		case "document":
			p = bedrockkit.Document{Name: w.Name, Format: bedrockkit.DocumentFormat(w.Format), Bytes: w.Bytes, Text: w.Text, S3URI: w.S3URI}
		case "json":
			p = bedrockkit.JSON{Value: w.Value}
		case "tool_call":
			c := bedrockkit.ToolCall{ID: w.ID, Name: w.Name, Input: w.Input}
			if w.InputText != "" {
				c.Input = json.RawMessage(w.InputText)
			}
			p = c
		case "tool_result":
			inner, err := decodeParts(w.Parts)
			if err != nil {
				return nil, err
			}
			p = bedrockkit.ToolResult{CallID: w.CallID, Parts: inner, IsError: w.IsError}
		case "reasoning":
			p = bedrockkit.Reasoning{Text: w.Text, Signature: w.Signature, Redacted: w.Redacted}
		case "cache_point":
			p = bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL(w.TTL)}
		default:
			return nil, fmt.Errorf("agent: unknown part type %q in stored state", w.Type)
		}
		out = append(out, p)
	}
	return out, nil
}

func encodeMessages(ms []bedrockkit.Message) ([]wireMessage, error) {
	out := make([]wireMessage, 0, len(ms))
	for _, m := range ms {
		ps, err := encodeParts(m.Parts)
		if err != nil {
			return nil, err
		}
		out = append(out, wireMessage{Role: m.Role, Parts: ps})
	}
	return out, nil
}

func decodeMessages(ws []wireMessage) ([]bedrockkit.Message, error) {
	out := make([]bedrockkit.Message, 0, len(ws))
	for _, w := range ws {
		if w.Role != bedrockkit.RoleUser && w.Role != bedrockkit.RoleAssistant {
			return nil, fmt.Errorf("agent: unknown role %q in stored state", w.Role)
		}
		ps, err := decodeParts(w.Parts)
		if err != nil {
			return nil, err
		}
		out = append(out, bedrockkit.Message{Role: w.Role, Parts: ps})
	}
	return out, nil
}

func encodeResults(rs []bedrockkit.ToolResult) ([]wirePart, error) {
	ps := make([]bedrockkit.Part, len(rs))
	for i, r := range rs {
		ps[i] = r
	}
	return encodeParts(ps)
}

func decodeResults(ws []wirePart) ([]bedrockkit.ToolResult, error) {
	ps, err := decodeParts(ws)
	if err != nil {
		return nil, err
	}
	out := make([]bedrockkit.ToolResult, len(ps))
	for i, p := range ps {
		r, ok := p.(bedrockkit.ToolResult)
		if !ok {
			return nil, fmt.Errorf("agent: stored tool result is a %T", p)
		}
		out[i] = r
	}
	return out, nil
}
