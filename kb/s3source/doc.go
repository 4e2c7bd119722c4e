// Package s3source is a knowledge-base Source over the objects under a
// prefix of an Amazon S3 bucket, like a Bedrock S3 data source. It lives
// apart from package kb so that a program syncing a folder of files does
// not link the S3 SDK.
//
//	src := s3source.New(s3.NewFromConfig(cfg), "bank-docs", s3source.Options{Prefix: "policies/"})
//	report, err := base.Sync(ctx, src)
//
// Each object is a document with the URI "s3://bucket/key". An object
// "<key>.metadata.json" is the sidecar of "<key>" in Bedrock's format (see
// kb.ParseSidecar).
//
// # Limits
//
// An object larger than Options.MaxSize (default kb.DefaultMaxDocumentSize,
// 50 MB) fails alone with a *kb.ItemError wrapping kb.ErrTooLarge, whether
// the listing says so or the object grew before it was read. A sidecar over
// kb.MaxMetadataSize (10 KB) fails its document with kb.ErrInvalidMetadata
// and is never read past that size. A failed listing request ends the
// listing with an error, and a knowledge base then deletes nothing.
package s3source
