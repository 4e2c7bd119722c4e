package openapitools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/credentials"
)

// Defaults used when Options leaves a limit at zero.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxResponseBytes = 1 << 20
	DefaultMaxSchemaBytes   = 256 << 10
	// MaxDocumentBytes bounds the document Parse accepts.
	MaxDocumentBytes = 64 << 20
)

// ErrInvalidDocument wraps every reason Parse refuses a document, and
// bedrockkit.ErrInvalidInput.
var ErrInvalidDocument = fmt.Errorf("openapitools: invalid OpenAPI document: %w", bedrockkit.ErrInvalidInput)

// Document is a parsed OpenAPI 3.0 or 3.1 description.
type Document struct {
	doc *openapi3.T
}

// Parse reads an OpenAPI 3.x document in JSON or YAML and resolves its
// internal references ("#/components/..."). References to other files or
// URLs are refused: a document is turned into tools from what it holds,
// never from what it points at.
func Parse(data []byte) (d *Document, err error) {
	if len(data) > MaxDocumentBytes {
		return nil, fmt.Errorf("openapitools: %d bytes, more than %d: %w", len(data), MaxDocumentBytes, ErrInvalidDocument)
	}
	defer func() {
		if v := recover(); v != nil {
			d, err = nil, fmt.Errorf("openapitools: the parser failed on it (%v): %w", v, ErrInvalidDocument)
		}
	}()
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("openapitools: %v: %w", err, ErrInvalidDocument)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		return nil, fmt.Errorf("openapitools: openapi version %q; only OpenAPI 3.x is supported (convert Swagger 2.0 first): %w", doc.OpenAPI, ErrInvalidDocument)
	}
	if doc.Paths == nil || doc.Paths.Len() == 0 {
		return nil, fmt.Errorf("openapitools: it has no paths: %w", ErrInvalidDocument)
	}
	return &Document{doc: doc}, nil
}

// Title returns the document's info.title.
func (d *Document) Title() string {
	if d.doc.Info == nil {
		return ""
	}
	return d.doc.Info.Title
}

// Options configure the tools made from a document. The zero value calls
// the document's first server with DefaultTimeout and
// DefaultMaxResponseBytes, no authentication, every operation.
type Options struct {
	// BaseURL is the server to call; empty means the document's first
	// server URL (its variables at their defaults), which must then be
	// absolute.
	BaseURL string
	// Operations selects the operations to turn into tools, by
	// operationId (or by tool name for operations without one); empty
	// means all. Naming one the document lacks is an error.
	Operations []string
	// Auth authenticates every request (see agent/credentials); nil sends
	// none.
	Auth credentials.Auth
	// HTTPClient makes the calls; nil means a client that follows
	// redirects only within the server's scheme and host (so a credential
	// set by Auth never follows a redirect elsewhere) and has no overall
	// timeout (Timeout bounds each call through its context). A client
	// given here redirects as it is configured to.
	HTTPClient *http.Client
	// Timeout bounds each call; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxResponseBytes bounds the response body read; a longer response is
	// an error result. 0 means DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// MaxSchemaBytes bounds a tool's argument schema once references are
	// inlined; an operation over it is skipped. 0 means
	// DefaultMaxSchemaBytes.
	MaxSchemaBytes int
	// NamePrefix goes before every tool name (for example "bank___" as a
	// gateway target).
	NamePrefix string
	// ToolOptions are the settings of every tool (confirmation, timeout).
	ToolOptions agent.ToolOptions
	// Invoke, if set, runs the calls instead of HTTP: it receives each
	// validated call split by parameter location (agent/lambdatools uses
	// it to send Bedrock Agents' API-schema events to a Lambda function).
	// BaseURL, Auth, HTTPClient and MaxResponseBytes are then unused.
	Invoke func(ctx context.Context, req Request) ([]bedrockkit.Part, error)
}

// Request is one operation call as Options.Invoke receives it.
type Request struct {
	OperationID string
	// Method is upper case; Path is the path template ("/pets/{petId}").
	Method, Path string
	// Parameters are the parameters the call gives, in the operation's
	// order.
	Parameters []RequestParameter
	// Body is the decoded request body (numbers as json.Number), or nil
	// when the call has none; MediaType is the body's media type.
	Body      any
	MediaType string
	// BodyTypes are the JSON Schema types of the body's top-level
	// properties, where the schema declares them.
	BodyTypes map[string]string
}

// RequestParameter is one parameter of a Request.
type RequestParameter struct {
	// Name and In are the parameter's name and location (path, query,
	// header, cookie); Type is its schema's type ("string" when the
	// schema declares none).
	Name, In, Type string
	// Value is the decoded argument (numbers as json.Number).
	Value any
}

