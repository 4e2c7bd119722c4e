package bedrockkittest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of the embedding models FakeBedrock emulates (AWS model-parameter
// documentation for Titan Text Embeddings V2 and Cohere Embed v3).
const (
	titanMaxChars      = 50000
	cohereMaxTexts     = 96
	cohereMaxTextChars = 2048
	cohereDims         = 1024
	titanDefaultDims   = 1024
)

func (f *FakeBedrock) serveInvokeModel(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	modelID := r.PathValue("modelId")
	rep, ok, seq := f.record(OpInvokeModel, modelID, r, body)
	switch {
	case ok && rep.Fault != nil:
		writeFault(w, rep.Fault)
		return
	case ok && len(rep.Body) > 0:
		writeJSON(w, http.StatusOK, rep.Body)
		return
	}
	var (
		out    []byte
		tokens int
		fault  *Fault
	)
	switch base := baseModelID(modelID); {
	case strings.HasPrefix(base, "amazon.titan-embed-text-v2"):
		out, tokens, fault = titanEmbed(body)
	case strings.HasPrefix(base, "cohere.embed-english-v3"), strings.HasPrefix(base, "cohere.embed-multilingual-v3"):
		out, tokens, fault = cohereEmbed(body, seq)
	default:
		fault = &Fault{Code: "ValidationException", Message: fmt.Sprintf(
			"fakebedrock: no scripted reply for InvokeModel on %q; call Enqueue(bedrockkittest.OpInvokeModel, ...) (only Titan Text Embeddings V2 and Cohere Embed v3 are answered without a script)", modelID)}
	}
	if fault != nil {
		writeFault(w, fault)
		return
	}
	w.Header().Set("X-Amzn-Bedrock-Input-Token-Count", strconv.Itoa(tokens))
	w.Header().Set("X-Amzn-Bedrock-Invocation-Latency", "0")
	writeJSON(w, http.StatusOK, out)
}

// baseModelID strips an ARN's resource prefix and a cross-region
// inference-profile prefix (us., eu., apac., global., ...).
func baseModelID(id string) string {
	if strings.HasPrefix(id, "arn:") {
		if i := strings.LastIndexByte(id, '/'); i >= 0 {
			id = id[i+1:]
		}
	}
	if i := strings.IndexByte(id, '.'); i >= 0 {
		switch id[:i] {
		case "us", "eu", "apac", "global", "us-gov", "jp", "au", "ca":
			id = id[i+1:]
		}
	}
	return id
}

// malformed builds the ValidationException Bedrock returns for a request
// body that does not match the model's schema.
func malformed(format string, args ...any) *Fault {
	return &Fault{Code: "ValidationException",
		Message: "Malformed input request: " + fmt.Sprintf(format, args...) + ", please reformat your input and try again."}
}

// decodeObject decodes body into a map of raw fields, rejecting keys not in allowed.
func decodeObject(body []byte, allowed ...string) (map[string]json.RawMessage, *Fault) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, malformed("expected type: JSONObject, found: %s", jsonKind(body))
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return nil, malformed("#: extraneous key [%s] is not permitted", k)
		}
	}
	return m, nil
}

func jsonKind(b []byte) string {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return "empty body"
	case b[0] == '[':
		return "JSONArray"
	case b[0] == '"':
		return "String"
	}
	return "invalid JSON"
}

// field decodes m[key] into v, reporting a type error the Bedrock way.
func field(m map[string]json.RawMessage, key, want string, v any) *Fault {
	if err := json.Unmarshal(m[key], v); err != nil {
		return malformed("#/%s: expected type: %s", key, want)
	}
	return nil
}

func estimateTokens(s string) int {
	return (utf8.RuneCountInString(s) + 3) / 4
}

// titanEmbed answers a Titan Text Embeddings V2 request.
func titanEmbed(body []byte) ([]byte, int, *Fault) {
	m, fault := decodeObject(body, "inputText", "dimensions", "normalize", "embeddingTypes")
	if fault != nil {
		return nil, 0, fault
	}
	if _, ok := m["inputText"]; !ok {
		return nil, 0, malformed("#: required key [inputText] not found")
	}
	var text string
	if f := field(m, "inputText", "String", &text); f != nil {
		return nil, 0, f
	}
	if n := utf8.RuneCountInString(text); n == 0 || n > titanMaxChars {
		if n == 0 {
			return nil, 0, malformed("#/inputText: expected minLength: 1, actual: 0")
		}
		return nil, 0, malformed("#/inputText: expected maxLength: %d, actual: %d", titanMaxChars, n)
	}
	dims := titanDefaultDims
	if _, ok := m["dimensions"]; ok {
		if f := field(m, "dimensions", "Integer", &dims); f != nil {
			return nil, 0, f
		}
		if dims != 256 && dims != 512 && dims != 1024 {
			return nil, 0, malformed("#/dimensions: %d is not a valid enum value", dims)
		}
	}
	if _, ok := m["normalize"]; ok {
		var b bool
		if f := field(m, "normalize", "Boolean", &b); f != nil {
			return nil, 0, f
		}
	}
	types := []string{"float"}
	if _, ok := m["embeddingTypes"]; ok {
		if f := field(m, "embeddingTypes", "JSONArray", &types); f != nil {
			return nil, 0, f
		}
		if len(types) == 0 {
			return nil, 0, malformed("#/embeddingTypes: expected minimum item count: 1, found: 0")
		}
		for i, t := range types {
			if t != "float" && t != "binary" {
				return nil, 0, malformed("#/embeddingTypes/%d: %s is not a valid enum value", i, t)
			}
		}
	}
	vec := NewHashEmbedder(dims).Vector(text)
	tokens := estimateTokens(text)
	byType := map[string]any{}
	resp := map[string]any{"inputTextTokenCount": tokens, "embeddingsByType": byType}
	for _, t := range types {
		switch t {
		case "float":
			resp["embedding"] = vec
			byType["float"] = vec
		case "binary":
			bits := make([]int, len(vec))
			for i, x := range vec {
				if x > 0 {
					bits[i] = 1
				}
			}
			byType["binary"] = bits
		}
	}
	out, _ := json.Marshal(resp)
	return out, tokens, nil
}

