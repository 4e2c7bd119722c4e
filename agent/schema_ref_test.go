package agent_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
)

// TestToolSchemaNeverLoadsExternalRefs builds tools whose schemas refer to a
// local file and to a URL. Both referenced documents are valid schemas, so a
// compiler that loaded them would accept the tool: it must refuse it instead
// (ErrInvalidTool), without reading the file or making the request.
func TestToolSchemaNeverLoadsExternalRefs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "def.json")
	if err := os.WriteFile(file, []byte(`{"type":"string"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"type":"string"}`))
	}))
	defer srv.Close()

	refs := map[string]string{
		"file":        "file://" + filepath.ToSlash(file),
		"passwd":      "file:///etc/passwd",
		"http":        srv.URL + "/def.json",
		"http $defs":  srv.URL + "/def.json#/$defs/x",
		"relative":    "def.json",
		"nested file": "file://" + filepath.ToSlash(file) + "#",
	}
	for name, ref := range refs {
		schema := fmt.Sprintf(`{"type":"object","properties":{"a":{"$ref":%q}}}`, ref)
		_, errFn := agent.NewTool("t", "", json.RawMessage(schema), noop)
		_, errRC := agent.NewReturnControlTool("t", "", json.RawMessage(schema))
		for _, err := range []error{errFn, errRC} {
			if !errors.Is(err, agent.ErrInvalidTool) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
				t.Errorf("%s: $ref %q: error %v; want ErrInvalidTool (external references are never loaded)", name, ref, err)
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("compiling tool schemas made %d HTTP requests; want none", n)
	}
	// A reference inside the schema still works.
	local, err := agent.NewTool("t", "", json.RawMessage(`{"type":"object","$defs":{"s":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/s"}}}`), noop)
	if err != nil {
		t.Fatalf("local $ref refused: %v", err)
	}
	if err := local.Validate(json.RawMessage(`{"a":1}`)); err == nil || !errors.Is(err, agent.ErrInvalidToolCall) {
		t.Fatalf("local $ref not applied: %v", err)
	}
}

// TestToolSchemaSizeBound: a schema larger than the validator's bound is
// refused instead of being compiled.
func TestToolSchemaSizeBound(t *testing.T) {
	big := make([]byte, 0, 2<<20)
	big = append(big, `{"type":"object","description":"`...)
	for len(big) < 2<<20 {
		big = append(big, 'x')
	}
	big = append(big, `"}`...)
	if _, err := agent.NewTool("t", "", big, noop); !errors.Is(err, agent.ErrInvalidTool) {
		t.Fatalf("2 MiB schema: error %v; want ErrInvalidTool", err)
	}
}

// FuzzToolSchema: any bytes as a tool schema either build a tool that
// validates arguments, or an error wrapping ErrInvalidTool; never a
// panic, never a file read or fetch.
func FuzzToolSchema(f *testing.F) {
	for _, s := range []string{
		`{"type":"object"}`, `{"type":"object","properties":{"a":{"$ref":"file:///etc/passwd"}}}`,
		`{"type":"object","$defs":{"s":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/s"}}}`,
		`{"TYPE":"object"}`, `{"type":["object"]}`, `[]`, `true`, `{"type":"object","properties":{"a":{"$ref":"#"}}}`,
		`{"type":"object","$schema":"http://example.com/meta"}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, schema []byte) {
		tool, err := agent.NewTool("t", "", schema, noop)
		if err != nil {
			if !errors.Is(err, agent.ErrInvalidTool) || tool != nil {
				t.Fatalf("NewTool = %v, %v; want nil and ErrInvalidTool", tool, err)
			}
			return
		}
		if err := tool.Validate(json.RawMessage(`{}`)); err != nil && !errors.Is(err, agent.ErrInvalidToolCall) {
			t.Fatalf("Validate error %v does not wrap ErrInvalidToolCall", err)
		}
	})
}
