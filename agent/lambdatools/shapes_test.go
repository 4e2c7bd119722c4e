package lambdatools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/lambdatools"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// The documented shapes (https://docs.aws.amazon.com/bedrock/latest/userguide/agents-lambda.html):
//
// Input event, API schema:
//   messageVersion, agent{name,id,alias,version}, inputText, sessionId,
//   actionGroup, apiPath, httpMethod, parameters[{name,type,value}],
//   requestBody{content{<mediaType>{properties[{name,type,value}]}}},
//   sessionAttributes{}, promptSessionAttributes{}
// Input event, function details:
//   messageVersion, agent{...}, inputText, sessionId, actionGroup,
//   function, parameters[{name,type,value}], sessionAttributes{},
//   promptSessionAttributes{}
// Response, API schema:
//   messageVersion, response{actionGroup, apiPath, httpMethod,
//   httpStatusCode, responseBody{<mediaType>{body}}}, sessionAttributes?,
//   promptSessionAttributes?, knowledgeBasesConfiguration?
// Response, function details:
//   messageVersion, response{actionGroup, function, functionResponse{
//   responseState?, responseBody{TEXT{body}}}}, sessionAttributes?,
//   promptSessionAttributes?, knowledgeBasesConfiguration?

var (
	apiEventKeys      = []string{"actionGroup", "agent", "apiPath", "httpMethod", "inputText", "messageVersion", "parameters", "promptSessionAttributes", "requestBody", "sessionAttributes", "sessionId"}
	functionEventKeys = []string{"actionGroup", "agent", "function", "inputText", "messageVersion", "parameters", "promptSessionAttributes", "sessionAttributes", "sessionId"}
	agentKeys         = []string{"alias", "id", "name", "version"}
	parameterKeys     = []string{"name", "type", "value"}
)

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func checkParams(t *testing.T, what string, v any) []map[string]any {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("%s is %T, want a list", what, v)
	}
	var out []map[string]any
	for _, p := range list {
		m := p.(map[string]any)
		if !slices.Equal(keys(m), parameterKeys) {
			t.Fatalf("%s item keys %v, want %v", what, keys(m), parameterKeys)
		}
		for _, k := range parameterKeys {
			if _, ok := m[k].(string); !ok {
				t.Fatalf("%s %s is %T; every name, type and value is a string", what, k, m[k])
			}
		}
		out = append(out, m)
	}
	return out
}

func checkCommon(t *testing.T, ev map[string]any) {
	t.Helper()
	if ev["messageVersion"] != "1.0" {
		t.Fatalf("messageVersion %v", ev["messageVersion"])
	}
	a := ev["agent"].(map[string]any)
	if !slices.Equal(keys(a), agentKeys) {
		t.Fatalf("agent keys %v", keys(a))
	}
	for _, k := range []string{"inputText", "sessionId", "actionGroup"} {
		if _, ok := ev[k].(string); !ok {
			t.Fatalf("%s is %T, want a string", k, ev[k])
		}
	}
	for _, k := range []string{"sessionAttributes", "promptSessionAttributes"} {
		m, ok := ev[k].(map[string]any)
		if !ok {
			t.Fatalf("%s is %T, want an object", k, ev[k])
		}
		for ak, av := range m {
			if _, ok := av.(string); !ok {
				t.Fatalf("%s[%s] is %T; attributes are strings", k, ak, av)
			}
		}
	}
}

// lastEvent decodes the payload of the fake's last invocation.
func lastEvent(t *testing.T, f *bedrockkittest.FakeLambda) map[string]any {
	t.Helper()
	invs := f.Invocations()
	var ev map[string]any
	if err := json.Unmarshal(invs[len(invs)-1].Payload, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func runWithSession(t *testing.T, tool *agent.Tool, input string) ([]bedrockkit.ToolResult, error) {
	t.Helper()
	m := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "c1", Name: tool.Name(), Input: json.RawMessage(input)}), bedrockkittest.TextStep("ok"))
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{tool}}
	_, err := a.Run(context.Background(), "session-42", "hello", agent.RunOptions{SessionAttributes: map[string]string{"employeeId": "EMP1"}, PromptAttributes: map[string]string{"requestType": "vacation"}})
	if err != nil {
		return nil, err
	}
	req := m.Requests()[1]
	var rs []bedrockkit.ToolResult
	for _, p := range req.Messages[len(req.Messages)-1].Parts {
		rs = append(rs, p.(bedrockkit.ToolResult))
	}
	return rs, nil
}

