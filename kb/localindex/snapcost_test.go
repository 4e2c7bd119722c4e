package localindex

import (
	"strconv"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb"
)

// TestSnapshotCostStaysProportional: a snapshot rewrites the whole state,
// so taking one every SnapshotBytes of log made loading a large index
// quadratic (at a million vectors it rewrote gigabytes for every 64 MiB
// logged and never finished). The bytes snapshots write must stay within a
// small factor of the bytes the log received.
func TestSnapshotCostStaysProportional(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(Options{Dir: dir, NoSync: true, SnapshotBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var logged int64
	for i := range 3000 {
		recs := []kb.Record{{ID: strconv.Itoa(i), DocumentID: "d" + strconv.Itoa(i/10), Text: "some text", Vector: crashVec(i)}}
		logged += int64(len(frame(append(make([]byte, 9), encodeUpsert(recs)...))))
		if err := ix.Upsert(bg, recs); err != nil {
			t.Fatal(err)
		}
	}
	snaps, bytes := ix.log.snapCount, ix.log.snapTotal
	t.Logf("%d bytes logged, %d snapshots wrote %d bytes (%.2fx)", logged, snaps, bytes, float64(bytes)/float64(logged))
	if snaps < 3 {
		t.Fatalf("only %d snapshots: the log is never folded", snaps)
	}
	if bytes > 3*logged+3*2048 {
		t.Fatalf("snapshots wrote %d bytes for %d logged (%.1fx): snapshot cost is not proportional", bytes, logged, float64(bytes)/float64(logged))
	}
}
