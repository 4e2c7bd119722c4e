package agentotel_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/agentotel"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func ExampleStart() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())

	a := &agent.Agent{Name: "greeter", Model: bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Hello!"))}
	ctx, run := agentotel.Start(context.Background(), tp.Tracer("my-service"), a.Name, "session-1", agentotel.Options{})
	_, err := a.Run(ctx, "session-1", "Hi")
	run.End(err)

	for _, s := range rec.Ended() {
		fmt.Println(s.Name())
	}
	// Output:
	// chat
	// invoke_agent greeter
}
