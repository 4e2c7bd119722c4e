package openapitools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit"
)

// caller makes one operation's HTTP calls.
type caller struct {
	op   *operation
	base *url.URL
	opts Options
}

// maxErrorExcerpt bounds the part of an error response shown to the model.
const maxErrorExcerpt = 2048

func (c *caller) run(ctx context.Context, input json.RawMessage) ([]bedrockkit.Part, error) {
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.UseNumber()
	var args map[string]any
	if err := dec.Decode(&args); err != nil {
		return nil, fmt.Errorf("arguments are not a JSON object: %v", err)
	}
	if c.opts.Invoke != nil {
		return c.opts.Invoke(ctx, c.invokeRequest(args))
	}
	req, err := c.request(ctx, args)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req = req.WithContext(ctx)
	if c.opts.Auth != nil {
		if err := c.opts.Auth.Authenticate(ctx, req); err != nil {
			// The credential's error never holds the secret; the
			// request's URL may (an API key in the query) and is left out.
			return nil, fmt.Errorf("could not authenticate the call to %s %s: %v", c.op.method, c.op.path, err)
		}
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxResponseBytes+1))
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	if int64(len(body)) > c.opts.MaxResponseBytes {
		return nil, fmt.Errorf("%s %s answered with more than %d bytes, which is over the limit; ask for less (a filter or a smaller page) if the operation allows", c.op.method, c.op.path, c.opts.MaxResponseBytes)
	}
	ct := resp.Header.Get("Content-Type")
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		excerpt := string(body)
		if len(excerpt) > maxErrorExcerpt {
			excerpt = strings.ToValidUTF8(excerpt[:maxErrorExcerpt], "") + "..."
		}
		msg := fmt.Sprintf("%s %s failed with HTTP %d %s", c.op.method, c.op.path, resp.StatusCode, http.StatusText(resp.StatusCode))
		if strings.TrimSpace(excerpt) != "" {
			msg += ": " + excerpt
		}
		return nil, errors.New(msg)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return []bedrockkit.Part{bedrockkit.Text{Text: fmt.Sprintf("HTTP %d %s (no content)", resp.StatusCode, http.StatusText(resp.StatusCode))}}, nil
	}
	if mt, _, _ := mime.ParseMediaType(ct); isJSON(mt) || mt == "" {
		trimmed := bytes.TrimSpace(body)
		if json.Valid(trimmed) {
			if trimmed[0] == '{' {
				return []bedrockkit.Part{bedrockkit.JSON{Value: json.RawMessage(trimmed)}}, nil
			}
			return []bedrockkit.Part{bedrockkit.Text{Text: string(trimmed)}}, nil
		}
	}
	if !utf8.Valid(body) {
		return []bedrockkit.Part{bedrockkit.Text{Text: fmt.Sprintf("HTTP %d: %d bytes of %s (binary, not shown)", resp.StatusCode, len(body), ct)}}, nil
	}
	return []bedrockkit.Part{bedrockkit.Text{Text: string(body)}}, nil
}

// invokeRequest splits the arguments for Options.Invoke.
func (c *caller) invokeRequest(args map[string]any) Request {
	r := Request{OperationID: c.op.operationID, Method: strings.ToUpper(c.op.method), Path: c.op.path, MediaType: c.op.bodyType, BodyTypes: c.op.bodyTypes}
	for _, p := range c.op.params {
		if v, ok := args[p.prop]; ok && v != nil {
			r.Parameters = append(r.Parameters, RequestParameter{Name: p.name, In: p.in, Type: p.typ, Value: v})
		}
	}
	if c.op.bodyProp != "" {
		r.Body = args[c.op.bodyProp]
	}
	return r
}

// transportError describes a failed request without its URL, whose query
// may hold a credential.
func (c *caller) transportError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s %s timed out after %s: %w", c.op.method, c.op.path, c.opts.Timeout, context.DeadlineExceeded)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s %s could not be reached: %v", c.op.method, c.op.path, err)
}

