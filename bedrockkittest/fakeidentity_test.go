package bedrockkittest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestFakeIdentity(t *testing.T) {
	f := bedrockkittest.NewFakeIdentity(t)
	f.AddWorkload("agent-1")
	f.AddAPIKey("keys", "k-123")
	f.AddOAuth2("oauth", "tok-1")
	c := f.Client()
	ctx := context.Background()
	wat, err := c.GetWorkloadAccessTokenForUserId(ctx, &bedrockagentcore.GetWorkloadAccessTokenForUserIdInput{WorkloadName: aws.String("agent-1"), UserId: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := f.WorkloadTokenUser(aws.ToString(wat.WorkloadAccessToken)); !ok || u != "user:alice" {
		t.Fatalf("binding %q %v", u, ok)
	}
	k, err := c.GetResourceApiKey(ctx, &bedrockagentcore.GetResourceApiKeyInput{WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("keys")})
	if err != nil || aws.ToString(k.ApiKey) != "k-123" {
		t.Fatalf("api key: %v", err)
	}
	// User federation: authorization URL, consent through CompleteResourceTokenAuth, then the token.
	in := &bedrockagentcore.GetResourceOauth2TokenInput{WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("oauth"),
		Scopes: []string{"read"}, Oauth2Flow: types.Oauth2FlowTypeUserFederation}
	out, err := c.GetResourceOauth2Token(ctx, in)
	if err != nil || aws.ToString(out.AuthorizationUrl) == "" || out.SessionStatus != "IN_PROGRESS" {
		t.Fatalf("first call: %v %+v", err, out)
	}
	if _, err := c.CompleteResourceTokenAuth(ctx, &bedrockagentcore.CompleteResourceTokenAuthInput{SessionUri: out.SessionUri, UserIdentifier: &types.UserIdentifierMemberUserId{Value: "mallory"}}); err == nil {
		t.Fatal("another user completed the consent")
	}
	if _, err := c.CompleteResourceTokenAuth(ctx, &bedrockagentcore.CompleteResourceTokenAuthInput{SessionUri: out.SessionUri, UserIdentifier: &types.UserIdentifierMemberUserId{Value: "alice"}}); err != nil {
		t.Fatal(err)
	}
	in.SessionUri = out.SessionUri
	out, err = c.GetResourceOauth2Token(ctx, in)
	if err != nil || aws.ToString(out.AccessToken) != "tok-1" {
		t.Fatalf("after consent: %v %+v", err, out)
	}
	// Errors with the service's codes.
	_, err = c.GetWorkloadAccessToken(ctx, &bedrockagentcore.GetWorkloadAccessTokenInput{WorkloadName: aws.String("no")})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Fatalf("short name: %v", err)
	}
	_, err = c.GetResourceApiKey(ctx, &bedrockagentcore.GetResourceApiKeyInput{WorkloadIdentityToken: aws.String("forged"), ResourceCredentialProviderName: aws.String("keys")})
	var ue *types.UnauthorizedException
	if !errors.As(err, &ue) {
		t.Fatalf("forged token: %v", err)
	}
	_, err = c.GetResourceApiKey(ctx, &bedrockagentcore.GetResourceApiKeyInput{WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("unknown provider: %v", err)
	}
}

// FuzzFakeIdentity sends arbitrary bodies to every operation: the fake
// answers with a 2xx or 4xx, never panics or fails with 5xx.
func FuzzFakeIdentity(f *testing.F) {
	f.Add(0, []byte(`{"workloadName":"agent-1"}`))
	f.Add(3, []byte(`{"workloadIdentityToken":"x","resourceCredentialProviderName":"keys"}`))
	f.Add(4, []byte(`{"workloadIdentityToken":"x","resourceCredentialProviderName":"oauth","scopes":[],"oauth2Flow":"USER_FEDERATION","sessionUri":"urn:ietf:params:oauth:request_uri:"}`))
	f.Add(5, []byte(`{"sessionUri":1}`))
	fi := bedrockkittest.StartFakeIdentity()
	defer fi.Close()
	fi.AddWorkload("agent-1")
	fi.AddAPIKey("keys", "k")
	fi.AddOAuth2("oauth", "t")
	paths := []string{"GetWorkloadAccessToken", "GetWorkloadAccessTokenForJWT", "GetWorkloadAccessTokenForUserId", "api-key", "oauth2/token", "CompleteResourceTokenAuth"}
	f.Fuzz(func(t *testing.T, op int, body []byte) {
		if op < 0 {
			op = -op
		}
		resp, err := http.Post(fi.URL()+"/identities/"+paths[op%len(paths)], "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}
