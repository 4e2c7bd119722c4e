package eval

import (
	"bytes"
	"testing"
)

// FuzzReadProgress: a progress file of any content is read without
// panicking; what it accepts is whole lines, each a case with an ID.
func FuzzReadProgress(f *testing.F) {
	hdr := `{"bedrockkit_eval_progress":1,"config":"c"}` + "\n"
	for _, s := range []string{
		"",
		hdr,
		hdr + `{"id":"a","fingerprint":"f","result":{"id":"a","scores":{"x":1},"cost":"$0.001"}}` + "\n",
		hdr + `{"id":"a","fingerprint":"f","result":{"id":"a"`,
		hdr + "garbage\n",
		`{"bedrockkit_eval_progress":2,"config":"c"}` + "\n",
		hdr + `{"id":"","result":{}}` + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, good, err := readProgress(bytes.NewReader(data), "p", "c")
		if err != nil {
			return
		}
		if good < 0 || good > int64(len(data)) || (good > 0 && data[good-1] != '\n') {
			t.Fatalf("good prefix %d of %d bytes does not end a line", good, len(data))
		}
		for id, r := range recs {
			if id == "" || r.ID != id {
				t.Fatalf("record %q: %+v", id, r)
			}
		}
	})
}
