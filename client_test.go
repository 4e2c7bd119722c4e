package bedrockkit_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// isolateAWSEnv makes the default AWS chain see nothing from the machine.
func isolateAWSEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":                        filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":            filepath.Join(dir, "credentials"),
		"AWS_PROFILE":                            "",
		"AWS_DEFAULT_PROFILE":                    "",
		"AWS_REGION":                             "",
		"AWS_DEFAULT_REGION":                     "",
		"AWS_ACCESS_KEY_ID":                      "",
		"AWS_SECRET_ACCESS_KEY":                  "",
		"AWS_SESSION_TOKEN":                      "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_ROLE_ARN":                           "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_EC2_METADATA_DISABLED":              "true",
		"AWS_ENDPOINT_URL":                       "",
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME":       "",
		bedrockkit.BearerTokenEnv:                "",
	} {
		t.Setenv(k, v)
	}
}

// authHeaderFor runs one Generate through a client from NewRuntimeClient
// against a TLS FakeBedrock and returns the Authorization header it sent.
func authHeaderFor(t *testing.T, opts bedrockkit.RuntimeClientOptions) string {
	t.Helper()
	f := bedrockkittest.NewFakeBedrockTLS(t)
	opts.Endpoint = f.URL()
	opts.HTTPClient = f.Client().Options().HTTPClient // trusts the test certificate
	client, err := bedrockkit.NewRuntimeClient(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	m, err := bedrockkit.NewConverseModel(client, claude, bedrockkit.ConverseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText("ok")})
	if _, err := m.Generate(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}}); err != nil {
		t.Fatal(err)
	}
	reqs := f.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	return reqs[0].Header.Get("Authorization")
}

func TestNewRuntimeClientAPIKey(t *testing.T) {
	leakCheck(t)
	isolateAWSEnv(t)
	if got := authHeaderFor(t, bedrockkit.RuntimeClientOptions{Region: "us-east-1", APIKey: "bedrock-api-key-123"}); got != "Bearer bedrock-api-key-123" {
		t.Errorf("Authorization = %q, want the API key as a bearer token", got)
	}
}

func TestNewRuntimeClientBearerFromEnv(t *testing.T) {
	leakCheck(t)
	isolateAWSEnv(t)
	t.Setenv(bedrockkit.BearerTokenEnv, "env-token-456")
	t.Setenv("AWS_REGION", "eu-west-1")
	if got := authHeaderFor(t, bedrockkit.RuntimeClientOptions{}); got != "Bearer env-token-456" {
		t.Errorf("Authorization = %q, want the AWS_BEARER_TOKEN_BEDROCK token", got)
	}
	// An explicit key wins over the environment.
	if got := authHeaderFor(t, bedrockkit.RuntimeClientOptions{APIKey: "explicit"}); got != "Bearer explicit" {
		t.Errorf("Authorization = %q, want the explicit key", got)
	}
}

func TestNewRuntimeClientSigV4(t *testing.T) {
	leakCheck(t)
	isolateAWSEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	got := authHeaderFor(t, bedrockkit.RuntimeClientOptions{Region: "us-west-2"})
	if !strings.HasPrefix(got, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(got, "/us-west-2/bedrock/aws4_request") {
		t.Errorf("Authorization = %q, want a SigV4 signature for us-west-2", got)
	}
}

func TestNewRuntimeClientNoRegion(t *testing.T) {
	isolateAWSEnv(t)
	_, err := bedrockkit.NewRuntimeClient(context.Background(), bedrockkit.RuntimeClientOptions{APIKey: "k"})
	if !errors.Is(err, bedrockkit.ErrInvalidInput) || !strings.Contains(err.Error(), "Region") {
		t.Fatalf("err = %v, want ErrInvalidInput naming the Region", err)
	}
}
