// Package bedrockrerank adapts Amazon Bedrock's standalone Rerank API
// (bedrock-agent-runtime Rerank, with Amazon Rerank or Cohere Rerank
// models) to kb.Reranker, so a local knowledge base can rerank its
// candidates with a Bedrock reranking model:
//
//	rr, _ := bedrockrerank.New(bedrockagentruntime.NewFromConfig(cfg), bedrockrerank.Options{
//		ModelARN: "arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0",
//	})
//	res, _ := base.Retrieve(ctx, q, kb.RetrieveOptions{Reranker: rr})
//
// It lives in its own package so that importing kb does not pull in the
// agent-runtime SDK.
package bedrockrerank
