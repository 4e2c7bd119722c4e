package lambdatools_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/bedrockkit/bedrockkit/agent/lambdatools"
)

// stubInvoker answers every Invoke with a fixed payload.
type stubInvoker struct {
	payload  []byte
	funcErr  string
	received []byte
}

func (s *stubInvoker) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	s.received = in.Payload
	out := &lambda.InvokeOutput{StatusCode: 200, Payload: s.payload}
	if s.funcErr != "" {
		out.FunctionError = aws.String(s.funcErr)
	}
	return out, nil
}

// FuzzResponse feeds arbitrary Lambda responses to both kinds of tools:
// never a panic, and a result or an error.
func FuzzResponse(f *testing.F) {
	f.Add([]byte(`{"messageVersion":"1.0","response":{"actionGroup":"g","function":"f","functionResponse":{"responseBody":{"TEXT":{"body":"ok"}}}}}`), "")
	f.Add([]byte(`{"messageVersion":"1.0","response":{"actionGroup":"g","apiPath":"/claims/{claimId}/send-reminders","httpMethod":"POST","httpStatusCode":500,"responseBody":{"text/plain":{"body":"x"}}}}`), "")
	f.Add([]byte(`{"errorMessage":"boom","errorType":"Error"}`), "Unhandled")
	f.Add([]byte(`{"messageVersion":"1.0","response":{"functionResponse":null,"responseBody":{"application/json":{"body":"{\"a\":1}"}}}}`), "")
	f.Add([]byte(`[]`), "")
	f.Fuzz(func(t *testing.T, payload []byte, funcErr string) {
		stub := &stubInvoker{payload: payload, funcErr: funcErr}
		fns, err := lambdatools.FunctionTools(stub, lambdatools.Options{FunctionName: "f", ActionGroup: "g"}, lambdatools.Function{Name: "f"})
		if err != nil {
			t.Fatal(err)
		}
		parts, err := fns[0].Call(context.Background(), json.RawMessage(`{}`))
		if err == nil && parts == nil {
			t.Fatal("no result and no error")
		}
		apis, _, err := lambdatools.APITools(stub, []byte(claimsAPI), lambdatools.Options{FunctionName: "f", ActionGroup: "g"})
		if err != nil {
			t.Fatal(err)
		}
		parts, err = apis[0].Call(context.Background(), json.RawMessage(`{"claimId":1,"body":{"pendingDocuments":"x"}}`))
		if err == nil && parts == nil {
			t.Fatal("no result and no error")
		}
	})
}
