package kb

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit"
)

func TestParseSidecar(t *testing.T) {
	md, err := ParseSidecar([]byte("\xEF\xBB\xBF" + `{"metadataAttributes": {
		"year": 2024, "team": "payments", "tags": ["fees", "cards"], "public": true,
		"region": {"value": {"type": "STRING", "stringValue": "eu"}, "includeForEmbedding": true},
		"score": {"value": {"type": "NUMBER", "numberValue": 1.5}},
		"draft": {"value": {"type": "BOOLEAN", "booleanValue": false}, "includeForEmbedding": false},
		"langs": {"value": {"type": "STRING_LIST", "stringListValue": ["en", "fr"]}, "includeForEmbedding": true}
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"year": 2024.0, "team": "payments", "tags": []string{"fees", "cards"}, "public": true,
		"region": "eu", "score": 1.5, "draft": false, "langs": []string{"en", "fr"},
	}
	if !reflect.DeepEqual(md.Attributes, want) {
		t.Fatalf("attributes\n got %#v\nwant %#v", md.Attributes, want)
	}
	if !reflect.DeepEqual(md.IncludeForEmbedding, []string{"langs", "region"}) {
		t.Fatalf("includeForEmbedding %v", md.IncludeForEmbedding)
	}
	empty, err := ParseSidecar([]byte(`{"metadataAttributes": {}}`))
	if err != nil || len(empty.Attributes) != 0 {
		t.Fatalf("empty: %v %v", empty, err)
	}
}

func TestParseSidecarRejects(t *testing.T) {
	for _, tc := range []struct{ data, msg string }{
		{`{"metadataAttributes": {"a": 1}, "x": 2}`, `unknown field "x"`},
		{`{}`, `no "metadataAttributes"`},
		{`[]`, "not a JSON object"},
		{`null`, "must be a JSON object"},
		{`{"metadataAttributes": []}`, "must be a JSON object"},
		{`{"metadataAttributes": {"a": null}}`, `attribute "a": null`},
		{`{"metadataAttributes": {"a": [1, "x"]}}`, "list element 0 is a number"},
		{`{"metadataAttributes": {"a": {"b": 1}}}`, "typed form"},
		{`{"metadataAttributes": {"a": {"value": {"type": "STRING", "numberValue": 1}}}}`, `STRING needs "stringValue"`},
		{`{"metadataAttributes": {"a": {"value": {"type": "DATE", "stringValue": "x"}}}}`, `"DATE" is not one of`},
		{`{"metadataAttributes": {"a": {"value": {"type": "STRING", "stringValue": "x", "numberValue": 2}}}}`, "sets 2 of"},
		{`{"metadataAttributes": {"a": {"value": {"type": "STRING_LIST", "stringListValue": [1]}}}}`, "list of strings"},
		{`{"metadataAttributes": {"a": 1, "a": 2}}`, "appears twice"},
		{`{"metadataAttributes": {"": 1}}`, "empty attribute name"},
		{`{"metadataAttributes": {"x-amz-bedrock-kb-source-uri": "s3://x"}}`, "reserved prefix"},
		{`{"metadataAttributes": {"a": 1e999}}`, "out of range"},
		{`{"metadataAttributes": {"a": 1}} {}`, "after the JSON value"},
		{"{\"metadataAttributes\": {\"a\": \"\xff\"}}", "not valid UTF-8"},
		{`{"metadataAttributes": {"a": "` + strings.Repeat("x", MaxMetadataSize) + `"}}`, "at most 10240"},
	} {
		_, err := ParseSidecar([]byte(tc.data))
		if !errors.Is(err, ErrInvalidMetadata) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%.60s: err = %v, want ErrInvalidMetadata", tc.data, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%.60s: err %q does not say %q", tc.data, err, tc.msg)
		}
	}
}

func FuzzParseSidecar(f *testing.F) {
	for _, s := range []string{
		`{"metadataAttributes": {"year": 2024, "tags": ["a"], "ok": true, "s": "x"}}`,
		`{"metadataAttributes": {"r": {"value": {"type": "STRING", "stringValue": "eu"}, "includeForEmbedding": true}}}`,
		`{"metadataAttributes": {"n": {"value": {"type": "NUMBER", "numberValue": 3}}}}`,
		`{"metadataAttributes": {"l": {"value": {"type": "STRING_LIST", "stringListValue": ["a","b"]}}}}`,
		`{"metadataAttributes": {"a": null}}`, `{}`, `[`, "\xEF\xBB\xBF{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := ParseSidecar(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidMetadata) {
				t.Fatalf("error does not wrap ErrInvalidMetadata: %v", err)
			}
			return
		}
		for k, v := range md.Attributes {
			if !utf8.ValidString(k) {
				t.Fatalf("invalid UTF-8 key %q", k)
			}
			switch x := v.(type) {
			case string:
				if !utf8.ValidString(x) {
					t.Fatalf("invalid UTF-8 value %q", x)
				}
			case float64, bool:
			case []string:
				for _, s := range x {
					if !utf8.ValidString(s) {
						t.Fatalf("invalid UTF-8 list value %q", s)
					}
				}
			default:
				t.Fatalf("attribute %q has type %T", k, v)
			}
		}
	})
}
