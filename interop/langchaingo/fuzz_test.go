package langchaingo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
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