// cohereEmbed answers a Cohere Embed v3 request.
func cohereEmbed(body []byte, seq int) ([]byte, int, *Fault) {
	m, fault := decodeObject(body, "texts", "images", "input_type", "truncate", "embedding_types")
	if fault != nil {
		return nil, 0, fault
	}
	if _, ok := m["input_type"]; !ok {
		return nil, 0, malformed("#: required key [input_type] not found")
	}
	var inputType string
	if f := field(m, "input_type", "String", &inputType); f != nil {
		return nil, 0, f
	}
	switch inputType {
	case "search_document", "search_query", "classification", "clustering", "image":
	default:
		return nil, 0, malformed("#/input_type: %s is not a valid enum value", inputType)
	}
	if _, ok := m["images"]; ok {
		return nil, 0, &Fault{Code: "ValidationException", Message: "fakebedrock: Cohere image embeddings are not emulated; Enqueue a Reply with Body to script one"}
	}
	if _, ok := m["texts"]; !ok {
		return nil, 0, malformed("#: required key [texts] not found")
	}
	var texts []string
	if f := field(m, "texts", "JSONArray of String", &texts); f != nil {
		return nil, 0, f
	}
	if len(texts) > cohereMaxTexts {
		return nil, 0, malformed("#/texts: expected maximum item count: %d, found: %d", cohereMaxTexts, len(texts))
	}
	for i, t := range texts {
		if n := utf8.RuneCountInString(t); n > cohereMaxTextChars {
			return nil, 0, malformed("#/texts/%d: expected maxLength: %d, actual: %d", i, cohereMaxTextChars, n)
		}
	}
	if _, ok := m["truncate"]; ok {
		var tr string
		if f := field(m, "truncate", "String", &tr); f != nil {
			return nil, 0, f
		}
		if tr != "NONE" && tr != "START" && tr != "END" {
			return nil, 0, malformed("#/truncate: %s is not a valid enum value", tr)
		}
	}
	var types []string
	if _, ok := m["embedding_types"]; ok {
		if f := field(m, "embedding_types", "JSONArray of String", &types); f != nil {
			return nil, 0, f
		}
		for i, t := range types {
			switch t {
			case "float", "int8", "uint8", "binary", "ubinary":
			default:
				return nil, 0, malformed("#/embedding_types/%d: %s is not a valid enum value", i, t)
			}
		}
	}
	emb := NewHashEmbedder(cohereDims)
	vecs := make([][]float32, len(texts))
	tokens := 0
	for i, t := range texts {
		vecs[i] = emb.Vector(t)
		tokens += estimateTokens(t)
	}
	resp := map[string]any{
		"id":    fmt.Sprintf("fakebedrock-%08d", seq),
		"texts": texts,
	}
	if len(types) == 0 {
		resp["embeddings"] = vecs
		resp["response_type"] = "embeddings_floats"
	} else {
		byType := map[string]any{}
		for _, t := range types {
			byType[t] = quantize(vecs, t)
		}
		resp["embeddings"] = byType
		resp["response_type"] = "embeddings_by_type"
	}
	out, _ := json.Marshal(resp)
	return out, tokens, nil
}

// quantize converts unit vectors to Cohere's embedding types: int8 and uint8
// scale each value, binary and ubinary pack sign bits eight to a byte.
func quantize(vecs [][]float32, typ string) any {
	if typ == "float" {
		return vecs
	}
	out := make([][]int, len(vecs))
	for i, v := range vecs {
		switch typ {
		case "int8":
			for _, x := range v {
				out[i] = append(out[i], int(math.Round(float64(x)*127)))
			}
		case "uint8":
			for _, x := range v {
				out[i] = append(out[i], int(math.Round(float64(x)*127))+128)
			}
		case "binary", "ubinary":
			for j := 0; j < len(v); j += 8 {
				b := 0
				for k := j; k < j+8 && k < len(v); k++ {
					b <<= 1
					if v[k] > 0 {
						b |= 1
					}
				}
				if typ == "binary" {
					b -= 128
				}
				out[i] = append(out[i], b)
			}
		}
	}
	return out
}
