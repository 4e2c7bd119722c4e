package codeinterp

import (
	"context"
	"os"
	"testing"
)

func TestScratch(t *testing.T) {
	code := os.Getenv("JS")
	if code == "" {
		t.Skip()
	}
	sb, err := NewLocal(Options{}).Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(context.Background())
	ex, err := sb.Execute(context.Background(), code)
	t.Logf("err=%v", err)
	if ex != nil {
		t.Logf("stdout=%q stderr=%q value=%s error=%q dur=%v", ex.Stdout, ex.Stderr, ex.Value, ex.Error, ex.Duration)
	}
}
