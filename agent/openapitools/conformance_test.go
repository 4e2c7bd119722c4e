package openapitools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/credentials"
	"github.com/bedrockkit/bedrockkit/agent/openapitools"
)

// Conformance on real-world descriptions, read at test time from the
// kin-openapi module (MIT) in the module cache:
//   - the Swagger Petstore in OpenAPI 3.0 (openapi3filter/testdata);
//   - SendGrid's v3 API, a large public OpenAPI 3.1 description of 334
//     operations (openapi3/testdata/oai_v3_stoplight.json);
//   - every other description in openapi3/testdata, small test documents
//     with edge cases (recursion, discriminators, 3.1 keywords).
//
// For the Petstore and SendGrid every operation is also called: a minimal
// argument object is generated from the tool's own schema and sent to a
// server that routes and validates the request against the original
// document with kin-openapi's openapi3filter, so a request the tool's
// schema allows but the document forbids shows up as a rejection.

type conformance struct {
	name       string
	ops        int
	converted  int
	skipped    map[string]int
	called     int
	accepted   int
	noInstance int
	rejected   []string
}

func convertAll(t *testing.T, name string, doc []byte) (*conformance, []*agent.Tool, error) {
	d, err := openapitools.Parse(doc)
	if err != nil {
		return nil, nil, err
	}
	tools, rep, err := d.Tools(openapitools.Options{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		return nil, nil, err
	}
	c := &conformance{name: name, converted: len(rep.Converted), ops: len(rep.Converted) + len(rep.Skipped), skipped: map[string]int{}}
	for _, s := range rep.Skipped {
		reason := s.Reason
		if i := strings.IndexAny(reason, "(0123456789"); i > 20 {
			reason = reason[:i]
		}
		c.skipped[reason]++
	}
	return c, tools, nil
}

func TestConformanceTestdata(t *testing.T) {
	dir := filepath.Join(kinDir(t), "openapi3", "testdata")
	var files []string
	for _, pat := range []string{"*.json", "*.yml", "*.yaml"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, m...)
	}
	sort.Strings(files)
	parsed, refused, ops, converted := 0, 0, 0, 0
	reasons := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := convertAll(t, filepath.Base(f), b)
		if err != nil {
			refused++
			reasons["document refused: "+firstLine(err.Error())]++
			continue
		}
		parsed++
		ops += c.ops
		converted += c.converted
		for r, n := range c.skipped {
			reasons["operation skipped: "+r] += n
		}
	}
	t.Logf("kin-openapi testdata: %d files, %d parsed, %d refused; %d operations, %d converted", len(files), parsed, refused, ops, converted)
	for _, r := range sortedReasons(reasons) {
		t.Logf("  %4d  %s", reasons[r], r)
	}
	// Most files are fragments or Swagger 2.0 test inputs, refused as
	// documents; every operation of the documents that parse must convert.
	if parsed < 10 || converted < ops {
		t.Fatalf("conformance fell: %d/%d files parsed, %d/%d operations converted", parsed, len(files), converted, ops)
	}
}

func TestConformancePetstoreAndSendGrid(t *testing.T) {
	for _, spec := range []struct {
		name, path, base string
		minConverted     int
		minAccepted      int
	}{
		{"Swagger Petstore (OpenAPI 3.0)", petstorePath, "/v2", 25, 24},
		{"SendGrid v3 (OpenAPI 3.1, large)", "openapi3/testdata/oai_v3_stoplight.json", "/v3", 334, 330},
	} {
		t.Run(spec.name, func(t *testing.T) {
			doc := readKin(t, spec.path)
			c, _, err := convertAll(t, spec.name, doc)
			if err != nil {
				t.Fatal(err)
			}
			srv := newSpecServer(t, doc, spec.base)
			srv.apiKey = "conformance-key"
			d, _ := openapitools.Parse(doc)
			keys := credentials.NewLocal(credentials.LocalOptions{APIKeys: map[string]credentials.Secret{"k": credentials.NewSecret("conformance-key")}})
			auth := multiAuth{
				credentials.APIKey{Provider: keys, Name: "k", Param: "api_key"},
				credentials.APIKey{Provider: keys, Name: "k", Param: "Authorization", Prefix: "Bearer "},
			}
			tools, _, err := d.Tools(openapitools.Options{BaseURL: srv.URL + spec.base, Auth: auth})
			if err != nil {
				t.Fatal(err)
			}
			for _, tool := range tools {
				var schema map[string]any
				if err := json.Unmarshal(tool.Definition().InputSchema, &schema); err != nil {
					t.Fatal(err)
				}
				inst, ok := instance(schema, 0)
				if !ok {
					c.noInstance++
					continue
				}
				in, _ := json.Marshal(inst)
				if tool.Validate(in) != nil {
					c.noInstance++
					continue
				}
				c.called++
				before := len(srv.rejected)
				if _, err := tool.Call(context.Background(), in); err == nil {
					c.accepted++
				} else if len(srv.rejected) > before {
					c.rejected = append(c.rejected, fmt.Sprintf("%s %s: %s", tool.Name(), in, firstLine(srv.rejected[len(srv.rejected)-1])))
				} else {
					t.Errorf("%s: %v", tool.Name(), err)
				}
			}
			t.Logf("%s: %d operations, %d converted, skipped %v; %d called with a generated minimal argument object (%d had none the generator could make), %d accepted by the document's validator",
				spec.name, c.ops, c.converted, c.skipped, c.called, c.noInstance, c.accepted)
			for _, r := range c.rejected {
				t.Logf("  rejected: %s", r)
			}
			if c.converted < spec.minConverted || c.accepted < spec.minAccepted {
				t.Fatalf("conformance fell: %d converted (want >= %d), %d accepted (want >= %d)", c.converted, spec.minConverted, c.accepted, spec.minAccepted)
			}
		})
	}
}

