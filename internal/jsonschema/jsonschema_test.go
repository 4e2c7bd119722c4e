package jsonschema

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type address struct {
	City string `json:"city"`
	Zip  string `json:"zip,omitempty" jsonschema:"pattern=^[0-9]{5}$"`
}

type invoice struct {
	Number   string     `json:"number" description:"Invoice number"`
	Total    float64    `json:"total" jsonschema:"minimum=0"`
	Currency string     `json:"currency" jsonschema:"enum=EUR|USD"`
	Lines    []string   `json:"lines" jsonschema:"minItems=1"`
	Billing  address    `json:"billing"`
	Due      *time.Time `json:"due,omitempty"`
	Count    uint8      `json:"count,omitempty"`
	Any      any        `json:"any,omitempty"`
}

func TestDeriveNonObjectTopLevel(t *testing.T) {
	for typ, want := range map[reflect.Type]string{
		reflect.TypeFor[[]string]():           `{"items":{"type":"string"},"type":"array"}`,
		reflect.TypeFor[int]():                `{"type":"integer"}`,
		reflect.TypeFor[map[string]bool]():    `{"additionalProperties":{"type":"boolean"},"type":"object"}`,
		reflect.TypeFor[[2]float32]():         `{"items":{"type":"number"},"maxItems":2,"minItems":2,"type":"array"}`,
		reflect.TypeFor[json.RawMessage]():    `{}`,
		reflect.TypeFor[*[]time.Time]():       `{"items":{"format":"date-time","type":"string"},"type":"array"}`,
		reflect.TypeFor[[]byte]():             `{"contentEncoding":"base64","type":"string"}`,
		reflect.TypeFor[struct{ A int }]():    `{"additionalProperties":false,"properties":{"A":{"type":"integer"}},"required":["A"],"type":"object"}`,
		reflect.TypeFor[struct{ a, B int }](): `{"additionalProperties":false,"properties":{"B":{"type":"integer"}},"required":["B"],"type":"object"}`,
	} {
		got, err := DeriveJSON(typ)
		if err != nil || string(got) != want {
			t.Errorf("%s: got %s, %v; want %s", typ, got, err, want)
		}
	}
}

func TestDeriveErrorsNameTheField(t *testing.T) {
	type rec struct {
		Next *rec `json:"next"`
	}
	type holder struct {
		F func() `json:"f"`
	}
	type badKey struct {
		M map[int]string `json:"m"`
	}
	for name, typ := range map[string]reflect.Type{
		"recursive": reflect.TypeFor[rec](),
		"func":      reflect.TypeFor[holder](),
		"map key":   reflect.TypeFor[badKey](),
		"chan":      reflect.TypeFor[chan int](),
		"complex":   reflect.TypeFor[complex64](),
		"nil":       nil,
	} {
		_, err := Derive(typ)
		if !errors.Is(err, ErrNoSchema) {
			t.Errorf("%s: want ErrNoSchema, got %v", name, err)
		}
	}
	_, err := Derive(reflect.TypeFor[holder]())
	if !strings.Contains(err.Error(), "field holder.F") {
		t.Errorf("error does not name the field: %v", err)
	}
}

