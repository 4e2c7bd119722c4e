package bedrockkit

// Per-call options every Bedrock adapter passes to the SDK.

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/schemas"
	"github.com/aws/smithy-go/transport/http/protocol/restjson1"
)

// disableSDKRetry turns off the SDK's retryer for one call: the
// RetryPolicy is the only retry loop, so attempts do not multiply.
func disableSDKRetry(o *bedrockruntime.Options) {
	o.Retryer = aws.NopRetryer{}
}

// freshProtocol gives one ConverseStream call its own protocol (and so its
// own event-stream codec). The SDK shares one codec between all streams of
// a client, which is a data race when streams run concurrently
// (aws/smithy-go#714).
func freshProtocol(o *bedrockruntime.Options) {
	o.Protocol = restjson1.New(schemas.AmazonBedrockFrontendService)
}

// safeRequestBody works around a race between smithy-go and net/http: once
// the response headers arrive, the SDK closes the request body, whose
// WriteTo then returns io.EOF; if the transport is still draining that body
// (it checks for bytes beyond Content-Length with io.Copy, which uses
// WriteTo), it takes the io.EOF for a write error and closes the
// connection, killing a response body that is still streaming ("use of
// closed network connection"). Hiding WriteTo makes the drain use Read,
// which reports a closed body as a clean EOF.
func safeRequestBody(o *bedrockruntime.Options) {
	if o.HTTPClient != nil {
		o.HTTPClient = readOnlyBodyClient{o.HTTPClient}
	}
}

type readOnlyBodyClient struct{ next bedrockruntime.HTTPClient }

// readOnlyBody exposes only Read and Close of a request body.
type readOnlyBody struct{ rc io.ReadCloser }

func (b readOnlyBody) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b readOnlyBody) Close() error               { return b.rc.Close() }

func (c readOnlyBodyClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		if _, ok := r.Body.(io.WriterTo); ok {
			r = r.WithContext(r.Context()) // a shallow copy; the SDK keeps closing its own body
			r.Body = readOnlyBody{r.Body}
		}
	}
	return c.next.Do(r)
}
