package s3source_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bedrockkit/bedrockkit/kb/s3source"
)

// A Source lists the objects under a prefix. Here the bucket is a local
// stand-in answering one ListObjectsV2 page; in production pass
// s3.NewFromConfig(cfg) instead.
func ExampleNew() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bank-docs</Name><Prefix>policies/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>
<Contents><Key>policies/cards.txt</Key><Size>80</Size></Contents>
<Contents><Key>policies/fees.md</Key><Size>120</Size></Contents>
</ListBucketResult>`)
	}))
	defer srv.Close()
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, Credentials: aws.AnonymousCredentials{}})

	src := s3source.New(client, "bank-docs", s3source.Options{Prefix: "policies/"})
	for item, err := range src.Items(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(item.URI, item.Size)
	}
	// Output:
	// s3://bank-docs/policies/cards.txt 80
	// s3://bank-docs/policies/fees.md 120
}