// Report says what became of each operation.
type Report struct {
	// Converted lists the tools made, as "METHOD /path -> name".
	Converted []string
	// Skipped lists the operations left out and why.
	Skipped []Skipped
	// DroppedPatterns counts schema patterns left out of tool schemas
	// because Go's regexp cannot compile them (ECMAScript-only syntax);
	// the server still checks them.
	DroppedPatterns int
}

// Skipped is an operation that did not become a tool.
type Skipped struct {
	Method, Path, OperationID string
	Reason                    string
}

// param is one argument of an operation.
type param struct {
	prop    string // property name in the tool's arguments
	name    string
	typ     string // the schema's type, for Options.Invoke
	in      string // path, query, header, cookie
	style   string
	explode bool
	json    bool // content-encoded parameter: sent as JSON text
}

// operation is what a tool needs to make its call.
type operation struct {
	method, path string
	params       []param
	bodyProp     string
	bodyType     string // media type sent; "" when no body
	bodyTypes    map[string]string
	operationID  string
}

var invalidName = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

// toolName makes a Bedrock-valid tool name (1-64 of [a-zA-Z0-9_-]).
func toolName(prefix, id, method, path string) string {
	base := id
	if base == "" {
		base = strings.ToLower(method) + path
	}
	n := strings.Trim(invalidName.ReplaceAllString(base, "_"), "_")
	if n == "" {
		n = "op"
	}
	n = prefix + n
	if len(n) > 64 {
		h := sha256.Sum256([]byte(n))
		n = n[:55] + "_" + hex.EncodeToString(h[:4])
	}
	return n
}

// Tools turns the document's operations into agent tools, one per
// operation, whose arguments are the operation's parameters (by name) and
// its request body ("body"). It returns an error for options that cannot
// work (an unknown operation, no usable server URL); operations that
// cannot be converted are reported in the Report and left out.
func (d *Document) Tools(opts Options) ([]*agent.Tool, *Report, error) {
	var base *url.URL
	if opts.Invoke == nil {
		var err error
		if base, err = d.baseURL(opts.BaseURL); err != nil {
			return nil, nil, err
		}
	}
	opts = withToolDefaults(opts, base)
	want := map[string]bool{}
	for _, o := range opts.Operations {
		want[o] = false
	}
	rep := &Report{}
	var tools []*agent.Tool
	used := map[string]int{}
	paths := d.doc.Paths.Map()
	for _, p := range sortedKeys(paths) {
		item := paths[p]
		ops := item.Operations()
		for _, m := range sortedKeys(ops) {
			op := ops[m]
			name := toolName(opts.NamePrefix, op.OperationID, m, p)
			if !selectOperation(want, op.OperationID, name) {
				continue
			}
			if n := used[name]; n > 0 {
				used[name] = n + 1
				name = toolName("", fmt.Sprintf("%s_%d", name, n+1), "", "")
			} else {
				used[name] = 1
			}
			t, err := d.tool(name, m, p, item, op, base, opts, rep)
			if err != nil {
				rep.Skipped = append(rep.Skipped, Skipped{Method: m, Path: p, OperationID: op.OperationID, Reason: err.Error()})
				continue
			}
			tools = append(tools, t)
			rep.Converted = append(rep.Converted, fmt.Sprintf("%s %s -> %s", m, p, name))
		}
	}
	if err := missingOperations(want); err != nil {
		return nil, nil, err
	}
	return tools, rep, nil
}

// withToolDefaults fills in the zero limits and, when calling base, a
// client that follows redirects only within base's origin.
func withToolDefaults(opts Options, base *url.URL) Options {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if opts.MaxSchemaBytes <= 0 {
		opts.MaxSchemaBytes = DefaultMaxSchemaBytes
	}
	if opts.HTTPClient == nil && base != nil {
		host, scheme := base.Host, base.Scheme
		opts.HTTPClient = &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != host || req.URL.Scheme != scheme {
				return fmt.Errorf("redirect to %s://%s refused: tools follow redirects only within %s://%s", req.URL.Scheme, req.URL.Host, scheme, host)
			}
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			return nil
		}}
	}
	return opts
}

// selectOperation reports whether Options.Operations (want; empty for
// all) selects the operation by its ID or tool name, and marks what it
// named as found.
func selectOperation(want map[string]bool, id, name string) bool {
	if len(want) == 0 {
		return true
	}
	_, byID := want[id]
	_, byName := want[name]
	if !byID && !byName {
		return false
	}
	if byID {
		want[id] = true
	}
	if byName {
		want[name] = true
	}
	return true
}

