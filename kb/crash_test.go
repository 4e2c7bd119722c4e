package kb_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// crashCorpus returns version v of a corpus: version 1 changes, deletes and
// adds documents relative to version 0.
func crashCorpus(v int) map[string]string {
	files := corpus(40)
	if v == 1 {
		for i := 0; i < 40; i += 5 {
			files[fmt.Sprintf("doc%03d.txt", i)] += "\n\nRevised in version 1 with a new paragraph about card fees."
		}
		for i := 3; i < 40; i += 9 {
			delete(files, fmt.Sprintf("doc%03d.txt", i))
		}
		for i := range 6 {
			files[fmt.Sprintf("new%02d.txt", i)] = strings.Repeat(fmt.Sprintf("New document %d about disputes. ", i), 30)
		}
	}
	return files
}

// slowEmbedder slows every call so that a crash lands mid-sync.
type slowEmbedder struct{ *bedrockkittest.HashEmbedder }

func (e slowEmbedder) Embed(ctx context.Context, texts []string, p bedrockkit.Purpose) ([][]float32, error) {
	time.Sleep(3 * time.Millisecond)
	return e.HashEmbedder.Embed(ctx, texts, p)
}

func crashKB(t testing.TB, store kbstore.Store) *kb.KnowledgeBase {
	return newKB(t, kb.Options{Store: store, Embedder: slowEmbedder{bedrockkittest.NewHashEmbedder(48)}, BatchSize: 3, Concurrency: 2})
}

// crashChild is the process that gets killed: it syncs a corpus version
// into the store at dir, printing the number of finished documents.
//
// The parent kills it once killAt documents are done; as a safety net on a
// loaded machine, where the parent may react late, the child stops making
// progress a few documents later so it never finishes first.
func crashChild(t *testing.T, dir string, version, killAt int) {
	store, err := localindex.Open(localindex.Options{Dir: dir, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	k := crashKB(t, store)
	_, err = k.Sync(context.Background(), newMemSource(crashCorpus(version)), kb.SyncOptions{Progress: func(p kb.SyncProgress) {
		fmt.Printf("done %d\n", p.Done)
		if p.Done >= killAt+6 {
			select {} // hang (inside Sync, mid-flight) until killed
		}
	}})
	fmt.Printf("finished %v\n", err)
	time.Sleep(time.Hour) // wait to be killed
}

// TestSyncSurvivesKill runs Sync in a child process, SIGKILLs it midway
// (twice, on two corpus versions), and checks that a new Sync then yields
// exactly the store an uninterrupted Sync builds.
func TestSyncSurvivesKill(t *testing.T) {
	if dir := os.Getenv("KB_CRASH_CHILD_DIR"); dir != "" {
		v, _ := strconv.Atoi(os.Getenv("KB_CRASH_CHILD_VERSION"))
		killAt, _ := strconv.Atoi(os.Getenv("KB_CRASH_CHILD_KILL_AT"))
		crashChild(t, dir, v, killAt)
		return
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("needs subprocesses and kill")
	}
	dir := t.TempDir()
	for round, killAt := range []int{9, 17} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSyncSurvivesKill$", "-test.count=1")
		cmd.Env = append(os.Environ(), "KB_CRASH_CHILD_DIR="+dir, fmt.Sprintf("KB_CRASH_CHILD_VERSION=%d", round), fmt.Sprintf("KB_CRASH_CHILD_KILL_AT=%d", killAt))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		killed := false
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "finished") {
				t.Fatalf("round %d: the child finished before the kill (%s); slow it down", round, line)
			}
			var n int
			if _, err := fmt.Sscanf(line, "done %d", &n); err == nil && n >= killAt {
				cmd.Process.Kill() // SIGKILL: no deferred code, no Close
				killed = true
				break
			}
		}
		cmd.Wait()
		if !killed {
			t.Fatalf("round %d: child ended without reaching %d documents", round, killAt)
		}
	}

	// Resume on the damaged store.
	store := openIndex(t, localindex.Options{Dir: dir, NoSync: true})
	k := crashKB(t, store)
	rep, err := k.Sync(context.Background(), newMemSource(crashCorpus(1)))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 0 || rep.Unchanged == 0 || rep.New+rep.Modified == 0 {
		t.Fatalf("resume report: %+v (some documents should be done already, others not)", rep)
	}

	// Reference: an uninterrupted sync of the final version.
	ref := openIndex(t, localindex.Options{})
	if _, err := crashKB(t, ref).Sync(context.Background(), newMemSource(crashCorpus(1))); err != nil {
		t.Fatal(err)
	}
	got, want := dump(t, store, ""), dump(t, ref, "")
	if len(got) != len(want) {
		t.Fatalf("resumed store has %d records, uninterrupted %d", len(got), len(want))
	}
	for id, w := range want {
		if g, ok := got[id]; !ok || !reflect.DeepEqual(g, w) {
			t.Fatalf("record %s differs after crash and resume:\n got %+v\nwant %+v", id, g.Text, w.Text)
		}
	}
	// And the keyword index of a fresh open agrees with the reference.
	q := kb.RetrieveOptions{SearchType: kb.Keyword, NumberOfResults: 20}
	a, _ := k.Retrieve(context.Background(), "revised card fees", q)
	b, _ := crashKB(t, ref).Retrieve(context.Background(), "revised card fees", q)
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("keyword results after resume: %d vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Fatalf("keyword result %d: %s vs %s", i, a[i].ID, b[i].ID)
		}
	}
}
