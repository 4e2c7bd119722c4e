// Package kbstoretest is the conformance suite every kbstore.Store backend runs.
//
// A backend's test calls Run with a function that opens a fresh, empty store
// for the given Config:
//
//	func TestConformance(t *testing.T) {
//		kbstoretest.Run(t, func(t *testing.T, cfg kbstoretest.Config) kbstore.Store {
//			s, err := mybackend.Open(..., cfg.Dimensions, cfg.RequirePartition)
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite checks upsert/replace/delete semantics, every filter operator
// including absent keys and type mismatches, K larger than the collection,
// the empty store, invalid input (dimension mismatch, zero vectors, K < 1),
// atomic batches, vector-less records, exact top-K against brute force
// (also under a 1%-selective filter), that results never alias stored data,
// concurrent readers and writers (run it under -race), document
// fingerprints, closed stores, cancelled contexts, and tenant isolation as a
// randomised property test.
//
// RandomMetadata and RandomFilter, the generators behind the suite's filter
// property test, are exported for tests that check other filter
// implementations (a translation to a remote service's filter language,
// say) against the reference evaluator in the same way.
package kbstoretest
