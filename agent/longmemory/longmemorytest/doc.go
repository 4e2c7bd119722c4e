// Package longmemorytest checks longmemory.Backend implementations: the
// conformance checks every backend passes (Run), the isolation property
// over random actors and namespaces (Isolation), and the returning-customer
// scenario through an agent with scripted models (Scenario), so the
// embedded, PostgreSQL and AgentCore Memory backends are held to the same
// behaviour:
//
//	func TestBackend(t *testing.T) {
//		longmemorytest.Run(t, func(t *testing.T) longmemory.Backend {
//			return longmemory.NewKBBackend(store, embedder, longmemory.KBOptions{})
//		})
//	}
//
// It is imported only by tests.
package longmemorytest
