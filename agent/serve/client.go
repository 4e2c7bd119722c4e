package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
)

// ClientOptions configure a Client. The zero value is usable.
type ClientOptions struct {
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Token, if set, returns the bearer token sent with each request.
	Token func(ctx context.Context) (string, error)
	// Header is added to every request (for example
	// X-Amzn-Bedrock-AgentCore-Runtime-Custom-* headers).
	Header http.Header
	// MaxResponseBytes bounds a JSON reply; 0 means 64 MiB.
	MaxResponseBytes int64
	// MaxEventBytes bounds one server-sent event; 0 means 10 MiB
	// (AgentCore's streaming chunk limit).
	MaxEventBytes int
}

// Client calls an agent served by Handler, or deployed to AgentCore
// Runtime with an OAuth authorizer, over the HTTP protocol contract. It is
// safe for concurrent use.
type Client struct {
	url  string
	opts ClientOptions
}

// NewClient returns a client for the service at endpoint: its base URL
// ("http://127.0.0.1:8080"), to which /invocations and /ping are added, or
// the invocations URL itself (ending in /invocations, query kept: the form
// of an AgentCore Runtime URL, .../runtimes/{escaped ARN}/invocations?qualifier=DEFAULT).
func NewClient(endpoint string, opts ClientOptions) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("serve: endpoint %q is not an http(s) URL: %w", endpoint, bedrockkit.ErrInvalidInput)
	}
	if !strings.HasSuffix(u.Path, "/invocations") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/invocations"
		u.RawPath = ""
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 64 << 20
	}
	if opts.MaxEventBytes <= 0 {
		opts.MaxEventBytes = 10 << 20
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	return &Client{url: u.String(), opts: opts}, nil
}

// Invoke runs a turn (or, with req.Resume, answers a pause) of the session
// and returns the reply. sessionID may be empty to start a new session
// (the reply's SessionID names it). A refused or failed invocation is an
// *Error.
func (c *Client) Invoke(ctx context.Context, sessionID string, req InvocationRequest) (*InvocationResponse, error) {
	resp, err := c.post(ctx, sessionID, req, "application/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("serve: read the reply: %w", err)
	}
	if int64(len(b)) > c.opts.MaxResponseBytes {
		return nil, fmt.Errorf("serve: the reply is larger than %d bytes (ClientOptions.MaxResponseBytes): %w", c.opts.MaxResponseBytes, bedrockkit.ErrQuotaExceeded)
	}
	var out InvocationResponse
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("serve: the reply is not an invocation response: %v: %w", err, bedrockkit.ErrInternal)
	}
	if out.SessionID == "" {
		out.SessionID = resp.Header.Get(SessionHeader)
	}
	return &out, nil
}

// Resume answers the session's paused run pendingID with decisions (see
// agent.Approve, Deny, Respond and RespondError).
func (c *Client) Resume(ctx context.Context, sessionID, pendingID string, decisions ...agent.Decision) (*InvocationResponse, error) {
	req, err := resumeRequest(pendingID, decisions)
	if err != nil {
		return nil, err
	}
	return c.Invoke(ctx, sessionID, req)
}

// Stream runs the invocation with server-sent events, yielding each event
// as it arrives; the last is "finished", "paused" or "error". A refusal
// before the stream starts, or a broken stream, is yielded as an error.
// Breaking out of the loop closes the connection, which cancels the run.
func (c *Client) Stream(ctx context.Context, sessionID string, req InvocationRequest) iter.Seq2[InvocationEvent, error] {
	return func(yield func(InvocationEvent, error) bool) {
		resp, err := c.post(ctx, sessionID, req, "text/event-stream")
		if err != nil {
			yield(InvocationEvent{}, err)
			return
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			// A server that does not stream answers one JSON document.
			var out InvocationResponse
			if err := json.NewDecoder(io.LimitReader(resp.Body, c.opts.MaxResponseBytes)).Decode(&out); err != nil {
				yield(InvocationEvent{}, fmt.Errorf("serve: the reply is neither an event stream nor an invocation response: %w", bedrockkit.ErrInternal))
				return
			}
			typ := "finished"
			if out.Status == StatusPaused {
				typ = "paused"
			}
			yield(InvocationEvent{Type: typ, Response: &out}, nil)
			return
		}
		last := ""
		for data, err := range ReadEvents(resp.Body, c.opts.MaxEventBytes) {
			if err != nil {
				yield(InvocationEvent{}, err)
				return
			}
			var ev InvocationEvent
			if err := json.Unmarshal(data, &ev); err != nil {
				yield(InvocationEvent{}, fmt.Errorf("serve: an event is not JSON: %v: %w", err, bedrockkit.ErrMalformedStream))
				return
			}
			last = ev.Type
			if !yield(ev, nil) {
				return
			}
			if last == "finished" || last == "paused" || last == "error" {
				return
			}
		}
		yield(InvocationEvent{}, fmt.Errorf("serve: the event stream ended without a final event: %w", bedrockkit.ErrMalformedStream))
	}
}

