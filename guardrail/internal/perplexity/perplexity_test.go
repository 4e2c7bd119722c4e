package perplexity

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMarshalRoundTrip(t *testing.T) {
	m := Default()
	if m.Len() < 1000 || m.Low <= 0 || m.Low > m.Medium || m.Medium > m.High {
		t.Fatalf("embedded model: %d n-grams, thresholds %v %v %v", m.Len(), m.Low, m.Medium, m.High)
	}
	m2, err := Unmarshal(m.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if m2.Len() != m.Len() || m2.Window != m.Window || m2.Tail != m.Tail || m2.High != m.High {
		t.Fatalf("round trip changed the model")
	}
	for i := range m.keys {
		if m.keys[i] != m2.keys[i] || m.vals[i] != m2.vals[i] {
			t.Fatalf("entry %d differs", i)
		}
	}
}

// TestTrainSeparates trains a tiny model on two toy languages and checks
// that text of the second scores above text of the first.
func TestTrainSeparates(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	words := strings.Fields("the cat sat on a mat and the dog ran to the park while we read a book in the sun")
	var lang, soup []string
	for range 300 {
		var b strings.Builder
		for range 20 {
			b.WriteString(words[r.IntN(len(words))] + " ")
		}
		lang = append(lang, b.String())
		var s strings.Builder
		for range 80 {
			s.WriteByte("xqzjkvw_;{}0123ABCDEF"[r.IntN(21)])
		}
		soup = append(soup, s.String())
	}
	m := Train(lang, soup, TrainOptions{MinCount: 2, Window: 20, Tail: 40, MinScored: 10})
	ctx := context.Background()
	a, _ := m.Score(ctx, "the dog sat in the park and we read a book")
	b, _ := m.Score(ctx, "the dog sat in the park q{zj_kv}0xw;3DAk{xq")
	if !(b.Score > a.Score+1) {
		t.Fatalf("soup scores %.2f, language %.2f", b.Score, a.Score)
	}
	if got := "the dog sat in the park q{zj_kv}0xw;3DAk{xq"[b.Start:b.End]; !strings.Contains(got, "{") {
		t.Fatalf("span %q misses the soup", got)
	}
}

// TestSkipped: URLs, e-mail addresses, paths, long base64 and hex runs and
// words run together are neither language nor soup.
func TestSkipped(t *testing.T) {
	for tok, want := range map[string]bool{
		"https://example.com/a?b=c": true, "www.example.org": true, "ana@example.com": true,
		"/var/lib/app/x1/cache": true, `C:\Users\ana\file.txt`: true,
		strings.Repeat("QUJD", 8): true, strings.Repeat("a1b2", 10): true,
		"theestablishmentofaninternationalimpartialpoliceforce": true,
		"info_BE": false, "SAS_BOXNichCRYPT": false, "hello,": false, "Kraftpod.dtd)=>{": false,
		"caiDe_eps569unter_cur;',Thaiapro.med543.gbthropenessbraco": false,
	} {
		if got := opaque(tok); got != want {
			t.Errorf("opaque(%q) = %v, want %v", tok, got, want)
		}
	}
}

func TestScoreHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Default().Score(ctx, strings.Repeat("some ordinary words in a line\n", 2000)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestScoreShortText(t *testing.T) {
	for _, s := range []string{"", "hi", "\n\n\n", strings.Repeat("é", 500)} {
		sp, err := Default().Score(context.Background(), s)
		if err != nil || !math.IsInf(sp.Score, -1) {
			t.Errorf("Score(%q) = %+v, %v; want -Inf", s, sp, err)
		}
	}
}

func FuzzScore(f *testing.F) {
	f.Add("Write a poem about the sea info_BE Soil sb SAS_BOXNichCRYPT SDKwxacher(aningespect svm.iphone")
	f.Add("line one\nline two with https://x.y/z and ana@b.c\r\n\xff\xfe")
	f.Add(strings.Repeat("a", 300) + "\n" + strings.Repeat("Ab_", 100))
	m := Default()
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := m.Score(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if math.IsInf(sp.Score, -1) {
			return
		}
		if math.IsNaN(sp.Score) || sp.Start < 0 || sp.End > len(s) || sp.Start >= sp.End {
			t.Fatalf("Score(%q) = %+v", s, sp)
		}
	})
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(Default().Marshal()[:200])
	f.Add([]byte("BKPX1\n"))
	f.Add([]byte("not a model"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil {
			return
		}
		m.Score(context.Background(), "some text to score with a model read from fuzzed bytes, long enough to be scored")
	})
}

// BenchmarkScore4K scores 4 KB of ordinary text on one line (only its tail
// is read) and 4 KB over 40 lines.
func BenchmarkScore4K(b *testing.B) {
	para := "Our support team answers questions about billing, shipping and returns. Orders usually arrive within three business days. "
	oneLine := strings.Repeat(para, 4096/len(para)+1)[:4096]
	lines := strings.Repeat(para[:100]+"\n", 41)[:4096]
	m := Default()
	ctx := context.Background()
	for _, c := range []struct{ name, text string }{{"one-line", oneLine}, {"40-lines", lines}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			for b.Loop() {
				m.Score(ctx, c.text)
			}
		})
	}
}
