package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

var fuzzKey = []byte("fuzz key: 32 bytes or longer ...")

// fuzzPending is a pause as Run makes it.
func fuzzPending() *Pending {
	c := bedrockkit.ToolCall{ID: "t1", Name: "transfer", Input: json.RawMessage(`{"to":"bob","amount":10}`)}
	return &Pending{ID: "p1", SessionID: "s", Turn: 2, Iteration: 1,
		Messages:  []bedrockkit.Message{bedrockkit.UserText("pay <bob> & co \xff"), {Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{c}}},
		Calls:     []PendingCall{{Call: c, Kind: KindConfirm, IdempotencyKey: "k1"}},
		ExpiresAt: time.Unix(1900000000, 123).UTC(), origin: originRun}
}

// FuzzPendingToken: the token decoder and verifier never panic on any
// input; a token that decodes re-encodes to itself and holds a well-formed
// state; and only the one token signed with the key verifies, asserting
// exactly what was signed. Fuzzing cannot forge a signature, so a mutated
// token that verifies is a bug.
func FuzzPendingToken(f *testing.F) {
	p := fuzzPending()
	tok, err := signPending(fuzzKey, "agent", p, time.Unix(1800000000, 0))
	if err != nil {
		f.Fatal(err)
	}
	want := canonicalView(p)
	f.Add([]byte(tok))
	f.Add([]byte(tok + "x"))
	f.Add([]byte("eyJhbGciOiJub25lIn0.e30."))
	f.Add([]byte("..."))
	f.Add([]byte(`{"payload":"e30","signatures":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var q Pending
		if err := q.UnmarshalBinary(b); err != nil {
			var pe *PendingError
			if len(b) <= MaxPendingBytes && !errors.As(err, &pe) {
				t.Fatalf("decode error is not a *PendingError: %v", err)
			}
			return
		}
		if err := q.checkShape(); err != nil {
			t.Fatalf("decoded an ill-formed state: %v", err)
		}
		out, err := q.MarshalBinary()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("re-encode: %v, %q != %q", err, out, b)
		}
		tp, signed, err := verifyToken(string(b), PauseOptions{Key: fuzzKey})
		if err != nil {
			return
		}
		if !bytes.Equal(canonicalView(signed), want) || tp.Agent != "agent" {
			t.Fatalf("a token that was never signed verified: %s", canonicalView(signed))
		}
	})
}

// FuzzPendingView: decoding arbitrary bytes as the JSON form never panics,
// is bounded, and whatever decodes re-encodes stably.
func FuzzPendingView(f *testing.F) {
	p := fuzzPending()
	tok, err := signPending(fuzzKey, "", p, time.Unix(1800000000, 0))
	if err != nil {
		f.Fatal(err)
	}
	p.token = tok
	seed, _ := json.Marshal(p)
	f.Add(seed)
	p.token = ""
	unsigned, _ := json.Marshal(p)
	f.Add(unsigned)
	stored, _ := toStored(p)
	old, _ := json.Marshal(stored)
	f.Add(old)
	f.Add([]byte(`{"version":2,"id":"a","session_id":"b","turn":-1,"calls":[{"id":"x","kind":"confirm"}]}`))
	f.Add([]byte(`{"version":2,"version":1}`))
	f.Add([]byte(`{"version":2,"id":"a","session_id":"b","calls":[{"id":"x","kind":"confirm","input_text":"{"}],"token":"a.b.c"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var q Pending
		if err := json.Unmarshal(b, &q); err != nil {
			return
		}
		if err := q.checkShape(); err != nil {
			t.Fatalf("decoded an ill-formed state: %v", err)
		}
		b2, err := json.Marshal(&q)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var q2 Pending
		if err := json.Unmarshal(b2, &q2); err != nil {
			t.Fatalf("decode of re-encoded state: %v\n%s", err, b2)
		}
		if b3, _ := json.Marshal(&q2); !bytes.Equal(b2, b3) {
			t.Fatalf("not stable:\n%s\n%s", b2, b3)
		}
	})
}

// The digest of a pause survives the trip through a Memory, whatever its
// content (HTML characters, invalid UTF-8, invalid JSON arguments).
func TestDigestSurvivesStorage(t *testing.T) {
	p := fuzzPending()
	p.Results = []bedrockkit.ToolResult{{CallID: "x", Parts: []bedrockkit.Part{bedrockkit.Text{Text: "<\xfe>"}, bedrockkit.JSON{Value: json.RawMessage(`{ "a" : "<&>" }`)}}}}
	p.Messages[1].Parts = append(p.Messages[1].Parts, bedrockkit.ToolCall{ID: "x", Name: "t", Input: json.RawMessage(`{"a":`)})
	p.PromptAttributes = map[string]string{"b": "2", "a": "1"}
	want, err := digestPending(p)
	if err != nil {
		t.Fatal(err)
	}
	mem := NewInMemory()
	if err := mem.Save(t.Context(), &Session{ID: "s", Turns: 2, Pending: p}); err != nil {
		t.Fatal(err)
	}
	s, err := mem.Load(t.Context(), "s")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := digestPending(s.Pending); got != want {
		t.Fatalf("digest changed through storage: %s != %s", got, want)
	}
	if !bytes.Equal(canonicalView(s.Pending), canonicalView(p)) {
		t.Fatalf("view changed through storage:\n%s\n%s", canonicalView(s.Pending), canonicalView(p))
	}
}

// BenchmarkPendingToken measures signing a pause (at Run) and checking the
// token (at Resume, before the stored pause is loaded). Report: ns/op of
// each.
func BenchmarkPendingToken(b *testing.B) {
	p := fuzzPending()
	now := time.Unix(1800000000, 0)
	b.Run("sign", func(b *testing.B) {
		for b.Loop() {
			if _, err := signPending(fuzzKey, "agent", p, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	tok, _ := signPending(fuzzKey, "agent", p, now)
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := verifyToken(tok, PauseOptions{Key: fuzzKey}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
