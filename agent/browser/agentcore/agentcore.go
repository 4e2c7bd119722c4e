package agentcore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	"github.com/aws/smithy-go"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/browser"
)

// SystemBrowser is AWS's built-in browser.
const SystemBrowser = "aws.browser.v1"

// service is the SigV4 signing name of the AgentCore data plane.
const service = "bedrock-agentcore"

// emptyPayloadHash is the SHA-256 of an empty body.
const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Client is the part of *bedrockagentcore.Client the backend calls.
type Client interface {
	StartBrowserSession(ctx context.Context, in *bedrockagentcore.StartBrowserSessionInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.StartBrowserSessionOutput, error)
	StopBrowserSession(ctx context.Context, in *bedrockagentcore.StopBrowserSessionInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.StopBrowserSessionOutput, error)
}

// Options configure a Backend. The zero value gives the defaults, taking
// the region and credentials from the client when it is a
// *bedrockagentcore.Client.
type Options struct {
	// Identifier is the browser to use; "" means SystemBrowser.
	Identifier string
	// SessionName names the sessions (1 to 100 characters); "" leaves
	// them unnamed.
	SessionName string
	// Region and Credentials sign the automation stream's WebSocket
	// handshake (SigV4, service bedrock-agentcore). Empty means the
	// client's.
	Region      string
	Credentials aws.CredentialsProvider
	// StopTimeout bounds StopBrowserSession when a session is released;
	// 0 means 30 seconds.
	StopTimeout time.Duration
}

// Backend starts Amazon Bedrock AgentCore Browser sessions: a
// browser.Backend whose browsers run in AWS. Launch calls
// StartBrowserSession (the session's timeout is the request's, so the
// service ends a session even if it is never released), connects to the
// session's automation stream with SigV4-signed headers, and the
// instance's Close calls StopBrowserSession.
//
// The session's origin allow-list is enforced by request interception
// in the browser, as for a local one; AgentCore's network is not
// narrowed further (give the browser a proxyConfiguration for that).
// Uploads of local files do not apply: paths name files on the remote
// machine.
type Backend struct {
	client Client
	opts   Options
}

// New returns a Backend calling AgentCore through client, usually a
// *bedrockagentcore.Client.
func New(client Client, opts Options) *Backend {
	if opts.Identifier == "" {
		opts.Identifier = SystemBrowser
	}
	if c, ok := client.(*bedrockagentcore.Client); ok && c != nil {
		o := c.Options()
		if opts.Region == "" {
			opts.Region = o.Region
		}
		if opts.Credentials == nil {
			opts.Credentials = o.Credentials
		}
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 30 * time.Second
	}
	return &Backend{client: client, opts: opts}
}