// missingOperations reports the operations Options.Operations named that
// the document does not have.
func missingOperations(want map[string]bool) error {
	var missing []string
	for o, found := range want {
		if !found {
			missing = append(missing, o)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("openapitools: the document has no operation %s; Options.Operations takes operationIds or tool names: %w", strings.Join(missing, ", "), bedrockkit.ErrInvalidInput)
	}
	return nil
}

// baseURL picks the server to call.
func (d *Document) baseURL(override string) (*url.URL, error) {
	raw := override
	if raw == "" {
		if len(d.doc.Servers) == 0 {
			return nil, fmt.Errorf("openapitools: the document names no server; set Options.BaseURL: %w", bedrockkit.ErrInvalidInput)
		}
		s := d.doc.Servers[0]
		raw = s.URL
		for k, v := range s.Variables {
			if v != nil {
				raw = strings.ReplaceAll(raw, "{"+k+"}", v.Default)
			}
		}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openapitools: server URL %q is not an absolute http(s) URL; set Options.BaseURL: %w", raw, bedrockkit.ErrInvalidInput)
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// ignoredHeaders are header parameters OpenAPI says to ignore: the client
// sets them itself (Accept, Content-Type) or they carry credentials, which
// come from Options.Auth and never from the model.
var ignoredHeaders = map[string]bool{"accept": true, "content-type": true, "authorization": true}

// arguments builds the argument properties of an operation and the plan
// of its call.
func arguments(conv *converter, method, path string, item *openapi3.PathItem, op *openapi3.Operation) (map[string]any, []any, *operation, error) {
	props := map[string]any{}
	var required []any
	o := &operation{method: method, path: path}
	all := mergedParameters(item, op)
	names := map[string]int{}
	for _, pr := range all {
		names[pr.Value.Name]++
	}
	for _, pr := range all {
		p := pr.Value
		if p.In == "header" && ignoredHeaders[strings.ToLower(p.Name)] {
			continue
		}
		pa, schema, err := paramArgument(conv, p, names[p.Name] > 1)
		if err != nil {
			return nil, nil, nil, err
		}
		props[pa.prop] = schema
		if p.Required || p.In == "path" {
			required = append(required, pa.prop)
		}
		o.params = append(o.params, pa)
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		req, err := bodyArgument(conv, rb.Value, props, o)
		if err != nil {
			return nil, nil, nil, err
		}
		if req {
			required = append(required, o.bodyProp)
		}
	}
	return props, required, o, nil
}

// mergedParameters is the operation's parameters followed by the path
// item's: path-level parameters apply unless the operation overrides them.
func mergedParameters(item *openapi3.PathItem, op *openapi3.Operation) openapi3.Parameters {
	var all openapi3.Parameters
	seen := map[string]bool{}
	for _, ps := range []openapi3.Parameters{op.Parameters, item.Parameters} {
		for _, pr := range ps {
			if pr == nil || pr.Value == nil {
				continue
			}
			k := pr.Value.In + "\x00" + pr.Value.Name
			if !seen[k] {
				seen[k] = true
				all = append(all, pr)
			}
		}
	}
	return all
}

// paramArgument builds the argument of one parameter (named by location
// too when its name is shared, or is "body") and how to send it.
func paramArgument(conv *converter, p *openapi3.Parameter, shared bool) (param, map[string]any, error) {
	switch p.In {
	case "path", "query", "header", "cookie":
	default:
		return param{}, nil, fmt.Errorf("parameter %q is in %q, which OpenAPI does not define", p.Name, p.In)
	}
	prop := p.Name
	if shared || p.Name == "body" {
		prop = p.In + "_" + p.Name
	}
	pa := param{prop: prop, name: p.Name, in: p.In, style: p.Style}
	schema, isJSON, err := paramSchema(conv, p)
	if err != nil {
		return param{}, nil, err
	}
	pa.json = isJSON
	if pa.style == "" {
		if p.In == "query" || p.In == "cookie" {
			pa.style = "form"
		} else {
			pa.style = "simple"
		}
	}
	pa.explode = pa.style == "form"
	if p.Explode != nil {
		pa.explode = *p.Explode
	}
	if p.Description != "" {
		if _, ok := schema["description"]; !ok {
			schema["description"] = p.Description
		}
	}
	pa.typ, _ = schema["type"].(string)
	if pa.typ == "" {
		pa.typ = "string"
	}
	if (p.Required || p.In == "path") && schema["type"] == "array" {
		// A required array parameter sent empty is no parameter at
		// all on the wire: ask for at least one item.
		if _, ok := schema["minItems"]; !ok {
			schema["minItems"] = 1
		}
	}
	return pa, schema, nil
}

// paramSchema converts a parameter's schema, or that of its content
// (JSON preferred), which is then sent as JSON text.
func paramSchema(conv *converter, p *openapi3.Parameter) (schema map[string]any, isJSON bool, err error) {
	switch {
	case p.Schema != nil:
		return conv.convert(p.Schema, 0), false, nil
	case len(p.Content) > 0:
		mt := p.Content.Get("application/json")
		if mt == nil {
			for _, k := range sortedKeys(p.Content) {
				mt = p.Content[k]
				break
			}
		}
		if mt != nil && mt.Schema != nil {
			return conv.convert(mt.Schema, 0), true, nil
		}
		return map[string]any{}, true, nil
	default:
		return nil, false, fmt.Errorf("parameter %q has neither a schema nor content", p.Name)
	}
}

// bodyArgument adds the request body's argument to props ("body", or
// "request_body" when a parameter took that name) and records how to send
// it in o; required reports whether the body is.
func bodyArgument(conv *converter, rb *openapi3.RequestBody, props map[string]any, o *operation) (required bool, err error) {
	mediaType, mt := pickBody(rb.Content)
	if mt == nil {
		if rb.Required {
			return false, fmt.Errorf("the request body is required and none of its media types (%s) can be sent; JSON, form-urlencoded and text/plain are supported", strings.Join(sortedKeys(rb.Content), ", "))
		}
		return false, nil
	}
	o.bodyProp = "body"
	if _, clash := props["body"]; clash {
		o.bodyProp = "request_body"
	}
	o.bodyType = mediaType
	var schema map[string]any
	if mt.Schema != nil {
		schema = conv.convert(mt.Schema, 0)
	} else {
		schema = map[string]any{}
	}
	if rb.Description != "" {
		if _, ok := schema["description"]; !ok {
			schema["description"] = rb.Description
		}
	}
	props[o.bodyProp] = schema
	if bp, ok := schema["properties"].(map[string]any); ok {
		o.bodyTypes = map[string]string{}
		for k, v := range bp {
			if m, ok := v.(map[string]any); ok {
				if t, ok := m["type"].(string); ok {
					o.bodyTypes[k] = t
				}
			}
		}
	}
	return rb.Required, nil
}

// tool builds one operation's tool. The argument schema inlines every
// reference; when that is too large (descriptions whose schemas share
// parts grow exponentially when inlined) it is built again with the
// referenced schemas in $defs, each once.
func (d *Document) tool(name, method, path string, item *openapi3.PathItem, op *openapi3.Operation, base *url.URL, opts Options, rep *Report) (*agent.Tool, error) {
	var raw []byte
	var o *operation
	for _, defs := range []bool{false, true} {
		conv := newConverter()
		conv.defsMode = defs
		conv.budget = opts.MaxSchemaBytes / 8
		props, required, op2, err := arguments(conv, method, path, item, op)
		if err != nil {
			return nil, err
		}
		if conv.over {
			continue
		}
		schema := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			schema["required"] = required
		}
		if len(conv.defs) > 0 {
			schema["$defs"] = conv.defs
		}
		b, err := json.Marshal(schema)
		if err != nil {
			return nil, fmt.Errorf("schema cannot be encoded: %v", err)
		}
		if len(b) > opts.MaxSchemaBytes {
			continue
		}
		raw, o = b, op2
		o.operationID = op.OperationID
		rep.DroppedPatterns += len(conv.dropped)
		break
	}
	if raw == nil {
		return nil, fmt.Errorf("argument schema is larger than MaxSchemaBytes (%d), even with shared schemas in $defs", opts.MaxSchemaBytes)
	}
	desc := strings.TrimSpace(op.Summary)
	if op.Description != "" && op.Description != op.Summary {
		desc = strings.TrimSpace(desc + "\n\n" + op.Description)
	}
	if desc == "" {
		desc = method + " " + path
	}
	if op.Deprecated {
		desc = "(deprecated) " + desc
	}
	if len(desc) > 2000 {
		desc = desc[:2000] + "..."
	}
	c := &caller{op: o, base: base, opts: opts}
	return agent.NewTool(name, desc, raw, c.run, opts.ToolOptions)
}

// pickBody chooses the request media type to send: JSON first, then
// form-urlencoded, then text.
func pickBody(content openapi3.Content) (string, *openapi3.MediaType) {
	keys := sortedKeys(content)
	for _, pick := range []func(string) bool{isJSON, func(k string) bool { return mediaBase(k) == "application/x-www-form-urlencoded" }, func(k string) bool { return mediaBase(k) == "text/plain" }} {
		for _, k := range keys {
			if pick(k) {
				return mediaBase(k), content[k]
			}
		}
	}
	return "", nil
}

func mediaBase(mt string) string {
	mt, _, _ = strings.Cut(mt, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

func isJSON(mt string) bool {
	b := mediaBase(mt)
	return b == "application/json" || strings.HasSuffix(b, "+json") || b == "*/*" || b == "application/*"
}

// Names returns the tool names, for logs and tests.
func Names(tools []*agent.Tool) []string {
	out := make([]string, len(tools))
	for i, t := range tools {
		out[i] = t.Name()
	}
	return slices.Clone(out)
}
