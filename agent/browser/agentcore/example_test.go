package agentcore_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/bedrockkit/bedrockkit/agent/browser/agentcore"
)

// The automation stream's WebSocket handshake carries a SigV4 signature
// of a GET of the same URL over https.
func ExampleSignStream() {
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")
	h, err := agentcore.SignStream(context.Background(),
		"wss://bedrock-agentcore.us-east-1.amazonaws.com/browser-streams/aws.browser.v1/sessions/s1/automation",
		"us-east-1", creds, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Get("X-Amz-Date"))
	auth := h.Get("Authorization")
	fmt.Println(auth[:strings.Index(auth, ", Signature=")])
	// Output:
	// 20261201T100000Z
	// AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/bedrock-agentcore/aws4_request, SignedHeaders=host;x-amz-date
}