// Launch starts a session and connects to it.
func (b *Backend) Launch(ctx context.Context, req browser.LaunchRequest) (browser.Instance, error) {
	if b.client == nil {
		return nil, fmt.Errorf("browser/agentcore: no client: %w", bedrockkit.ErrInvalidInput)
	}
	if b.opts.Region == "" || b.opts.Credentials == nil {
		return nil, fmt.Errorf("browser/agentcore: the automation stream is signed with a region and credentials: set Options.Region and Options.Credentials, or pass a *bedrockagentcore.Client: %w", bedrockkit.ErrInvalidInput)
	}
	in := &bedrockagentcore.StartBrowserSessionInput{BrowserIdentifier: aws.String(b.opts.Identifier)}
	if b.opts.SessionName != "" {
		in.Name = aws.String(b.opts.SessionName)
	}
	if req.Timeout > 0 {
		secs := int32(min(max(req.Timeout/time.Second, 1), 28800))
		in.SessionTimeoutSeconds = aws.Int32(secs)
	}
	if vp := req.Viewport; vp.Width > 0 && vp.Height > 0 {
		in.ViewPort = &types.ViewPort{Width: aws.Int32(int32(min(max(vp.Width, 320), 3840))), Height: aws.Int32(int32(min(max(vp.Height, 240), 2160)))}
	}
	out, err := b.client.StartBrowserSession(ctx, in)
	if err != nil {
		return nil, classify("start a browser session", err)
	}
	sid := aws.ToString(out.SessionId)
	if sid == "" {
		return nil, fmt.Errorf("browser/agentcore: StartBrowserSession returned no session ID: %w", bedrockkit.ErrInternal)
	}
	stop := func(ctx context.Context) error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.opts.StopTimeout)
		defer cancel()
		_, err := b.client.StopBrowserSession(sctx, &bedrockagentcore.StopBrowserSessionInput{BrowserIdentifier: aws.String(b.opts.Identifier), SessionId: aws.String(sid)})
		var nf *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &nf) {
			return classify("stop browser session "+sid, err)
		}
		return nil
	}
	endpoint := ""
	if out.Streams != nil && out.Streams.AutomationStream != nil {
		endpoint = aws.ToString(out.Streams.AutomationStream.StreamEndpoint)
	}
	if endpoint == "" {
		endpoint = fmt.Sprintf("wss://bedrock-agentcore.%s.amazonaws.com/browser-streams/%s/sessions/%s/automation", b.opts.Region, url.PathEscape(b.opts.Identifier), sid)
	}
	header, err := SignStream(ctx, endpoint, b.opts.Region, b.opts.Credentials, time.Now())
	if err != nil {
		return nil, errors.Join(err, stop(ctx))
	}
	// Connect stops the session itself if it cannot connect.
	return browser.Connect(ctx, endpoint, browser.ConnectOptions{Header: header, ID: "agentcore browser session " + sid, Release: stop})
}

// SignStream returns the headers that authenticate a WebSocket handshake
// to an AgentCore stream endpoint (wss://...): a SigV4 signature of a GET
// of the same URL over https, service bedrock-agentcore, empty payload,
// signing the host and x-amz-date headers (and the session token of
// temporary credentials) — as AgentCore's own SDKs sign it.
func SignStream(ctx context.Context, endpoint, region string, creds aws.CredentialsProvider, at time.Time) (http.Header, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("browser/agentcore: stream endpoint %q is not a URL: %w", endpoint, bedrockkit.ErrInvalidInput)
	}
	switch u.Scheme {
	case "wss", "https":
		u.Scheme = "https"
	case "ws", "http":
		u.Scheme = "https" // signed as the service signs it; the fake serves plain ws
	default:
		return nil, fmt.Errorf("browser/agentcore: stream endpoint %q is not a WebSocket URL: %w", endpoint, bedrockkit.ErrInvalidInput)
	}
	c, err := creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("browser/agentcore: credentials for the automation stream: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("browser/agentcore: %w", err)
	}
	if err := v4.NewSigner().SignHTTP(ctx, c, req, emptyPayloadHash, service, region, at.UTC()); err != nil {
		return nil, fmt.Errorf("browser/agentcore: sign the automation stream: %w", err)
	}
	h := http.Header{}
	for _, k := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if v := req.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	return h, nil
}

// classify maps an SDK error onto the root sentinels.
func classify(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("browser/agentcore: %s: %w", what, err)
	}
	var (
		ve *types.ValidationException
		nf *types.ResourceNotFoundException
		ad *types.AccessDeniedException
		th *types.ThrottlingException
		sq *types.ServiceQuotaExceededException
		is *types.InternalServerException
	)
	var sentinel error
	switch {
	case errors.As(err, &ve):
		sentinel = bedrockkit.ErrValidation
	case errors.As(err, &nf):
		sentinel = bedrockkit.ErrNotFound
	case errors.As(err, &ad):
		sentinel = bedrockkit.ErrAccessDenied
	case errors.As(err, &th):
		sentinel = bedrockkit.ErrThrottled
	case errors.As(err, &sq):
		sentinel = bedrockkit.ErrQuotaExceeded
	case errors.As(err, &is):
		sentinel = bedrockkit.ErrInternal
	default:
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultServer {
			sentinel = bedrockkit.ErrServiceUnavailable
		}
	}
	if sentinel == nil {
		return fmt.Errorf("browser/agentcore: %s: %w", what, err)
	}
	return fmt.Errorf("browser/agentcore: %s: %w: %w", what, sentinel, err)
}