// request builds the HTTP request from validated arguments.
func (c *caller) request(ctx context.Context, args map[string]any) (*http.Request, error) {
	parts := requestParts{path: c.op.path, query: url.Values{}, header: http.Header{}}
	for _, p := range c.op.params {
		v, ok := args[p.prop]
		if !ok || v == nil {
			if p.in == "path" {
				return nil, fmt.Errorf("path parameter %q is required", p.prop)
			}
			continue
		}
		if err := parts.add(p, v); err != nil {
			return nil, err
		}
	}
	u, err := c.requestURL(parts.path, parts.query)
	if err != nil {
		return nil, err
	}
	header := parts.header
	var body io.Reader
	if c.op.bodyProp != "" {
		if v, ok := args[c.op.bodyProp]; ok {
			b, err := encodeBody(c.op.bodyType, v)
			if err != nil {
				return nil, fmt.Errorf("request body: %v", err)
			}
			body = bytes.NewReader(b)
			header.Set("Content-Type", c.op.bodyType)
		}
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(c.op.method), u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("cannot build the request: %v", err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if len(parts.cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(parts.cookies, "; "))
	}
	req.Header.Set("Accept", "application/json, */*;q=0.5")
	return req, nil
}

// requestParts are the parts of a request the parameters fill in.
type requestParts struct {
	path    string // the path template, filled with escaped values
	query   url.Values
	header  http.Header
	cookies []string
}

// add serializes one parameter's value in its style into its place.
func (r *requestParts) add(p param, v any) error {
	if p.json {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("parameter %q: %v", p.prop, err)
		}
		v = string(b)
	}
	switch p.in {
	case "path":
		s, err := simple(v, p.explode)
		if err != nil {
			return fmt.Errorf("path parameter %q: %v", p.prop, err)
		}
		if s == "" || s == "." || s == ".." {
			return fmt.Errorf("path parameter %q cannot be %q", p.prop, s)
		}
		r.path = strings.ReplaceAll(r.path, "{"+p.name+"}", url.PathEscape(s))
	case "query":
		if err := addQuery(r.query, p, v); err != nil {
			return fmt.Errorf("query parameter %q: %v", p.prop, err)
		}
	case "header":
		s, err := simple(v, p.explode)
		if err != nil {
			return fmt.Errorf("header parameter %q: %v", p.prop, err)
		}
		if strings.ContainsAny(s, "\r\n\x00") {
			return fmt.Errorf("header parameter %q cannot hold line breaks", p.prop)
		}
		r.header.Set(p.name, s)
	case "cookie":
		s, err := simple(v, false)
		if err != nil {
			return fmt.Errorf("cookie parameter %q: %v", p.prop, err)
		}
		if strings.ContainsAny(s, ";\r\n\x00") {
			return fmt.Errorf("cookie parameter %q cannot hold ';' or line breaks", p.prop)
		}
		r.cookies = append(r.cookies, p.name+"="+url.QueryEscape(s))
	}
	return nil
}

// requestURL joins the filled path to the base URL and adds the query.
func (c *caller) requestURL(path string, query url.Values) (*url.URL, error) {
	if strings.Contains(path, "{") {
		return nil, fmt.Errorf("the path %s still has a template after filling the parameters", path)
	}
	// path holds escaped parameter values: keep that form as RawPath so a
	// "/" or "?" inside a value never becomes a path or query separator.
	u := *c.base
	escaped := c.base.EscapedPath() + path
	unescaped, err := url.PathUnescape(escaped)
	if err != nil {
		return nil, fmt.Errorf("the path %s is not valid: %v", path, err)
	}
	u.Path, u.RawPath = unescaped, escaped
	u.RawQuery = query.Encode()
	return &u, nil
}

// scalar formats a primitive JSON value.
func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	}
	return "", fmt.Errorf("expected a string, number or boolean, got %T", v)
}

// simple serializes a value in OpenAPI's "simple" style.
func simple(v any, explode bool) (string, error) {
	switch x := v.(type) {
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, err := scalar(e)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	case map[string]any:
		var parts []string
		for _, k := range sortedKeys(x) {
			s, err := scalar(x[k])
			if err != nil {
				return "", err
			}
			if explode {
				parts = append(parts, k+"="+s)
			} else {
				parts = append(parts, k, s)
			}
		}
		return strings.Join(parts, ","), nil
	}
	return scalar(v)
}

// addQuery serializes a query parameter by its style.
func addQuery(q url.Values, p param, v any) error {
	switch x := v.(type) {
	case []any:
		var parts []string
		for _, e := range x {
			s, err := scalar(e)
			if err != nil {
				return err
			}
			parts = append(parts, s)
		}
		switch {
		case p.style == "form" && p.explode:
			for _, s := range parts {
				q.Add(p.name, s)
			}
		case p.style == "spaceDelimited":
			q.Set(p.name, strings.Join(parts, " "))
		case p.style == "pipeDelimited":
			q.Set(p.name, strings.Join(parts, "|"))
		default:
			q.Set(p.name, strings.Join(parts, ","))
		}
		return nil
	case map[string]any:
		keys := sortedKeys(x)
		switch {
		case p.style == "deepObject":
			for _, k := range keys {
				s, err := simple(x[k], true)
				if err != nil {
					return err
				}
				q.Set(p.name+"["+k+"]", s)
			}
		case p.explode:
			for _, k := range keys {
				s, err := simple(x[k], true)
				if err != nil {
					return err
				}
				q.Set(k, s)
			}
		default:
			s, err := simple(x, false)
			if err != nil {
				return err
			}
			q.Set(p.name, s)
		}
		return nil
	}
	s, err := scalar(v)
	if err != nil {
		return err
	}
	q.Set(p.name, s)
	return nil
}

// encodeBody encodes the body argument for the chosen media type.
func encodeBody(mediaType string, v any) ([]byte, error) {
	switch {
	case mediaType == "application/x-www-form-urlencoded":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("a form body must be an object, not %T", v)
		}
		form := url.Values{}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch x := m[k].(type) {
			case []any:
				for _, e := range x {
					s, err := scalar(e)
					if err != nil {
						return nil, fmt.Errorf("%q: %v", k, err)
					}
					form.Add(k, s)
				}
			case map[string]any:
				b, err := json.Marshal(x)
				if err != nil {
					return nil, err
				}
				form.Set(k, string(b))
			case nil:
			default:
				s, err := scalar(x)
				if err != nil {
					return nil, fmt.Errorf("%q: %v", k, err)
				}
				form.Set(k, s)
			}
		}
		return []byte(form.Encode()), nil
	case mediaType == "text/plain":
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
		return json.Marshal(v)
	}
	return json.Marshal(v)
}
