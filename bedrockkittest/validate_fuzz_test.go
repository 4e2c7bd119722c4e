package bedrockkittest

import (
	"testing"
)

// FuzzCheckConverse feeds arbitrary request bodies to the validator: it
// must answer nil or a ValidationException, never panic, and refuse every
// body that is not a JSON object.
func FuzzCheckConverse(f *testing.F) {
	for _, seed := range []string{
		`{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`,
		`{"messages":[]}`,
		`{"messages":[{"role":"assistant","content":[{"toolUse":{"toolUseId":"a"}}]},{"role":"user","content":[{"toolResult":{"toolUseId":"a","status":"error","content":[]}}]}]}`,
		`{"inferenceConfig":{"maxTokens":1e999,"temperature":"x","topP":-0}}`,
		`{"toolConfig":{"tools":[{"toolSpec":{"name":""}},{"cachePoint":{}}],"toolChoice":{"any":{}}},"additionalModelRequestFields":{"thinking":null}}`,
		`{"outputConfig":{"textFormat":{"type":"json_schema","structure":{"jsonSchema":{"schema":"[]"}}}}}`,
		`{"messages":[{"role":"user","content":[{}]}],"system":[{"text":" "}]}`,
		`[`, `null`, "\xff",
	} {
		f.Add([]byte(seed))
	}
	v := validator{on: map[Check]bool{}}
	for _, c := range allChecks {
		v.on[c] = true
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fault := v.checkConverse(body)
		if fault != nil && (fault.Code != "ValidationException" || fault.Message == "") {
			t.Fatalf("fault %+v", fault)
		}
		_ = estimateConverseTokens(body)
		_, _ = requestedTier(body)
	})
}

// FuzzCheckModel: any model ID is accepted or refused with a
// ValidationException, never a panic.
func FuzzCheckModel(f *testing.F) {
	for _, seed := range []string{"us.anthropic.claude-sonnet-4-5-20250929-v1:0", "", "a b", "arn:aws:bedrock:us-east-1::foundation-model/x.y", "arn:", "x.", ".x", "amazon.titan-embed-text-v2:0"} {
		f.Add(seed)
	}
	v := validator{on: map[Check]bool{CheckModelID: true, CheckCountTokens: true}}
	f.Fuzz(func(t *testing.T, id string) {
		for _, op := range []Operation{OpConverse, OpCountTokens, OpInvokeModelWithResponseStream} {
			if fault := v.checkModel(op, id); fault != nil && fault.Code != "ValidationException" {
				t.Fatalf("%q: %+v", id, fault)
			}
		}
		if fault := v.checkCountModel(id); fault != nil && fault.Code != "ValidationException" {
			t.Fatalf("%q: %+v", id, fault)
		}
	})
}
