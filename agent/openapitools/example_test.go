package openapitools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/openapitools"
)

const accountsAPI = `
openapi: 3.0.3
info: {title: Accounts, version: "1"}
paths:
  /accounts/{accountId}:
    get:
      operationId: get_account
      summary: Look up an account
      parameters:
        - {name: accountId, in: path, required: true, schema: {type: string}}
      responses: {"200": {description: the account}}
`

func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"balance":120.5}`, r.URL.Path[len("/accounts/"):])
	}))
	defer srv.Close()

	doc, err := openapitools.Parse([]byte(accountsAPI))
	if err != nil {
		panic(err)
	}
	tools, report, err := doc.Tools(openapitools.Options{BaseURL: srv.URL})
	if err != nil {
		panic(err)
	}
	fmt.Println(report.Converted)
	fmt.Println(string(tools[0].Definition().InputSchema))
	out, err := tools[0].Call(context.Background(), json.RawMessage(`{"accountId":"A-1"}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out[0].(bedrockkit.JSON).Value))
	// Output:
	// [GET /accounts/{accountId} -> get_account]
	// {"properties":{"accountId":{"type":"string"}},"required":["accountId"],"type":"object"}
	// {"id":"A-1","balance":120.5}
}
