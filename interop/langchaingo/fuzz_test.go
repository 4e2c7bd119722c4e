package langchaingo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func FuzzLooksLikeToolFragment(f *testing.F) {
	for _, s := range []string{
		`[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]`,
		`[{"index":0,"function":{"arguments":"{\"a"}}]`,
		`{"name":"f","arguments":"{}"}`,
		`Hello, world`, `[1,2]`, `[]`, `{"name":"x"}`, `[{"a":1}]`, ` `, `[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if looksLikeToolFragment(b) && !json.Valid(bytes.TrimSpace(b)) {
			t.Fatalf("%q classified as a tool fragment but is not JSON", b)
		}
	})
}

func FuzzParseDataURL(f *testing.F) {
	f.Add("data:image/png;base64,AQID")
	f.Add("data:image/png,raw")
	f.Add("https://example.com/x.png")
	f.Add("data:;base64,")
	f.Fuzz(func(t *testing.T, u string) {
		mime, data, ok := parseDataURL(u)
		if !ok {
			return
		}
		again := "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data)
		m2, d2, ok2 := parseDataURL(again)
		if !ok2 || m2 != mime || !bytes.Equal(d2, data) {
			t.Fatalf("%q does not round-trip", u)
		}
	})
}

func FuzzParseFilters(f *testing.F) {
	for _, s := range []string{
		`{"equals":{"key":"type","value":"faq"}}`,
		`{"andAll":[{"equals":{"key":"a","value":1}},{"in":{"key":"b","value":["x","y"]}}]}`,
		`{"orAll":[{"startsWith":{"key":"a","value":"p"}},{"listContains":{"key":"t","value":true}}]}`,
		`{"andAll":[{"equals":{"key":"a","value":1}}]}`,
		`{"near":{"key":"a","value":1}}`, `{}`, `[]`, `null`, `{"equals":`, `"x"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseFilters(s)
		if err != nil {
			if !errors.Is(err, ErrUnsupportedFilter) {
				t.Fatalf("%q: error %v does not match ErrUnsupportedFilter", s, err)
			}
			return
		}
		if got == nil {
			t.Fatalf("%q: no filter and no error", s)
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("%q parsed but does not marshal: %v", s, err)
		}
		again, err := parseFilters(b)
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("%q does not round-trip through %s: %v", s, b, err)
		}
	})
}
