// Package bedrockkb retrieves from an existing Amazon Bedrock Knowledge
// Base: a read-only retriever over the Bedrock Agent Runtime Retrieve API,
// for data that stays in Bedrock.
//
//	client := bedrockagentruntime.NewFromConfig(cfg)
//	r, err := bedrockkb.New(client, "KB12345678")
//	res, err := r.Query(ctx, bedrockkb.Request{
//		Query:           "how are card fees charged?",
//		NumberOfResults: 10,
//		SearchType:      kb.Hybrid,
//		Filter:          f, // a kb.Filter
//	})
//
// A kb.Filter is translated to the SDK's RetrievalFilter union
// (TranslateFilter), so the same filter value works against the local
// stores and against Bedrock. Retrieve has the signature of
// kb.KnowledgeBase.Retrieve (kb.RetrieveOptions in, kb.RetrievalResult out), so the
// two are interchangeable behind an interface; Query takes a Request with
// every Bedrock option and returns this package's Result. Requests are
// validated before they are sent
// (NumberOfResults 1..100, search type, reranking options), Retrieve
// follows nextToken until it has NumberOfResults results (QueryPage
// gives one page at a time), and service errors come back as
// *bedrockkit.APIError matching bedrockkit's sentinels (ErrThrottled,
// ErrNotFound, ErrAccessDenied, ...). Retries are the SDK client's.
//
// Each Result carries the chunk's text, Bedrock's score, its source
// location (type and URI) and its metadata as plain Go values.
//
// bedrockkittest.FakeAgentRuntime serves Retrieve over the real wire
// protocol for tests.
package bedrockkb