func TestValidateReportsPaths(t *testing.T) {
	raw, err := DeriveJSON(reflect.TypeFor[invoice]())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile(raw)
	if err != nil {
		t.Fatal(err)
	}
	ok := `{"number":"A1","total":3.5,"currency":"EUR","lines":["x"],"billing":{"city":"Oslo","zip":"01234"}}`
	if err := s.Validate(json.RawMessage(ok)); err != nil {
		t.Fatalf("valid value refused: %v", err)
	}
	cases := map[string][]string{
		`{"number":"A1","total":-1,"currency":"EUR","lines":["x"],"billing":{"city":"Oslo"}}`:          {"/total"},
		`{"number":"A1","total":1,"currency":"GBP","lines":[],"billing":{"city":"Oslo"}}`:              {"/currency", "/lines"},
		`{"number":"A1","total":1,"currency":"EUR","lines":["x"],"billing":{"city":"Oslo","zip":"1"}}`: {"/billing/zip"},
		`{"number":"A1","total":1,"currency":"EUR","lines":["x"],"billing":{}}`:                        {"/billing"},
		`{"number":"A1","total":1,"currency":"EUR","lines":["x"],"billing":{"city":"O"},"extra":1}`:    {""},
	}
	for in, paths := range cases {
		err := s.Validate(json.RawMessage(in))
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.NotJSON != nil {
			t.Errorf("%s: got %v", in, err)
			continue
		}
		got := map[string]bool{}
		for _, v := range ve.Violations {
			got[v.Path] = true
			if v.Message == "" {
				t.Errorf("%s: violation without message", in)
			}
		}
		for _, p := range paths {
			if !got[p] {
				t.Errorf("%s: no violation at %q in %v", in, p, ve)
			}
		}
	}
	var ve *ValidationError
	if err := s.Validate(json.RawMessage(`{"number":`)); !errors.As(err, &ve) || ve.NotJSON == nil {
		t.Errorf("truncated JSON: got %v", err)
	}
}

func TestPointerEscapes(t *testing.T) {
	s, err := Compile(json.RawMessage(`{"type":"object","properties":{"a/b~c":{"type":"string"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Validate(json.RawMessage(`{"a/b~c":1}`))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Violations) != 1 || ve.Violations[0].Path != "/a~1b~0c" {
		t.Fatalf("got %v", err)
	}
}

func TestCompileNeverReadsFiles(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.json")
	if err := os.WriteFile(secret, []byte(`{"type":"string"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	schema := `{"$ref":"file://` + filepath.ToSlash(secret) + `"}`
	if _, err := Compile(json.RawMessage(schema)); err == nil || !strings.Contains(err.Error(), "external references") {
		t.Fatalf("a file reference compiled: %v", err)
	}
	for _, bad := range []string{`[]`, `"x"`, `{`, `{"type":"nonsense"}`, strings.Repeat(" ", MaxSchemaBytes+1)} {
		if _, err := Compile(json.RawMessage(bad)); err == nil {
			t.Errorf("%.20q compiled", bad)
		}
	}
	if _, err := Compile(json.RawMessage(`{"$defs":{"a":{"type":"string"}},"$ref":"#/$defs/a"}`)); err != nil {
		t.Errorf("an internal reference failed: %v", err)
	}
}

func FuzzValidate(f *testing.F) {
	raw, _ := DeriveJSON(reflect.TypeFor[invoice]())
	s, err := Compile(raw)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{`{}`, `null`, `[`, `{"total":1e400}`, `{"billing":{"zip":"\u0000"}}`, "\xff", `{"lines":[[[[[]]]]]}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		err := s.Validate(in)
		if err == nil {
			if !json.Valid(in) {
				t.Fatalf("invalid JSON accepted: %q", in)
			}
			return
		}
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("error is not a *ValidationError: %v", err)
		}
		if ve.NotJSON == nil && len(ve.Violations) == 0 {
			t.Fatalf("empty validation error for %q", in)
		}
	})
}

func FuzzCompile(f *testing.F) {
	for _, seed := range []string{`{}`, `true`, `{"type":"object"}`, `{"$ref":"#"}`, `{"$ref":"http://x/y"}`, `{"pattern":"("}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := Compile(in)
		if err == nil {
			_ = s.Validate(json.RawMessage(`{"a":[1,"x",null]}`))
		}
	})
}

func TestViolationsAreSorted(t *testing.T) {
	s, err := Compile(json.RawMessage(`{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"string"},"c":{"type":"string"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		err := s.Validate(json.RawMessage(`{"c":1,"a":1,"b":1}`))
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Violations) != 3 || ve.Violations[0].Path != "/a" || ve.Violations[1].Path != "/b" || ve.Violations[2].Path != "/c" {
			t.Fatalf("violations not sorted by path: %v", err)
		}
	}
}
