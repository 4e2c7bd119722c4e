package s3source

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit/kb"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// listing collects a source's items, writing failed ones as "ERR <uri>".
func listing(t *testing.T, src kb.Source) ([]string, []kb.SourceItem, error) {
	t.Helper()
	var (
		lines []string
		items []kb.SourceItem
	)
	for item, err := range src.Items(context.Background()) {
		if err != nil {
			var ie *kb.ItemError
			if !errors.As(err, &ie) {
				return lines, items, err
			}
			lines = append(lines, "ERR "+ie.URI)
			continue
		}
		lines = append(lines, fmt.Sprintf("%s %s %d", item.URI, item.Name, item.Size))
		items = append(items, item)
	}
	return lines, items, nil
}

func readItem(t *testing.T, item kb.SourceItem) (string, error) {
	t.Helper()
	rc, err := item.Open(context.Background())
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

// fakeS3 speaks enough of the S3 REST API (path-style ListObjectsV2 and
// GetObject) for the real SDK client. Pages hold pageSize keys, so the
// paginator and the streaming sidecar matching cross page boundaries.
type fakeS3 struct {
	bucket   string
	objects  map[string]string
	denied   map[string]bool // GetObject answers 403 AccessDenied
	pageSize int

	mu   sync.Mutex
	gets []string
}

type s3ListResult struct {
	XMLName               xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string
	Prefix                string
	KeyCount              int
	MaxKeys               int
	IsTruncated           bool
	NextContinuationToken string `xml:",omitempty"`
	Contents              []s3Object
}

type s3Object struct {
	Key          string
	Size         int64
	ETag         string
	LastModified string
	StorageClass string
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
	if parts[0] != f.bucket {
		s3Error(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	if r.Method != http.MethodGet {
		s3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method)
		return
	}
	if len(parts) == 1 || parts[1] == "" {
		f.list(w, r)
		return
	}
	key := parts[1]
	f.mu.Lock()
	f.gets = append(f.gets, key)
	f.mu.Unlock()
	if f.denied[key] {
		s3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	body, ok := f.objects[key]
	if !ok {
		s3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("ETag", `"etag"`)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write([]byte(body))
}

func (f *fakeS3) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("list-type") != "2" {
		s3Error(w, http.StatusBadRequest, "InvalidArgument", "only ListObjectsV2 is faked")
		return
	}
	prefix := q.Get("prefix")
	var keys []string
	for k := range f.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys) // S3 lists in UTF-8 binary order
	start := 0
	if tok := q.Get("continuation-token"); tok != "" {
		start, _ = strconv.Atoi(tok)
	}
	end := min(start+f.pageSize, len(keys))
	res := s3ListResult{Name: f.bucket, Prefix: prefix, MaxKeys: f.pageSize, KeyCount: end - start}
	for _, k := range keys[start:end] {
		res.Contents = append(res.Contents, s3Object{Key: k, Size: int64(len(f.objects[k])), ETag: `"etag"`, LastModified: "2024-01-01T00:00:00.000Z", StorageClass: "STANDARD"})
	}
	if end < len(keys) {
		res.IsTruncated, res.NextContinuationToken = true, strconv.Itoa(end)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Write([]byte(xml.Header))
	xml.NewEncoder(w).Encode(res)
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>r1</RequestId></Error>`, code, msg)
}

func newFakeS3Client(t *testing.T, f *fakeS3) *s3.Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return s3.New(s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		UsePathStyle:     true,
		Credentials:      aws.AnonymousCredentials{},
		HTTPClient:       srv.Client(),
		RetryMaxAttempts: 1,
	})
}

func TestS3Source(t *testing.T) {
	f := &fakeS3{
		bucket:   "bank-docs",
		pageSize: 2,
		objects: map[string]string{
			"kb/fees.md":                    "# Fees\nAnnual fee 95.",
			"kb/fees.md.metadata.json":      `{"metadataAttributes": {"year": 2024}}`,
			"kb/fees.md.v2/":                "",
			"kb/fees.md.v2/x.txt":           "x",
			"kb/folder/":                    "",
			"kb/folder/a.txt":               "a",
			"kb/folder/a.txt.metadata.json": `{"metadataAttributes": {"a": "yes"}}`,
			"kb/bad.txt":                    "b",
			"kb/bad.txt.metadata.json":      `{"metadataAttributes": {"a": [1]}}`,
			"kb/denied.txt":                 "d",
			"kb/denied.txt.metadata.json":   `{"metadataAttributes": {}}`,
			"kb/big.txt":                    strings.Repeat("x", 64),
			"kb/orphan.pdf.metadata.json":   `{}`,
			"other/skip.txt":                "s",
		},
		denied: map[string]bool{"kb/denied.txt.metadata.json": true},
	}
	src := New(newFakeS3Client(t, f), "bank-docs", Options{Prefix: "kb/", MaxSize: 32})
	lines, items, err := listing(t, src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ERR s3://bank-docs/kb/bad.txt",
		"ERR s3://bank-docs/kb/big.txt",
		"ERR s3://bank-docs/kb/denied.txt",
		"s3://bank-docs/kb/fees.md fees.md 21",
		"s3://bank-docs/kb/fees.md.v2/x.txt x.txt 1",
		"s3://bank-docs/kb/folder/a.txt a.txt 1",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Fatalf("listing\n got %q\nwant %q", lines, want)
	}
	if !reflect.DeepEqual(items[0].Metadata, map[string]any{"year": 2024.0}) || items[1].Metadata != nil || items[2].Metadata["a"] != "yes" {
		t.Fatalf("metadata %v | %v | %v", items[0].Metadata, items[1].Metadata, items[2].Metadata)
	}
	if text, err := readItem(t, items[0]); err != nil || text != "# Fees\nAnnual fee 95." {
		t.Fatalf("Open: %q %v", text, err)
	}

	errs := map[string]error{}
	for _, err := range src.Items(context.Background()) {
		var ie *kb.ItemError
		if errors.As(err, &ie) {
			errs[ie.URI] = err
		}
	}
	if err := errs["s3://bank-docs/kb/bad.txt"]; !errors.Is(err, kb.ErrInvalidMetadata) || !strings.Contains(err.Error(), "bad.txt.metadata.json") {
		t.Errorf("bad sidecar: %v", err)
	}
	if err := errs["s3://bank-docs/kb/denied.txt"]; err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("denied sidecar: %v", err)
	}
	if err := errs["s3://bank-docs/kb/big.txt"]; !errors.Is(err, kb.ErrTooLarge) {
		t.Errorf("big: %v", err)
	}

	// A document that became too large after listing fails on Open.
	f.objects["kb/fees.md"] = strings.Repeat("y", 40)
	if _, err := readItem(t, items[0]); !errors.Is(err, kb.ErrTooLarge) {
		t.Errorf("grown object: %v", err)
	}
	// A document deleted after listing fails on Open with the SDK's error.
	delete(f.objects, "kb/folder/a.txt")
	var nsk interface{ ErrorCode() string }
	if _, err := readItem(t, items[2]); !errors.As(err, &nsk) || nsk.ErrorCode() != "NoSuchKey" {
		t.Errorf("deleted object: %v", err)
	}
}

func TestS3SourceListingFails(t *testing.T) {
	f := &fakeS3{bucket: "b", pageSize: 10, objects: map[string]string{}}
	client := newFakeS3Client(t, f)
	_, _, err := listing(t, New(client, "missing", Options{}))
	var ie *kb.ItemError
	if err == nil || errors.As(err, &ie) || !strings.Contains(err.Error(), "NoSuchBucket") || !strings.Contains(err.Error(), "s3://missing/") {
		t.Fatalf("listing a missing bucket: %v", err)
	}
	if _, _, err := listing(t, New(nil, "b", Options{})); err == nil {
		t.Fatal("nil client accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range New(client, "b", Options{}).Items(ctx) {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled: %v", err)
		}
	}
}

// Sidecars are matched across page boundaries and the order is the keys'.
func TestS3SourceSidecarAcrossPages(t *testing.T) {
	objects := map[string]string{}
	for i := range 7 {
		k := fmt.Sprintf("d%d.txt", i)
		objects[k] = "t"
		objects[k+kb.MetadataSuffix] = fmt.Sprintf(`{"metadataAttributes": {"i": %d}}`, i)
	}
	objects["d1.txt.extra"] = "between a key and its sidecar"
	for _, pageSize := range []int{1, 2, 3, 1000} {
		f := &fakeS3{bucket: "b", pageSize: pageSize, objects: objects}
		_, items, err := listing(t, New(newFakeS3Client(t, f), "b", Options{}))
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 8 {
			t.Fatalf("page size %d: %d items", pageSize, len(items))
		}
		for j, it := range items {
			if it.URI == "s3://b/d1.txt.extra" {
				if it.Metadata != nil || j != 2 {
					t.Fatalf("page size %d: extra at %d with %v", pageSize, j, it.Metadata)
				}
				continue
			}
			want := float64(j)
			if j > 2 {
				want--
			}
			if it.Metadata["i"] != want {
				t.Fatalf("page size %d: item %d %s has %v", pageSize, j, it.URI, it.Metadata)
			}
		}
	}
}
