package main

import (
	"context"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestOffline(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out, options{}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"Offline mode",
		"Sync: scanned 5, new 5, modified 0, deleted 0, unchanged 0, skipped 0, failed 0",
		"A (extractive, quoted from the documents): The Everyday Checking account has a monthly maintenance fee of $6.[1]",
		"[1] harborview:fees.md > Checking accounts",
		"We never sell your personal information.",
		"Second sync (nothing changed): scanned 5, new 0, modified 0, deleted 0, unchanged 5, skipped 0, failed 0; 0 chunks in 0 embedding calls",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

// TestBedrock runs the -bedrock path against a fake Bedrock endpoint: Titan
// embeddings through InvokeModel and answers through Converse.
func TestBedrock(t *testing.T) {
	fake := bedrockkittest.NewFakeBedrock(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_BEARER_TOKEN_BEDROCK", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	fake.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText("Lock the card in the app and call us [1]. The replacement is free [2].")})
	var out strings.Builder
	err := run(context.Background(), &out, options{bedrock: true, modelID: "us.amazon.nova-lite-v1:0", endpoint: fake.URL(), question: "I lost my card"})
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "A: Lock the card in the app and call us.[1] The replacement is free.[2]") || !strings.Contains(s, "Using Amazon Bedrock") {
		t.Fatalf("output:\n%s", s)
	}
	if fake.Calls(bedrockkittest.OpInvokeModel) == 0 {
		t.Fatal("no Titan embedding call reached the fake")
	}
}