func resultText(r bedrockkit.ToolResult) string {
	var b strings.Builder
	for _, p := range r.Parts {
		switch x := p.(type) {
		case bedrockkit.Text:
			b.WriteString(x.Text)
		case bedrockkit.JSON:
			b.Write(x.Value)
		}
	}
	return b.String()
}

func TestFunctionEventShape(t *testing.T) {
	f := bedrockkittest.NewFakeLambda(t)
	// An existing Bedrock Agents Lambda: reads the documented event, answers
	// with the documented function response.
	f.AddFunction("vacations", func(ctx context.Context, payload []byte) ([]byte, error) {
		var ev struct {
			ActionGroup string `json:"actionGroup"`
			Function    string `json:"function"`
			Parameters  []struct{ Name, Value string }
		}
		_ = json.Unmarshal(payload, &ev)
		var vals []string
		for _, p := range ev.Parameters {
			vals = append(vals, p.Name+"="+p.Value)
		}
		return json.Marshal(map[string]any{"messageVersion": "1.0", "response": map[string]any{"actionGroup": ev.ActionGroup, "function": ev.Function,
			"functionResponse": map[string]any{"responseBody": map[string]any{"TEXT": map[string]any{"body": "booked " + strings.Join(vals, ",")}}}},
			"sessionAttributes": map[string]string{"x": "y"}})
	})
	tools, err := lambdatools.FunctionTools(f.Client(), lambdatools.Options{FunctionName: "arn:aws:lambda:us-east-1:123456789012:function:vacations", ActionGroup: "VacationsActionGroup"},
		lambdatools.Function{Name: "submitVacationRequest", Description: "Book vacation", Parameters: map[string]lambdatools.ParameterDetail{
			"startDate": {Type: "string", Required: true}, "days": {Type: "integer", Required: true}, "paid": {Type: "boolean"}, "ratio": {Type: "number"}, "tags": {Type: "array"}}})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := runWithSession(t, tools[0], `{"startDate":"2024-03-15","days":5,"paid":true,"ratio":0.5,"tags":["a",1]}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := resultText(rs[0]); got != `booked days=5,paid=true,ratio=0.5,startDate=2024-03-15,tags=["a",1]` || rs[0].IsError {
		t.Fatalf("result %q", got)
	}
	ev := lastEvent(t, f)
	if !slices.Equal(keys(ev), functionEventKeys) {
		t.Fatalf("function event keys %v, want %v", keys(ev), functionEventKeys)
	}
	checkCommon(t, ev)
	ps := checkParams(t, "parameters", ev["parameters"])
	if ev["function"] != "submitVacationRequest" || ev["actionGroup"] != "VacationsActionGroup" || ev["sessionId"] != "session-42" || len(ps) != 5 {
		t.Fatalf("event %v", ev)
	}
	if ps[0]["name"] != "days" || ps[0]["type"] != "integer" || ps[0]["value"] != "5" {
		t.Fatalf("parameter %v", ps[0])
	}
	if ev["sessionAttributes"].(map[string]any)["employeeId"] != "EMP1" || ev["promptSessionAttributes"].(map[string]any)["requestType"] != "vacation" {
		t.Fatalf("attributes not passed through: %v", ev)
	}
	if a := ev["agent"].(map[string]any); a["alias"] != "TSTALIASID" || a["version"] != "DRAFT" {
		t.Fatalf("agent %v", a)
	}
}

const claimsAPI = `{"openapi":"3.0.0","info":{"title":"claims","version":"1"},
"paths":{"/claims/{claimId}/send-reminders":{"post":{"operationId":"sendReminders","description":"Send reminders",
  "parameters":[{"name":"claimId","in":"path","required":true,"schema":{"type":"integer"}},{"name":"urgent","in":"query","schema":{"type":"boolean"}}],
  "requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object","required":["pendingDocuments"],
     "properties":{"pendingDocuments":{"type":"string"},"count":{"type":"integer"},"channels":{"type":"array","items":{"type":"string"}}}}}}},
  "responses":{"200":{"description":"ok"}}}}}}`

func TestAPIEventShape(t *testing.T) {
	f := bedrockkittest.NewFakeLambda(t)
	status := 200
	f.AddFunction("claims", func(ctx context.Context, payload []byte) ([]byte, error) {
		var ev lambdatools.Event
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		sent := ""
		for _, p := range ev.RequestBody.Content["application/json"].Properties {
			if p.Name == "pendingDocuments" {
				sent = p.Value
			}
		}
		body := fmt.Sprintf(`{"sent":%q}`, sent)
		return json.Marshal(lambdatools.Response{MessageVersion: "1.0", Response: lambdatools.ResponseDetail{ActionGroup: ev.ActionGroup, APIPath: ev.APIPath,
			HTTPMethod: ev.HTTPMethod, HTTPStatusCode: status, ResponseBody: map[string]lambdatools.ResponseText{"application/json": {Body: body}}}})
	})
	tools, rep, err := lambdatools.APITools(f.Client(), []byte(claimsAPI), lambdatools.Options{FunctionName: "claims", ActionGroup: "ClaimManagementActionGroup"})
	if err != nil || len(tools) != 1 || len(rep.Skipped) != 0 {
		t.Fatalf("%v %v", err, rep)
	}
	rs, err := runWithSession(t, tools[0], `{"claimId":20,"urgent":true,"body":{"pendingDocuments":"social number and vat","count":2,"channels":["sms"]}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := resultText(rs[0]); got != `{"sent":"social number and vat"}` || rs[0].IsError {
		t.Fatalf("result %q", got)
	}
	ev := lastEvent(t, f)
	if !slices.Equal(keys(ev), apiEventKeys) {
		t.Fatalf("API event keys %v, want %v", keys(ev), apiEventKeys)
	}
	checkCommon(t, ev)
	if ev["apiPath"] != "/claims/{claimId}/send-reminders" || ev["httpMethod"] != "POST" {
		t.Fatalf("apiPath/httpMethod: %v %v", ev["apiPath"], ev["httpMethod"])
	}
	ps := checkParams(t, "parameters", ev["parameters"])
	if len(ps) != 2 || ps[0]["name"] != "claimId" || ps[0]["type"] != "integer" || ps[0]["value"] != "20" || ps[1]["value"] != "true" {
		t.Fatalf("parameters %v", ps)
	}
	rb := ev["requestBody"].(map[string]any)
	if !slices.Equal(keys(rb), []string{"content"}) {
		t.Fatalf("requestBody keys %v", keys(rb))
	}
	content := rb["content"].(map[string]any)
	mt := content["application/json"].(map[string]any)
	if !slices.Equal(keys(mt), []string{"properties"}) {
		t.Fatalf("media type keys %v", keys(mt))
	}
	props := checkParams(t, "requestBody properties", mt["properties"])
	want := []map[string]any{{"name": "channels", "type": "array", "value": `["sms"]`}, {"name": "count", "type": "integer", "value": "2"}, {"name": "pendingDocuments", "type": "string", "value": "social number and vat"}}
	if !reflect.DeepEqual(props, want) {
		t.Fatalf("body properties %v", props)
	}
	// A non-2xx status is an error the model reads.
	status = 404
	rs, err = runWithSession(t, tools[0], `{"claimId":21,"body":{"pendingDocuments":"x"}}`)
	if err != nil || !rs[0].IsError || !strings.Contains(resultText(rs[0]), "HTTP 404") {
		t.Fatalf("404: %v %+v", err, rs)
	}
}

