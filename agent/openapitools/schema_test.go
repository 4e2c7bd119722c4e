package openapitools_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit/agent/openapitools"
)

const edgeDoc30 = `
openapi: 3.0.3
info: {title: edge, version: "1"}
servers: [{url: "https://api.example.com/{ver}", variables: {ver: {default: v1}}}]
paths:
  /nodes/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string, format: uuid}}
    put:
      operationId: putNode
      parameters:
        - {name: id, in: query, schema: {type: integer, minimum: 0, exclusiveMinimum: true}}
        - {name: Authorization, in: header, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Node"}
      responses: {"200": {description: ok}}
components:
  schemas:
    Node:
      type: object
      required: [id, name]
      properties:
        id: {type: string, readOnly: true}
        name: {type: string, nullable: true, pattern: "^(?=a).*$"}
        when: {type: string, format: date-time}
        children: {type: array, items: {$ref: "#/components/schemas/Node"}}
`

func TestSchemaConversion(t *testing.T) {
	d, err := openapitools.Parse([]byte(edgeDoc30))
	if err != nil {
		t.Fatal(err)
	}
	tools, rep, err := d.Tools(openapitools.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tools) != 1 || rep.DroppedPatterns != 1 {
		t.Fatalf("tools %v, report %+v", openapitools.Names(tools), rep)
	}
	var s map[string]any
	if err := json.Unmarshal(tools[0].Definition().InputSchema, &s); err != nil {
		t.Fatal(err)
	}
	raw := string(tools[0].Definition().InputSchema)
	props := s["properties"].(map[string]any)
	// The path and query parameters share a name: both are kept, apart.
	if _, ok := props["path_id"]; !ok {
		t.Fatalf("path id missing: %s", raw)
	}
	if q := props["query_id"].(map[string]any); q["exclusiveMinimum"] != 0.0 || q["minimum"] != nil {
		t.Fatalf("3.0 exclusiveMinimum: %v", q)
	}
	if _, ok := props["Authorization"]; ok {
		t.Fatal("the Authorization header parameter is offered to the model")
	}
	body := props["body"].(map[string]any)
	bprops := body["properties"].(map[string]any)
	if _, ok := bprops["id"]; ok {
		t.Fatal("a readOnly property is in the request schema")
	}
	if req := body["required"].([]any); len(req) != 1 || req[0] != "name" {
		t.Fatalf("required after readOnly: %v", req)
	}
	name := bprops["name"].(map[string]any)
	if types, ok := name["type"].([]any); !ok || len(types) != 2 || types[1] != "null" {
		t.Fatalf("nullable: %v", name)
	}
	if bprops["when"].(map[string]any)["format"] != "date-time" {
		t.Fatal("format lost")
	}
	child := bprops["children"].(map[string]any)["items"].(map[string]any)
	if !strings.Contains(child["description"].(string), "recursive Node") {
		t.Fatalf("recursion: %v", child)
	}
	// Valid and invalid arguments.
	if err := tools[0].Validate(json.RawMessage(`{"path_id":"x","body":{"name":null,"children":[{"anything":1}]}}`)); err != nil {
		t.Fatal(err)
	}
	if err := tools[0].Validate(json.RawMessage(`{"path_id":"x","body":{"name":5}}`)); err == nil {
		t.Fatal("a number was accepted as a name")
	}
}

const doc31 = `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"servers":[{"url":"https://x.example"}],
"paths":{"/a":{"post":{"operationId":"a","requestBody":{"content":{"multipart/form-data":{"schema":{"type":"object"}}},"required":true},"responses":{"200":{"description":"ok"}}}},
"/b":{"get":{"parameters":[{"name":"n","in":"query","schema":{"type":["integer","null"],"exclusiveMinimum":3}}],"responses":{"200":{"description":"ok"}}}}}}`

func TestOpenAPI31AndSkips(t *testing.T) {
	d, err := openapitools.Parse([]byte(doc31))
	if err != nil {
		t.Fatal(err)
	}
	tools, rep, err := d.Tools(openapitools.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tools) != 1 || tools[0].Name() != "get_b" || len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0].Reason, "multipart/form-data") {
		t.Fatalf("tools %v, report %+v", openapitools.Names(tools), rep)
	}
	raw := string(tools[0].Definition().InputSchema)
	if !strings.Contains(raw, `"exclusiveMinimum":3`) || !strings.Contains(raw, `["integer","null"]`) {
		t.Fatalf("3.1 schema: %s", raw)
	}
}

// TestExponentialInliningIsBounded: schemas that share parts double at
// every level when inlined (2^40 nodes here); the conversion stops early
// and uses $defs, each schema once.
func TestExponentialInliningIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"openapi":"3.0.0","info":{"title":"x","version":"1"},"servers":[{"url":"https://x.example"}],
"paths":{"/a":{"post":{"operationId":"a","requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/S0"}}}},"responses":{"200":{"description":"ok"}}}}},
"components":{"schemas":{`)
	const levels = 40
	for i := range levels {
		fmt.Fprintf(&b, `"S%d":{"type":"object","properties":{"l":{"$ref":"#/components/schemas/S%d"},"r":{"$ref":"#/components/schemas/S%d"}}},`, i, i+1, i+1)
	}
	fmt.Fprintf(&b, `"S%d":{"type":"string"}}}}`, levels)
	d, err := openapitools.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	tools, rep, err := d.Tools(openapitools.Options{})
	if err != nil || len(tools) != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
	raw := string(tools[0].Definition().InputSchema)
	if !strings.Contains(raw, `"$defs"`) || len(raw) > 20000 {
		t.Fatalf("schema of %d bytes: %.300s", len(raw), raw)
	}
	if err := tools[0].Validate(json.RawMessage(`{"body":{"l":{"r":{"l":{}}}}}`)); err != nil {
		t.Fatal(err)
	}
	if err := tools[0].Validate(json.RawMessage(`{"body":{"l":{"r":5}}}`)); err == nil {
		t.Fatal("a number was accepted where an object is required")
	}
}