// multiAuth applies several Auths.
type multiAuth []credentials.Auth

func (m multiAuth) Authenticate(ctx context.Context, req *http.Request) error {
	for _, a := range m {
		if err := a.Authenticate(ctx, req); err != nil {
			return err
		}
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

func sortedReasons(m map[string]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return m[ks[i]] > m[ks[j]] || (m[ks[i]] == m[ks[j]] && ks[i] < ks[j]) })
	return ks
}

// instance makes a small value valid under a (converted) JSON schema, or
// reports that it cannot (patterns, not).
func instance(s map[string]any, depth int) (any, bool) {
	if depth > 12 {
		return nil, false
	}
	if v, ok := s["const"]; ok {
		return v, true
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		for _, v := range e {
			if v != nil {
				return v, true
			}
		}
		return nil, true
	}
	if all, ok := s["allOf"].([]any); ok {
		merged := map[string]any{}
		for _, sub := range all {
			m, _ := sub.(map[string]any)
			v, ok := instance(m, depth+1)
			if !ok {
				return nil, false
			}
			if obj, isObj := v.(map[string]any); isObj {
				for k, x := range obj {
					merged[k] = x
				}
			} else if len(all) == 1 {
				return v, true
			}
		}
		if own, ok := instance(without(s, "allOf"), depth+1); ok {
			if obj, isObj := own.(map[string]any); isObj {
				for k, x := range obj {
					merged[k] = x
				}
			}
		}
		return merged, true
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		if alts, ok := s[key].([]any); ok && len(alts) > 0 {
			m, _ := alts[0].(map[string]any)
			return instance(m, depth+1)
		}
	}
	if _, ok := s["pattern"]; ok {
		return nil, false
	}
	typ, _ := s["type"].(string)
	if ts, ok := s["type"].([]any); ok && len(ts) > 0 {
		typ, _ = ts[0].(string)
	}
	switch typ {
	case "string":
		var v string
		switch s["format"] {
		case "date-time":
			v = "2024-01-02T03:04:05Z"
		case "date":
			v = "2024-01-02"
		case "email":
			v = "a@example.com"
		case "uuid":
			v = "123e4567-e89b-12d3-a456-426614174000"
		case "uri", "url":
			v = "https://example.com/x"
		case "ipv4":
			v = "127.0.0.1"
		case "byte":
			v = "YWJj"
		default:
			v = "abc"
		}
		if n, ok := s["minLength"].(float64); ok && len(v) < int(n) {
			v += strings.Repeat("a", int(n)-len(v))
		}
		if n, ok := s["maxLength"].(float64); ok && len(v) > int(n) {
			v = v[:int(n)]
		}
		return v, true
	case "integer", "number":
		v := 1.0
		if n, ok := s["minimum"].(float64); ok {
			v = n
		}
		if n, ok := s["exclusiveMinimum"].(float64); ok {
			v = n + 1
		}
		if n, ok := s["maximum"].(float64); ok && v > n {
			v = n
		}
		if m, ok := s["multipleOf"].(float64); ok && m > 0 {
			v = m
		}
		return v, true
	case "boolean":
		return false, true
	case "null":
		return nil, true
	case "array":
		items, _ := s["items"].(map[string]any)
		n := 0
		if m, ok := s["minItems"].(float64); ok {
			n = int(m)
		}
		arr := []any{}
		for range n {
			v, ok := instance(items, depth+1)
			if !ok {
				return nil, false
			}
			arr = append(arr, v)
		}
		return arr, true
	}
	// object, or no type: the required properties.
	obj := map[string]any{}
	props, _ := s["properties"].(map[string]any)
	req, _ := s["required"].([]any)
	for _, r := range req {
		name, _ := r.(string)
		ps, _ := props[name].(map[string]any)
		v, ok := instance(ps, depth+1)
		if !ok {
			return nil, false
		}
		obj[name] = v
	}
	return obj, true
}

func without(m map[string]any, key string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}
