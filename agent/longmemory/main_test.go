package longmemory_test

import (
	"testing"
)

// TestMain runs the tests through pg (pgvector_test.go), which reports to
// CI how many tests reached PostgreSQL and then checks for leaked
// goroutines (goleak).
func TestMain(m *testing.M) {
	pg.Main(m, func() {
		if appPool != nil {
			appPool.Close()
		}
	})
}