// ResumeStream is Resume with server-sent events, as Stream.
func (c *Client) ResumeStream(ctx context.Context, sessionID, pendingID string, decisions ...agent.Decision) iter.Seq2[InvocationEvent, error] {
	req, err := resumeRequest(pendingID, decisions)
	if err != nil {
		return func(yield func(InvocationEvent, error) bool) { yield(InvocationEvent{}, err) }
	}
	return c.Stream(ctx, sessionID, req)
}

// Ping asks the service for its health status.
func (c *Client) Ping(ctx context.Context) (PingStatus, error) {
	u := strings.TrimSuffix(strings.SplitN(c.url, "?", 2)[0], "/invocations") + "/ping"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return PingStatus{}, err
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return PingStatus{}, fmt.Errorf("serve: ping: %w", err)
	}
	defer resp.Body.Close()
	var s PingStatus
	if resp.StatusCode != http.StatusOK {
		return s, errorOf(resp, "")
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&s); err != nil {
		return s, fmt.Errorf("serve: ping reply: %w", err)
	}
	return s, nil
}

func resumeRequest(pendingID string, decisions []agent.Decision) (InvocationRequest, error) {
	rr := &ResumeRequest{PendingID: pendingID}
	for _, d := range decisions {
		rec, err := RecordOf(d)
		if err != nil {
			return InvocationRequest{}, err
		}
		rr.Decisions = append(rr.Decisions, rec)
	}
	return InvocationRequest{Resume: rr}, nil
}

// post sends the invocation and returns a 200 response, or the *Error.
func (c *Client) post(ctx context.Context, sessionID string, body InvocationRequest, accept string) (*http.Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("serve: encode the request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	for k, vs := range c.opts.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	if sessionID != "" {
		req.Header.Set(SessionHeader, sessionID)
	}
	if c.opts.Token != nil {
		tok, err := c.opts.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("serve: get the bearer token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("serve: invoke: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, errorOf(resp, sessionID)
	}
	return resp, nil
}

// errorOf reads an error reply.
func errorOf(resp *http.Response, sessionID string) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	e := &Error{StatusCode: resp.StatusCode, SessionID: sessionID}
	var body errorBody
	if json.Unmarshal(b, &body) == nil && body.Error != "" {
		e.Type, e.Message = body.ErrorType, body.Error
		if body.SessionID != "" {
			e.SessionID = body.SessionID
		}
	} else {
		e.Type, e.Message = statusText(resp.StatusCode), strings.TrimSpace(string(b))
	}
	return e
}

// ReadEvents reads a server-sent event stream (the text/event-stream
// format; lines end in LF, CRLF or CR) and yields the data of each event:
// its "data:" lines joined by newlines. Comments, "event:", "id:" and
// "retry:" fields and events without data are skipped; as the format
// requires, an event cut off by the end of the stream (no blank line after
// it) is discarded. An event or line larger than maxBytes, or a read
// error, is yielded as an error and ends the sequence.
func ReadEvents(r io.Reader, maxBytes int) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, min(64<<10, maxBytes+16)), maxBytes+16)
		sc.Split(splitLines)
		var data []byte
		has := false
		for sc.Scan() {
			line := sc.Bytes()
			switch {
			case len(line) == 0:
				if has && !yield(data, nil) {
					return
				}
				data, has = nil, false
			case line[0] == ':':
				// a comment (keep-alive)
			default:
				field, value, _ := bytes.Cut(line, []byte(":"))
				if string(field) != "data" {
					continue
				}
				value = bytes.TrimPrefix(value, []byte(" "))
				extra := 0
				if has {
					extra = 1
				}
				if len(data)+extra+len(value) > maxBytes {
					yield(nil, fmt.Errorf("serve: an event is larger than %d bytes: %w", maxBytes, bedrockkit.ErrMalformedStream))
					return
				}
				if has {
					data = append(data, '\n')
				}
				data = append(data, value...)
				has = true
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = fmt.Errorf("serve: an event line is longer than %d bytes: %w", maxBytes, bedrockkit.ErrMalformedStream)
			} else {
				err = fmt.Errorf("serve: read the event stream: %w", err)
			}
			yield(nil, err)
		}
	}
}

// splitLines is a bufio.SplitFunc for the event-stream line endings: LF,
// CRLF or a lone CR.
func splitLines(data []byte, atEOF bool) (int, []byte, error) {
	for i, b := range data {
		switch b {
		case '\n':
			return i + 1, data[:i], nil
		case '\r':
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if atEOF {
				return i + 1, data[:i], nil
			}
			return 0, nil, nil // a LF may follow
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
