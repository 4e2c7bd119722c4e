package kb

import (
	"context"
	"fmt"
	"io"
	"iter"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bedrockkit/bedrockkit"
)

// S3API is the part of *s3.Client an S3Source uses.
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// S3Source is a Source over the objects under a prefix of an S3 bucket, like
// a Bedrock S3 data source. Each object is a document with the URI
// "s3://bucket/key", listed in key order; keys ending in "/" (folder
// markers) are skipped.
//
// An object "<key>.metadata.json" is the sidecar of "<key>" (Bedrock's
// layout): it is not a document, and its attributes become the item's
// Metadata, read while listing. A sidecar larger than 10 KB, unreadable or
// not in Bedrock's format, and an object larger than MaxSize, make that
// document fail alone with an *ItemError. An error listing the bucket ends
// the listing.
//
// Sidecars are matched as the listing streams by, so memory stays small on
// large buckets; this relies on S3 listing keys in UTF-8 binary order, as
// general purpose buckets do (directory buckets do not sort keys, and their
// sidecars may be missed).
type S3Source struct {
	// Client calls S3; an *s3.Client from s3.NewFromConfig. Required.
	Client S3API
	// Bucket is the bucket name. Required.
	Bucket string
	// Prefix limits the listing to keys starting with it, such as
	// "policies/"; "" lists the whole bucket.
	Prefix string
	// MaxSize is the largest document accepted in bytes; 0 means
	// DefaultMaxDocumentSize and a negative value means no limit.
	MaxSize int64
}

// Items implements Source.
func (s *S3Source) Items(ctx context.Context) iter.Seq2[SourceItem, error] {
	return func(yield func(SourceItem, error) bool) {
		if s.Client == nil || s.Bucket == "" {
			yield(SourceItem{}, fmt.Errorf("%w: kb: S3Source needs Client and Bucket", bedrockkit.ErrInvalidInput))
			return
		}
		// pending holds documents whose sidecar may still come: a key's
		// sidecar sorts after it, after any keys with the key as prefix.
		type object struct {
			key     string
			size    int64
			sidecar int64 // size of the sidecar, -1 when none seen
		}
		var pending []object
		byKey := map[string]int{} // index in pending
		emit := func(o object) bool {
			uri := "s3://" + s.Bucket + "/" + o.key
			limit := effectiveMaxSize(s.MaxSize)
			if limit > 0 && o.size > limit {
				return yield(SourceItem{}, &ItemError{URI: uri, Err: tooLarge(o.size, limit)})
			}
			item := SourceItem{URI: uri, Name: path.Base(o.key), Size: o.size}
			if o.sidecar >= 0 {
				md, err := s.readSidecar(ctx, o.key+MetadataSuffix, o.sidecar)
				if err != nil {
					if ctx.Err() != nil {
						yield(SourceItem{}, ctx.Err())
						return false
					}
					return yield(SourceItem{}, &ItemError{URI: uri, Err: fmt.Errorf("%s: %w", path.Base(o.key)+MetadataSuffix, err)})
				}
				item.Metadata = md
			}
			key := o.key
			item.Open = func(ctx context.Context) (io.ReadCloser, error) {
				out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
				if err != nil {
					return nil, fmt.Errorf("kb: reading %s: %w", uri, err)
				}
				if limit > 0 && out.ContentLength != nil && *out.ContentLength > limit {
					out.Body.Close()
					return nil, tooLarge(*out.ContentLength, limit)
				}
				return limitReadCloser(ctx, out.Body, limit), nil
			}
			return yield(item, nil)
		}
		// flush emits pending documents whose sidecar can no longer come
		// before key ("" flushes all).
		flush := func(key string) bool {
			n := 0
			for n < len(pending) && (key == "" || pending[n].key+MetadataSuffix < key) {
				delete(byKey, pending[n].key)
				if !emit(pending[n]) {
					return false
				}
				n++
			}
			pending = pending[n:]
			for i, o := range pending {
				byKey[o.key] = i
			}
			return true
		}
		p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{
			Bucket: aws.String(s.Bucket),
			Prefix: aws.String(s.Prefix),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				if ctx.Err() != nil {
					err = ctx.Err()
				}
				yield(SourceItem{}, fmt.Errorf("kb: listing s3://%s/%s: %w", s.Bucket, s.Prefix, err))
				return
			}
			for _, obj := range page.Contents {
				if err := ctx.Err(); err != nil {
					yield(SourceItem{}, err)
					return
				}
				key := aws.ToString(obj.Key)
				if key == "" || strings.HasSuffix(key, "/") {
					continue
				}
				if !flush(key) {
					return
				}
				size := aws.ToInt64(obj.Size)
				if doc, ok := strings.CutSuffix(key, MetadataSuffix); ok {
					if i, ok := byKey[doc]; ok {
						pending[i].sidecar = size
					}
					continue
				}
				byKey[key] = len(pending)
				pending = append(pending, object{key: key, size: size, sidecar: -1})
			}
		}
		flush("")
	}
}

func (s *S3Source) readSidecar(ctx context.Context, key string, size int64) (map[string]any, error) {
	if size > MaxMetadataSize {
		return nil, metadataError("is %d bytes; Bedrock allows at most %d (10 KB): move long values into the document", size, MaxMetadataSize)
	}
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("cannot read metadata sidecar: %w", err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, MaxMetadataSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read metadata sidecar: %w", err)
	}
	md, err := ParseMetadata(data)
	if err != nil {
		return nil, err
	}
	return md.Attributes, nil
}
