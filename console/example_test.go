package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/console"
)

// Record an agent's run and look at it: here through httptest, in a
// program by mounting the console (or Console.Start) and opening a browser.
func Example() {
	c := console.New(console.Options{})
	defer c.Close()

	weather := agent.MustNewFuncTool("get_weather", "Current weather in a city.", func(ctx context.Context, in struct {
		City string `json:"city"`
	}) (string, error) {
		return "sunny in " + in.City, nil
	})
	model := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "c1", Name: "get_weather", Input: []byte(`{"city":"Lisbon"}`)}),
		bedrockkittest.TextStep("It is sunny in Lisbon."),
	)
	a := &agent.Agent{Model: model, Tools: []*agent.Tool{weather}}

	// Every run made with this context is recorded.
	ctx := c.Observe(context.Background(), console.RunInfo{Agent: "weather"})
	if _, err := a.Run(ctx, "session-1", "Weather in Lisbon?"); err != nil {
		fmt.Println(err)
		return
	}

	// In a program: mux.Handle("/debug/console/", c) with
	// Options{Path: "/debug/console"}, or srv, err := c.Start("").
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://localhost/runs/r1", nil))
	page := rec.Body.String()
	fmt.Println(rec.Code, strings.Contains(page, `data-tool="get_weather"`), strings.Contains(page, "It is sunny in Lisbon."))
	// Output: 200 true true
}

// Start serves the console on 127.0.0.1 until Close.
func ExampleConsole_Start() {
	c := console.New(console.Options{Token: "s3cret"})
	srv, err := c.Start("127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	fmt.Println(strings.HasPrefix(srv.URL, "http://127.0.0.1:"), strings.HasSuffix(srv.URL, "/?token=s3cret"))
	// Output: true true
}