// TestDocumentedResponses decodes responses written as the documentation
// shows them, with every optional member.
func TestDocumentedResponses(t *testing.T) {
	f := bedrockkittest.NewFakeLambda(t)
	var reply string
	f.AddFunction("fn", func(ctx context.Context, payload []byte) ([]byte, error) { return []byte(reply), nil })
	tools, err := lambdatools.FunctionTools(f.Client(), lambdatools.Options{FunctionName: "fn", ActionGroup: "g"}, lambdatools.Function{Name: "f", Parameters: map[string]lambdatools.ParameterDetail{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		reply   string
		isError bool
		want    string
	}{
		{`{"messageVersion":"1.0","response":{"actionGroup":"g","function":"f","functionResponse":{"responseBody":{"TEXT":{"body":"fine"}}}},
		   "sessionAttributes":{"a":"b"},"promptSessionAttributes":{"c":"d"},
		   "knowledgeBasesConfiguration":[{"knowledgeBaseId":"KB1","retrievalConfiguration":{"vectorSearchConfiguration":{"numberOfResults":5,"overrideSearchType":"HYBRID"}}}]}`, false, "fine"},
		{`{"messageVersion":"1.0","response":{"actionGroup":"g","function":"f","functionResponse":{"responseState":"REPROMPT","responseBody":{"TEXT":{"body":"which date?"}}}}}`, true, "try again: which date?"},
		{`{"messageVersion":"1.0","response":{"actionGroup":"g","function":"f","functionResponse":{"responseState":"FAILURE","responseBody":{"TEXT":{"body":"db down"}}}}}`, true, "failed: db down"},
		{`{"messageVersion":"1.0","response":{"actionGroup":"g","function":"f","functionResponse":{"responseBody":{"JSON":{"body":"{}"}}}}}`, true, "no TEXT body"},
		{`{"messageVersion":"2.0","response":{}}`, true, `messageVersion "2.0"`},
		{`not json`, true, "not Bedrock's Lambda response JSON"},
	} {
		reply = c.reply
		parts, err := tools[0].Call(context.Background(), json.RawMessage(`{}`))
		if (err != nil) != c.isError {
			t.Fatalf("%s: error %v", c.reply, err)
		}
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = resultText(bedrockkit.ToolResult{Parts: parts})
		}
		if !strings.Contains(got, c.want) {
			t.Fatalf("%s: got %q, want %q", c.reply, got, c.want)
		}
	}
}

func TestLambdaFailures(t *testing.T) {
	f := bedrockkittest.NewFakeLambda(t)
	f.AddFunction("crash", func(ctx context.Context, payload []byte) ([]byte, error) {
		return nil, errors.New("index out of range")
	})
	f.AddFunction("slow", func(ctx context.Context, payload []byte) ([]byte, error) { <-ctx.Done(); return nil, ctx.Err() })
	mk := func(fn string, timeout time.Duration) *agent.Tool {
		tools, err := lambdatools.FunctionTools(f.Client(), lambdatools.Options{FunctionName: fn, ActionGroup: "g", Timeout: timeout}, lambdatools.Function{Name: "f"})
		if err != nil {
			t.Fatal(err)
		}
		return tools[0]
	}
	if _, err := mk("crash", 0).Call(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "Unhandled") || !strings.Contains(err.Error(), "index out of range") {
		t.Fatalf("crash: %v", err)
	}
	if _, err := mk("missing", 0).Call(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "could not invoke") {
		t.Fatalf("missing: %v", err)
	}
	if _, err := mk("slow", 100*time.Millisecond).Call(context.Background(), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow: %v", err)
	}
	if _, err := lambdatools.FunctionTools(f.Client(), lambdatools.Options{ActionGroup: "g"}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("no function name: %v", err)
	}
	if _, err := lambdatools.FunctionTools(f.Client(), lambdatools.Options{FunctionName: "x", ActionGroup: "g"}, lambdatools.Function{Name: "f", Parameters: map[string]lambdatools.ParameterDetail{"p": {Type: "object"}}}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("bad type: %v", err)
	}
}

// TestEventRoundTrip decodes an event written as AWS's documentation and
// the Powertools test events show it and encodes it again unchanged.
func TestEventRoundTrip(t *testing.T) {
	in := `{"messageVersion":"1.0","agent":{"name":"hr-assistant","id":"1234abcd","alias":"PROD","version":"1"},"inputText":"I want vacation",
"sessionId":"123456789123458","actionGroup":"VacationsActionGroup","function":"submitVacationRequest",
"parameters":[{"name":"startDate","type":"string","value":"2024-03-15"}],"sessionAttributes":{"employeeId":"EMP123"},"promptSessionAttributes":{"requestType":"vacation"}}`
	var ev lambdatools.Event
	if err := json.Unmarshal([]byte(in), &ev); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(ev)
	var a, b any
	_ = json.Unmarshal([]byte(in), &a)
	_ = json.Unmarshal(out, &b)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip changed the event:\n%s\n%s", in, out)
	}
}
