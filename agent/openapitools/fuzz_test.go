package openapitools_test

import (
	"testing"

	"github.com/bedrockkit/bedrockkit/agent/openapitools"
)

// FuzzParse feeds arbitrary documents to Parse and Tools: never a panic,
// and every tool returned is usable.
func FuzzParse(f *testing.F) {
	f.Add(edgeDoc30)
	f.Add(doc31)
	f.Add(`openapi: 3.0.0
info: {title: a, version: "1"}
paths:
  /x:
    get:
      parameters: [{name: q, in: query, schema: &a {type: array, items: *a}}]
      responses: {"200": {description: ok}}`)
	f.Add(`{"openapi":"3.0.0","info":{"title":"x","version":"1"},"paths":{"/{a}/{a}":{"get":{"parameters":[{"name":"a","in":"path"}],"responses":{}}}}}`)
	f.Add(`{"openapi":"3.0.0","paths":{"/x":{"get":{"requestBody":{"$ref":"#/components/requestBodies/b"}}}},"components":{"requestBodies":{"b":{"$ref":"#/components/requestBodies/b"}}}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := openapitools.Parse([]byte(doc))
		if err != nil {
			return
		}
		tools, _, err := d.Tools(openapitools.Options{BaseURL: "http://127.0.0.1:1"})
		if err != nil {
			return
		}
		for _, tool := range tools {
			if tool == nil {
				t.Fatal("Tools returned a nil tool")
			}
		}
	})
}
