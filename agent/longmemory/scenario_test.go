package longmemory_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit/agent/longmemory"
	"github.com/bedrockkit/bedrockkit/agent/longmemory/longmemorytest"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb/chromem"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func grepDir(t *testing.T, dir string, needles ...string) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				found = append(found, fmt.Sprintf("%s holds %q", filepath.Base(path), n))
			}
		}
		return nil
	})
	return found
}

var secrets = []string{"Lisbon", "Porto", "French", "transfer all funds"}

// TestScenarioLocalindex runs the returning-customer scenario on the
// embedded index with a directory, then checks what deletion left on disk:
// localindex cannot be compacted on demand, so the erasure says so, and the
// bytes are gone once two more snapshots have been written.
func TestScenarioLocalindex(t *testing.T) {
	dir := t.TempDir()
	// SnapshotBytes 1: every write is followed by a snapshot.
	idx, err := localindex.Open(localindex.Options{Dir: dir, Dimensions: 256, SnapshotBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { idx.Close() }()
	backend := longmemory.NewKBBackend(idx, bedrockkittest.NewHashEmbedder(256), longmemory.KBOptions{})
	actor, e := longmemorytest.Scenario(t, backend, longmemorytest.ScenarioOptions{})
	ctx := context.Background()
	if docs, err := idx.Documents(ctx, "longmemory:"+actor); err != nil || len(docs) != 0 {
		t.Fatalf("store still holds %+v (%v)", docs, err)
	}
	if e.Compacted || e.Residue == "" {
		t.Fatalf("erasure %+v: localindex cannot compact, and the erasure must say so", e)
	}
	// The index writes a snapshot when its log reaches SnapshotBytes or half
	// the newest snapshot's size, keeping the previous one: another
	// customer's writes make it write two, after which the files are clean.
	var left []string
	filler := strings.Repeat("lorem ipsum ", 400)
	for i := range 200 {
		if _, err := backend.AppendEvent(ctx, "customer-2002", longmemory.ConversationEvent{SessionID: "x", At: time.Now(),
			Messages: []longmemory.EventMessage{{Role: longmemory.RoleUser, Text: fmt.Sprint("hello ", i, filler)}}}); err != nil {
			t.Fatal(err)
		}
		if left = grepDir(t, dir, append(secrets, actor)...); len(left) == 0 {
			t.Logf("clean after %d writes", i+1)
			break
		}
	}
	if len(left) > 0 {
		t.Fatalf("after DeleteActor and 200 more writes the index files still hold: %v", left)
	}
}

// TestScenarioChromem runs the scenario on kb/chromem with a directory:
// DeleteActor compacts its log, so nothing is left on disk at once.
func TestScenarioChromem(t *testing.T) {
	dir := t.TempDir()
	st, err := chromem.Open(chromem.Options{Dir: dir, Dimensions: 256})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	backend := longmemory.NewKBBackend(st, bedrockkittest.NewHashEmbedder(256), longmemory.KBOptions{})
	actor, e := longmemorytest.Scenario(t, backend, longmemorytest.ScenarioOptions{})
	if !e.Compacted || e.Residue != "" {
		t.Fatalf("erasure %+v: chromem compacts", e)
	}
	if left := grepDir(t, dir, append(secrets, actor)...); len(left) > 0 {
		t.Fatalf("after DeleteActor the chromem files still hold: %v", left)
	}
}

func TestConformanceLocalindex(t *testing.T) {
	longmemorytest.Run(t, func(t *testing.T) longmemory.Backend {
		idx, err := localindex.Open(localindex.Options{Dimensions: 128})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { idx.Close() })
		return longmemory.NewKBBackend(idx, bedrockkittest.NewHashEmbedder(128), longmemory.KBOptions{})
	})
}

func TestConformanceChromem(t *testing.T) {
	longmemorytest.Run(t, func(t *testing.T) longmemory.Backend {
		st, err := chromem.Open(chromem.Options{Dimensions: 128})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return longmemory.NewKBBackend(st, bedrockkittest.NewHashEmbedder(128), longmemory.KBOptions{})
	})
}

// TestIsolationProperty runs the isolation property with many seeds on
// the embedded index (the conformance run covers one seed per backend).
func TestIsolationProperty(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			idx, err := localindex.Open(localindex.Options{Dimensions: 64})
			if err != nil {
				t.Fatal(err)
			}
			defer idx.Close()
			longmemorytest.Isolation(t, longmemory.NewKBBackend(idx, bedrockkittest.NewHashEmbedder(64), longmemory.KBOptions{}), seed, 8, 80)
		})
	}
}
