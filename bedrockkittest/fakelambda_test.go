package bedrockkittest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestFakeLambdaInvoke(t *testing.T) {
	f := bedrockkittest.NewFakeLambda(t)
	f.AddFunction("echo", func(ctx context.Context, p []byte) ([]byte, error) { return p, nil })
	f.AddFunction("fail", func(ctx context.Context, p []byte) ([]byte, error) { return nil, errors.New("boom") })
	f.AddFunction("panic", func(ctx context.Context, p []byte) ([]byte, error) { panic("oops") })
	c := f.Client()
	ctx := context.Background()
	for _, name := range []string{"echo", "echo:live", "arn:aws:lambda:us-east-1:123456789012:function:echo", "arn:aws:lambda:us-east-1:123456789012:function:echo:7", "123456789012:function:echo"} {
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{"a":1}`)})
		if err != nil || string(out.Payload) != `{"a":1}` || out.StatusCode != 200 || out.FunctionError != nil {
			t.Fatalf("%s: %v %+v", name, err, out)
		}
	}
	inv := f.Invocations()
	if inv[3].Qualifier != "7" || inv[1].Qualifier != "live" {
		t.Fatalf("qualifiers: %+v", inv)
	}
	for _, name := range []string{"fail", "panic"} {
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{}`)})
		if err != nil || aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "errorMessage") {
			t.Fatalf("%s: %v %+v", name, err, out)
		}
	}
	_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("missing")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("missing function: %v", err)
	}
	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: make([]byte, 7<<20)})
	var tl *types.RequestTooLargeException
	if !errors.As(err, &tl) {
		t.Fatalf("large payload: %v", err)
	}
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || out.StatusCode != http.StatusNoContent {
		t.Fatalf("dry run: %v %+v", err, out)
	}
	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{}`)})
	if err != nil || out.StatusCode != http.StatusAccepted {
		t.Fatalf("event: %v %+v", err, out)
	}
}

// FuzzFakeLambda sends arbitrary bodies and headers: the fake answers,
// never panics.
func FuzzFakeLambda(f *testing.F) {
	f.Add("echo", "RequestResponse", []byte(`{"a":1}`))
	f.Add("arn:aws:lambda:x:1:function:echo:1", "Event", []byte(`[`))
	f.Add("echo", "Bogus", []byte(``))
	fl := bedrockkittest.StartFakeLambda()
	defer fl.Close()
	fl.AddFunction("echo", func(ctx context.Context, p []byte) ([]byte, error) { return p, nil })
	f.Fuzz(func(t *testing.T, name, typ string, body []byte) {
		req, err := http.NewRequest("POST", fl.URL()+"/2015-03-31/functions/"+strings.ReplaceAll(name, "/", "_")+"/invocations", strings.NewReader(string(body)))
		if err != nil {
			return
		}
		req.Header.Set("X-Amz-Invocation-Type", strings.Map(func(r rune) rune {
			if r < 0x20 || r > 0x7e {
				return -1
			}
			return r
		}, typ))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}
