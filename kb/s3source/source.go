package s3source

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
	"github.com/bedrockkit/bedrockkit/kb"
)

// API is the part of *s3.Client a Source uses.
type API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ API = (*s3.Client)(nil)

// Options are a Source's optional settings; the zero value lists the whole
// bucket with the default size limit.
type Options struct {
	// Prefix limits the listing to keys starting with it, such as
	// "policies/"; "" lists the whole bucket.
	Prefix string
	// MaxSize is the largest document accepted in bytes; 0 means
	// kb.DefaultMaxDocumentSize and a negative value means no limit.
	MaxSize int64
}

// Source is a kb.Source over the objects under a prefix of an S3 bucket.
// Objects are listed in key order; keys ending in "/" (folder markers) are
// skipped.
//
// Sidecars are matched as the listing streams by, so memory stays small on
// large buckets; this relies on S3 listing keys in UTF-8 binary order, as
// general purpose buckets do (directory buckets do not sort keys, and their
// sidecars may be missed). A Source is safe for concurrent use.
type Source struct {
	client API
	bucket string
	opts   Options
}

// New returns a Source over bucket, read with client (an *s3.Client from
// s3.NewFromConfig). A nil client or an empty bucket name is reported by
// the first listing.
func New(client API, bucket string, opts Options) *Source {
	return &Source{client: client, bucket: bucket, opts: opts}
}

func (s *Source) limit() int64 {
	if s.opts.MaxSize == 0 {
		return kb.DefaultMaxDocumentSize
	}
	return s.opts.MaxSize
}

// object is a listed document whose sidecar may still come.
type object struct {
	key     string
	size    int64
	sidecar int64 // size of the sidecar, -1 when none seen
}

// Items implements kb.Source.
func (s *Source) Items(ctx context.Context) iter.Seq2[kb.SourceItem, error] {
	return func(yield func(kb.SourceItem, error) bool) {
		if s.client == nil || s.bucket == "" {
			yield(kb.SourceItem{}, fmt.Errorf("s3source: the Source needs a client and a bucket name; pass them to New: %w", bedrockkit.ErrInvalidInput))
			return
		}
		// pending holds documents whose sidecar may still come: a key's
		// sidecar sorts after it, after any keys with the key as prefix.
		var pending []object
		byKey := map[string]int{} // index in pending
		flush := func(key string) bool {
			n := 0
			for n < len(pending) && (key == "" || pending[n].key+kb.MetadataSuffix < key) {
				delete(byKey, pending[n].key)
				if !s.emit(ctx, pending[n], yield) {
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
		p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
			Bucket: aws.String(s.bucket),
			Prefix: aws.String(s.opts.Prefix),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				if ctx.Err() != nil {
					err = ctx.Err()
				}
				yield(kb.SourceItem{}, fmt.Errorf("s3source: listing s3://%s/%s: %w", s.bucket, s.opts.Prefix, err))
				return
			}
			for _, obj := range page.Contents {
				if err := ctx.Err(); err != nil {
					yield(kb.SourceItem{}, err)
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
				if doc, ok := strings.CutSuffix(key, kb.MetadataSuffix); ok {
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

// emit yields one document, reading its sidecar first.
func (s *Source) emit(ctx context.Context, o object, yield func(kb.SourceItem, error) bool) bool {
	uri := "s3://" + s.bucket + "/" + o.key
	limit := s.limit()
	if limit > 0 && o.size > limit {
		return yield(kb.SourceItem{}, &kb.ItemError{URI: uri, Err: tooLarge(o.size, limit)})
	}
	item := kb.SourceItem{URI: uri, Name: path.Base(o.key), Size: o.size}
	if o.sidecar >= 0 {
		md, err := s.readSidecar(ctx, o.key+kb.MetadataSuffix, o.sidecar)
		if err != nil {
			if ctx.Err() != nil {
				yield(kb.SourceItem{}, ctx.Err())
				return false
			}
			return yield(kb.SourceItem{}, &kb.ItemError{URI: uri, Err: fmt.Errorf("%s: %w", path.Base(o.key)+kb.MetadataSuffix, err)})
		}
		item.Metadata = md
	}
	key := o.key
	item.Open = func(ctx context.Context) (io.ReadCloser, error) {
		out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
		if err != nil {
			return nil, fmt.Errorf("s3source: reading %s: %w", uri, err)
		}
		if limit > 0 && out.ContentLength != nil && *out.ContentLength > limit {
			out.Body.Close()
			return nil, tooLarge(*out.ContentLength, limit)
		}
		return &limitedBody{ctx: ctx, rc: out.Body, left: limit, limit: limit}, nil
	}
	return yield(item, nil)
}

func (s *Source) readSidecar(ctx context.Context, key string, size int64) (map[string]any, error) {
	if size > kb.MaxMetadataSize {
		return nil, fmt.Errorf("s3source: the sidecar is %d bytes; Bedrock allows at most %d (10 KB): move long values into the document: %w", size, kb.MaxMetadataSize, kb.ErrInvalidMetadata)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("cannot read metadata sidecar: %w", err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, kb.MaxMetadataSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read metadata sidecar: %w", err)
	}
	md, err := kb.ParseSidecar(data)
	if err != nil {
		return nil, err
	}
	return md.Attributes, nil
}

func tooLarge(size, limit int64) error {
	return fmt.Errorf("s3source: %d bytes is over the limit of %d bytes; split the document or raise s3source.Options.MaxSize: %w", size, limit, kb.ErrTooLarge)
}

// limitedBody fails reads once more than limit bytes have been read (the
// object grew after listing) or ctx is done. limit <= 0 means none.
type limitedBody struct {
	ctx         context.Context
	rc          io.ReadCloser
	left, limit int64
}

func (r *limitedBody) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if r.limit > 0 && int64(len(p)) > r.left+1 {
		p = p[:r.left+1]
	}
	n, err := r.rc.Read(p)
	if r.limit > 0 {
		r.left -= int64(n)
		if r.left < 0 {
			return n, fmt.Errorf("s3source: the object is over the limit of %d bytes; split the document or raise s3source.Options.MaxSize: %w", r.limit, kb.ErrTooLarge)
		}
	}
	return n, err
}

func (r *limitedBody) Close() error { return r.rc.Close() }
