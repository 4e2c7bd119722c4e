package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestRetrievalSuite(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("corpus.jsonl", `{"_id": "d1", "title": "Aspirin and headaches", "text": "Aspirin relieves tension headaches in adults."}
{"_id": "d2", "title": "Statins", "text": "Statins lower LDL cholesterol and cardiovascular risk."}
{"_id": "d3", "text": "Vitamin D supplements do not prevent fractures in older adults."}
`)
	write("queries.jsonl", `{"_id": "q1", "text": "Does aspirin relieve headaches?"}
{"_id": "q2", "text": "statins reduce cholesterol"}
{"_id": "q3", "text": "a query without judgements"}
`)
	write("qrels/dev.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")

	r, w, _ := os.Pipe()
	stdout := os.Stdout
	os.Stdout = w
	err := runRetrieval([]string{"-data", dir, "-split", "dev", "-dims", "64"})
	w.Close()
	os.Stdout = stdout
	out, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	re := regexp.MustCompile(`^keyword_ndcg10=([0-9.]+) semantic_ndcg10=[0-9.]+ hybrid_ndcg10=[0-9.]+ keyword_recall100=([0-9.]+) hybrid_recall100=[0-9.]+$`)
	m := re.FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line %q", last)
	}
	if m[1] != "1.0000" || m[2] != "1.0000" {
		t.Fatalf("keyword search should find both documents first: %s", last)
	}
	if !strings.Contains(string(out), "2 queries with qrels in dev") {
		t.Fatalf("output:\n%s", out)
	}
	if err := runRetrieval([]string{"-data", dir, "-split", "nope"}); err == nil {
		t.Fatal("a missing split must fail")
	}
}
