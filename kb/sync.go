package kb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/kb/internal/textindex"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// SyncOptions controls one Sync. The zero value (or nil) syncs the default
// partition.
type SyncOptions struct {
	// Partition is the tenant the documents belong to.
	Partition string
	// ReEmbed re-chunks and re-embeds every document even when unchanged,
	// and accepts an embedder different from the one recorded (after a
	// model change). Without it, a different embedder is refused with
	// *EmbedderChangedError.
	ReEmbed bool
	// Progress, when set, is called after every document is scanned or
	// finished and after every embedding call, one call at a time.
	Progress func(SyncProgress)
}

// SyncProgress is a snapshot of a running Sync.
type SyncProgress struct {
	// Scanned is how many documents the source has listed so far.
	Scanned int
	// Done is how many of them are finished (indexed, unchanged, skipped
	// or failed). The source's total is unknown until it is exhausted.
	Done int
	// Chunks is how many chunks have been embedded so far (indexed, for a
	// keyword-only knowledge base).
	Chunks int
	// Listed reports that the source is exhausted, so Scanned is the total.
	Listed bool
}

// SyncReport is the outcome of a Sync, with Bedrock's ingestion-job
// statistics.
type SyncReport struct {
	// Scanned is every document the source listed, failed ones included
	// (numberOfDocumentsScanned).
	Scanned int
	// New documents were indexed for the first time
	// (numberOfNewDocumentsIndexed).
	New int
	// Modified documents had changed content or metadata and were
	// re-indexed (numberOfModifiedDocumentsIndexed).
	Modified int
	// Deleted documents were in the store but no longer in the source
	// (numberOfDocumentsDeleted).
	Deleted int
	// Failed documents could not be read, loaded or chunked; see Failures
	// (numberOfDocumentsFailed).
	Failed int
	// Skipped documents were not indexed because no Loader handles their
	// type or they hold no text (numberOfDocumentsSkipped).
	Skipped int
	// Unchanged documents matched their stored fingerprint and were left
	// alone without any embedding call.
	Unchanged int
	// Chunks is how many chunks were embedded (indexed, for a keyword-only
	// knowledge base); EmbedCalls how many Embed calls that took (retries
	// included).
	Chunks, EmbedCalls int
	// EmbeddedTokens is the input tokens of the successful Embed calls: what
	// the embedding model bills. They are the embedder's own counts when it
	// reports them (an EmbedWithUsage method, as bedrockkit.TitanEmbedder
	// and CohereEmbedder have), else estimated at one token per started 4
	// bytes of text (pricing.EstimateBytes's rule), and then
	// EmbeddedTokensEstimated is set. Price them with
	// pricing's Catalog.EmbeddingCost(rep.EmbeddingModel, rep.EmbeddedTokens).
	EmbeddedTokens int
	// EmbeddedTokensEstimated reports that some of EmbeddedTokens were
	// estimated rather than reported by the embedder.
	EmbeddedTokensEstimated bool
	// EmbeddingModel is the embedding model's ID (Options.EmbedderID or the
	// embedder's ModelID), or "" when neither names it or there is no
	// embedder.
	EmbeddingModel string
	// OverLimit counts the failed documents that went over a load limit,
	// by limit (they are among Failed).
	OverLimit LimitCounts
	// Failures and skips, one per document, with the reason: the first
	// MaxReportedFailures of them.
	Failures []*ItemError
	// FailuresOmitted counts the failures and skips Failures leaves out
	// (beyond MaxReportedFailures), so that a source of a million bad
	// files cannot fill memory with reasons; Failed and Skipped count
	// them all.
	FailuresOmitted int
	// Duration is the wall time of the Sync.
	Duration time.Duration
}

// MaxReportedFailures is how many failures and skips a SyncReport lists
// in Failures; it counts the rest in FailuresOmitted.
const MaxReportedFailures = 10000

// addFailure lists e, or counts it once Failures is full.
func (rep *SyncReport) addFailure(e *ItemError) {
	if len(rep.Failures) >= MaxReportedFailures {
		rep.FailuresOmitted++
		return
	}
	rep.Failures = append(rep.Failures, e)
}

// LimitCounts counts documents that failed on each load limit.
type LimitCounts struct {
	// Size: over the source's or Options.MaxDocumentBytes (ErrTooLarge).
	Size int
	// Text: extracted text over Options.MaxTextBytes (ErrTextTooLarge).
	Text int
	// Structure: over a loader's limit on nesting, element count, record
	// or member size (ErrTooComplex).
	Structure int
	// Memory: over a loader's memory budget (ErrLoadMemory).
	Memory int
	// Time: over Options.LoadTimeout (ErrLoadTimeout).
	Time int
}

// count adds err to the counts when it is a limit error.
func (c *LimitCounts) count(err error) {
	switch {
	case errors.Is(err, ErrTooLarge):
		c.Size++
	case errors.Is(err, ErrTextTooLarge):
		c.Text++
	case errors.Is(err, ErrTooComplex):
		c.Structure++
	case errors.Is(err, ErrLoadMemory):
		c.Memory++
	case errors.Is(err, ErrLoadTimeout):
		c.Time++
	}
}

// ErrSourceListing wraps an error that ended a source's listing early. The
// documents listed before it were synced; nothing was deleted, since the
// missing documents may still exist.
var ErrSourceListing = errors.New("kb: the source's listing failed; documents not listed were neither updated nor deleted")

// Sync makes the store reflect src: new and modified documents are loaded,
// chunked, embedded and written; documents no longer in src are deleted;
// unchanged ones cost no embedding call. Documents are keyed by URI and
// fingerprinted by a hash of their bytes, metadata and embedder.
//
// A document's records are written in one atomic Upsert after all its
// chunks are embedded (a modified document's old records are deleted just
// before), so an interrupted Sync (even kill -9) leaves every document
// either complete in its old or new version or absent, and the next Sync
// finishes the work, yielding the same store as an uninterrupted run.
//
// Embedding runs Options.Concurrency calls at once in batches of
// Options.BatchSize chunks, limited to Options.RequestsPerMinute and retried on
// throttling; at most that many batches are held in memory, so memory stays
// bounded on a large corpus. A document that cannot be read, loaded or
// chunked fails alone and is listed in the report; an embedding or store
// error ends the Sync with the partial report and the error. opts, at most
// one, are the Sync's settings; none means the defaults.
func (k *KnowledgeBase) Sync(ctx context.Context, src Source, opts ...SyncOptions) (*SyncReport, error) {
	start := time.Now()
	o, err := optionsOf("SyncOptions", opts)
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, invalid("Sync: source is nil")
	}
	if err := k.checkPartition(o.Partition); err != nil {
		return nil, err
	}
	unlock := k.lockSync(o.Partition)
	defer unlock()
	k.forgetEmbedder(o.Partition)
	defer k.forgetEmbedder(o.Partition)

	plan, err := k.planSync(ctx, o)
	if err != nil {
		return nil, err
	}
	r := k.startSync(ctx, o, plan)
	defer r.cancel()
	l := r.list(src)
	err = r.wait(ctx, l)
	if err == nil {
		err = r.deleteMissing(ctx, plan.existing, l.seen, l.keptFolders)
	}
	if err == nil {
		err = r.recordEmbedder(ctx)
	}
	return r.report(start), err
}

// syncPlan is what a Sync learns from the store before it starts.
type syncPlan struct {
	// stored is the embedder identity recorded in the partition ("" for a
	// new partition); identity is the one this Sync writes with.
	stored, identity string
	part             *partition
	// existing maps the stored documents to their fingerprints.
	existing map[string]string
}

// planSync checks the recorded embedder, loads the partition and lists its
// documents. A new partition records its embedder first; a changed one
// (ReEmbed) is recorded only once every document is re-embedded
// (recordEmbedder), so an interrupted re-embed is refused until it is run
// again.
func (k *KnowledgeBase) planSync(ctx context.Context, o SyncOptions) (*syncPlan, error) {
	stored, err := k.storedEmbedder(ctx, o.Partition)
	if err != nil {
		return nil, err
	}
	if stored != "" && !k.sameEmbedder(stored) && !o.ReEmbed {
		return nil, &EmbedderChangedError{Stored: stored, Configured: k.embedderID}
	}
	plan := &syncPlan{stored: stored, identity: k.embedderID}
	if stored != "" && k.sameEmbedder(stored) {
		// Keep the identity the data was built with (see legacyID), so
		// unchanged documents keep their fingerprints.
		plan.identity = stored
	}
	if plan.part, err = k.part(ctx, o.Partition); err != nil {
		return nil, err
	}
	infos, err := k.cfg.Store.Documents(ctx, o.Partition)
	if err != nil {
		return nil, err
	}
	plan.existing = make(map[string]string, len(infos))
	for _, d := range infos {
		if d.ID != metaID {
			plan.existing[d.ID] = d.Fingerprint
		}
	}
	if stored == "" {
		if err := k.writeEmbedder(ctx, o.Partition, k.embedderID); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

// startSync returns a run with its committer started. One committer
// goroutine writes finished documents, so embedding slots are freed as soon
// as their call returns; the embedders are tracked by r.embedding so the
// committer's channel can be closed after them.
func (k *KnowledgeBase) startSync(ctx context.Context, o SyncOptions, plan *syncPlan) *syncRun {
	r := &syncRun{kb: k, opts: o, plan: plan, part: plan.part, rep: &SyncReport{EmbeddingModel: k.modelID}}
	if rpm := k.cfg.RequestsPerMinute; rpm > 0 {
		r.limiter = rate.NewLimiter(rate.Limit(float64(rpm)/60), 1)
	}
	cctx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	g, gctx := errgroup.WithContext(cctx)
	g.SetLimit(k.cfg.Concurrency + 1)
	r.g, r.ctx = g, gctx
	r.ready = make(chan *docJob, k.cfg.Concurrency*k.cfg.BatchSize)
	g.Go(r.committer)
	return r
}

// sourceListing is what a Sync saw of its source.
type sourceListing struct {
	seen        map[string]bool
	keptFolders []string // URIs of folders that could not be listed: keep what is under them
	err         error    // the error that ended the listing early
}

// list walks the source and ingests every document it lists. A document
// the source could not read fails alone; an error that ends the listing is
// returned in its err.
func (r *syncRun) list(src Source) sourceListing {
	l := sourceListing{seen: make(map[string]bool)}
	for item, err := range src.Items(r.ctx) {
		if err != nil {
			var ie *ItemError
			if !errors.As(err, &ie) {
				l.err = err
				break
			}
			l.seen[ie.URI] = true
			if strings.HasSuffix(ie.URI, "/") {
				l.keptFolders = append(l.keptFolders, ie.URI)
			}
			r.mu.Lock()
			r.rep.Scanned++
			r.failLocked(ie.URI, ie.Err)
			r.mu.Unlock()
			continue
		}
		r.mu.Lock()
		r.rep.Scanned++
		r.progressLocked()
		r.mu.Unlock()
		if l.seen[item.URI] {
			r.fail(item.URI, fmt.Errorf("the source lists this URI twice; URIs must be unique"))
			continue
		}
		l.seen[item.URI] = true
		if r.ctx.Err() != nil {
			break
		}
		fp, had := r.plan.existing[item.URI]
		r.ingest(item, had, fp)
	}
	r.mu.Lock()
	r.listed = l.err == nil && r.ctx.Err() == nil
	r.progressLocked()
	r.mu.Unlock()
	return l
}

// wait sends the last batch, waits for the embedders and the committer, and
// returns the error that ended the Sync, if any: a failed embedding or
// store write first, then a failed listing, then ctx's end.
func (r *syncRun) wait(ctx context.Context, l sourceListing) error {
	r.flush()
	r.embedding.Wait()
	close(r.ready)
	switch werr := r.g.Wait(); {
	case werr != nil:
		return werr
	case l.err != nil:
		return fmt.Errorf("kb: %w: %w", l.err, ErrSourceListing)
	}
	return ctx.Err()
}

// recordEmbedder records the configured embedder once a re-embed into a
// partition built with another one has finished without failures.
func (r *syncRun) recordEmbedder(ctx context.Context) error {
	k, stored := r.kb, r.plan.stored
	if stored == "" || stored == r.plan.identity {
		return nil
	}
	r.mu.Lock()
	failed := r.rep.Failed
	r.mu.Unlock()
	if failed > 0 {
		return fmt.Errorf("kb: %d documents failed during the re-embed; fix them and Sync with ReEmbed again to switch to %s", failed, k.embedderID)
	}
	return k.writeEmbedder(ctx, r.opts.Partition, r.plan.identity)
}

// report returns the final report.
func (r *syncRun) report(start time.Time) *SyncReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.progressLocked()
	r.rep.Duration = time.Since(start)
	return r.rep
}

func (k *KnowledgeBase) lockSync(part string) func() {
	k.mu.Lock()
	l := k.syncLock[part]
	if l == nil {
		l = &sync.Mutex{}
		k.syncLock[part] = l
	}
	k.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// syncRun is the state of one Sync.
type syncRun struct {
	kb      *KnowledgeBase
	opts    SyncOptions
	plan    *syncPlan
	part    *partition
	limiter *rate.Limiter
	g       *errgroup.Group
	ctx     context.Context

	batch     []pending // chunks waiting for the next Embed call
	ready     chan *docJob
	cancel    context.CancelFunc
	embedding sync.WaitGroup

	mu     sync.Mutex
	rep    *SyncReport
	done   int
	listed bool
}

// pending is one chunk of a document waiting to be embedded.
type pending struct {
	doc *docJob
	i   int // index into doc.records
}

// docJob is a document whose records are being embedded.
type docJob struct {
	uri     string
	existed bool
	records []kbstore.Record
	// analyses are the records' keyword analyses, made by the embedding
	// goroutines so the committer only adds them (nil when kb keeps no
	// keyword index, or for a record not analysed yet).
	analyses []*textindex.Analysis
	left     int  // chunks not yet embedded; guarded by syncRun.mu
	failed   bool // the store refused the document's records; reported by commit
}

func (r *syncRun) progressLocked() {
	if r.opts.Progress != nil {
		r.opts.Progress(SyncProgress{Scanned: r.rep.Scanned, Done: r.done, Chunks: r.rep.Chunks, Listed: r.listed})
	}
}

func (r *syncRun) fail(uri string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failLocked(uri, err)
}

func (r *syncRun) failLocked(uri string, err error) {
	r.rep.Failed++
	r.rep.OverLimit.count(err)
	r.rep.addFailure(&ItemError{URI: uri, Err: err})
	r.done++
	r.progressLocked()
}

func (r *syncRun) finish(count *int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*count++
	r.done++
	r.progressLocked()
}

// ingest reads, fingerprints, loads and chunks one document and queues its
// chunks for embedding. Failures of the document are recorded, not returned.
func (r *syncRun) ingest(item SourceItem, existed bool, oldFP string) {
	data, err := r.read(item)
	if err != nil {
		r.fail(item.URI, err)
		return
	}
	fp, err := fingerprint(r.plan.identity, data, item.Metadata)
	if err != nil {
		r.fail(item.URI, err)
		return
	}
	if existed && fp == oldFP && !r.opts.ReEmbed {
		r.finish(&r.rep.Unchanged)
		return
	}
	doc, ok := r.loadItem(item, data, existed)
	if !ok {
		return
	}
	chunks, err := r.kb.cfg.Chunker.Chunk(r.ctx, doc)
	if err != nil {
		r.fail(item.URI, fmt.Errorf("chunk: %w", err))
		return
	}
	job, err := r.newJob(item, existed, fp, chunks)
	if err != nil {
		r.fail(item.URI, err)
		return
	}
	if job.left == 0 {
		// Nothing to embed: drop the old version, if any, and say why.
		r.drop(job, false, fmt.Errorf("the document holds no text to index"))
		return
	}
	r.queue(job, chunks)
}

// loadItem loads the document with the loader of its type and merges the
// source's metadata over the loader's. A document no loader handles is
// skipped, one that fails to load fails; both are recorded and ok is false.
func (r *syncRun) loadItem(item SourceItem, data []byte, existed bool) (doc chunk.ParsedDocument, ok bool) {
	loader, ext := r.kb.loaderFor(item.Name)
	if loader == nil {
		// The content changed and can no longer be loaded: its old chunks
		// are stale, so drop them rather than keep serving them.
		hint := strings.Replace(addLoaderHint(ext), "the loaders map", "Options.Loaders", 1)
		r.drop(&docJob{uri: item.URI, existed: existed}, existed, fmt.Errorf("no loader for file type %q; %s", ext, hint))
		return chunk.ParsedDocument{}, false
	}
	doc, err := r.load(loader, item, data)
	if err != nil {
		r.fail(item.URI, fmt.Errorf("load: %w", err))
		return chunk.ParsedDocument{}, false
	}
	if len(item.Metadata) > 0 {
		md := make(map[string]any, len(doc.Metadata)+len(item.Metadata))
		for k, v := range doc.Metadata {
			md[k] = v
		}
		for k, v := range item.Metadata {
			md[k] = v
		}
		doc.Metadata = md
	}
	return doc, true
}

// drop skips a document that has nothing to index, first deleting its old
// version, if any. skippedExisted is what the skip reports as existed.
func (r *syncRun) drop(job *docJob, skippedExisted bool, why error) {
	if job.existed {
		if err := r.commit(job); err != nil {
			r.fail(job.uri, err)
			return
		}
	}
	r.skip(job.uri, skippedExisted, why)
}

// newJob makes the document's records from its chunks; left counts the
// chunks to embed (the leaves: parents of hierarchical chunks are stored
// without a vector).
func (r *syncRun) newJob(item SourceItem, existed bool, fp string, chunks []chunk.Chunk) (*docJob, error) {
	job := &docJob{uri: item.URI, existed: existed, records: make([]kbstore.Record, len(chunks))}
	if r.part.keyword != nil {
		job.analyses = make([]*textindex.Analysis, len(chunks))
	}
	for i, c := range chunks {
		md, err := chunkMetadata(item.URI, chunkID(item.URI, i), c)
		if err != nil {
			return nil, err
		}
		rec := kbstore.Record{ID: chunkID(item.URI, i), DocumentID: item.URI, Partition: r.opts.Partition, Fingerprint: fp, Text: c.Text, Metadata: md}
		if c.Parent >= 0 {
			rec.ParentID = chunkID(item.URI, c.Parent)
		}
		job.records[i] = rec
		if c.Level == 0 {
			job.left++
		}
	}
	return job, nil
}

// queue sends the job's leaf chunks to the embedder in batches of
// Options.BatchSize, or, without an embedder, the job to the committer.
func (r *syncRun) queue(job *docJob, chunks []chunk.Chunk) {
	k := r.kb
	if k.cfg.Embedder == nil {
		// Keyword only: nothing to embed, the document is ready to write
		// once analysed (here, beside the committer's writes).
		if kw := r.part.keyword; kw != nil {
			for i, c := range chunks {
				if c.Level == 0 {
					job.analyses[i] = kw.Analyze(job.records[i].Text, job.records[i].Metadata)
				}
			}
		}
		r.mu.Lock()
		r.rep.Chunks += job.left
		job.left = 0
		r.progressLocked()
		r.mu.Unlock()
		_ = r.send(job) // fails only when the Sync is ending, which wait reports
		return
	}
	for i, c := range chunks {
		if c.Level == 0 {
			r.batch = append(r.batch, pending{job, i})
			if len(r.batch) >= k.cfg.BatchSize {
				r.flush()
			}
		}
	}
}

// load runs the loader within the load limits: the text limit travels in
// the context and is checked again on the result, and the time limit
// cancels the loader's context.
func (r *syncRun) load(loader Loader, item SourceItem, data []byte) (doc chunk.ParsedDocument, err error) {
	cfg := r.kb.cfg
	ctx := WithLoadLimits(r.ctx, LoadLimits{MaxTextBytes: cfg.MaxTextBytes})
	if cfg.LoadTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, cfg.LoadTimeout, errLoadTimeout)
		defer cancel()
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kb: the loader panicked on this file (%v); check that it opens in its application or re-save it: %w", r, ErrMalformedDocument)
		}
	}()
	doc, err = loader.Load(ctx, item, data)
	if context.Cause(ctx) == errLoadTimeout && r.ctx.Err() == nil {
		return chunk.ParsedDocument{}, fmt.Errorf("kb: stopped after %v (Options.LoadTimeout); split the document or raise the limit: %w", cfg.LoadTimeout, ErrLoadTimeout)
	}
	if err != nil {
		return chunk.ParsedDocument{}, err
	}
	if err := checkDocSize("extracted", doc, cfg.MaxTextBytes); err != nil {
		return chunk.ParsedDocument{}, err
	}
	return doc, nil
}

// errLoadTimeout is the cause of a load's cancelled context.
var errLoadTimeout = errors.New("kb: load timeout")

func (r *syncRun) skip(uri string, existed bool, why error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.Skipped++
	r.rep.addFailure(&ItemError{URI: uri, Err: fmt.Errorf("skipped: %w", why)})
	r.done++
	r.progressLocked()
}

// read returns the document's bytes, refusing ones over the size limit.
func (r *syncRun) read(item SourceItem) ([]byte, error) {
	max := r.kb.cfg.MaxDocumentBytes
	if item.Size > max {
		return nil, fmt.Errorf("kb: %d bytes is over the %d-byte limit (Options.MaxDocumentBytes): %w", item.Size, max, ErrTooLarge)
	}
	if item.Open == nil {
		return nil, fmt.Errorf("the source gave no Open function")
	}
	rc, err := item.Open(r.ctx)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("kb: over the %d-byte limit (Options.MaxDocumentBytes): %w", max, ErrTooLarge)
	}
	return data, nil
}

// fingerprint hashes what decides a document's records: the embedder, the
// bytes and the metadata.
func fingerprint(embedder string, data []byte, md map[string]any) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", embedder, len(data))
	h.Write(data)
	if len(md) > 0 {
		b, err := json.Marshal(md) // map keys are sorted
		if err != nil {
			return "", fmt.Errorf("metadata: %w", err)
		}
		h.Write(b)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func chunkMetadata(uri, id string, c chunk.Chunk) (map[string]any, error) {
	md, err := kbstore.NormalizeMetadata(c.Metadata)
	if err != nil {
		return nil, err
	}
	if md == nil {
		md = map[string]any{}
	}
	md[KeySourceURI] = uri
	md[KeyChunkID] = id
	if c.Page > 0 {
		md[KeyPageNumber] = float64(c.Page)
	}
	if len(c.Headings) > 0 {
		l := make([]any, len(c.Headings))
		for i, h := range c.Headings {
			l[i] = h
		}
		md[KeyHeadings] = l
	}
	return md, nil
}

// flush sends the queued chunks to the embedder in a new goroutine; it
// blocks while Options.Concurrency calls are running.
func (r *syncRun) flush() {
	if len(r.batch) == 0 {
		return
	}
	batch := r.batch
	r.batch = nil
	r.embedding.Add(1)
	r.g.Go(func() error {
		defer r.embedding.Done()
		return r.embed(batch)
	})
}

func (r *syncRun) embed(batch []pending) error {
	ctx := r.ctx
	texts := make([]string, len(batch))
	for i, p := range batch {
		texts[i] = p.doc.records[p.i].Text
	}
	var vecs [][]float32
	var usage bedrockkit.Usage
	calls := 0
	err := r.kb.cfg.Retry.Do(ctx, func(ctx context.Context) error {
		if r.limiter != nil {
			if err := r.limiter.Wait(ctx); err != nil {
				return err
			}
		}
		calls++
		var err error
		vecs, usage, err = embedWithUsage(ctx, r.kb.cfg.Embedder, texts, bedrockkit.PurposeDocument)
		return err
	})
	r.mu.Lock()
	r.rep.EmbedCalls += calls
	if err == nil {
		r.rep.EmbeddedTokens += usage.InputTokens
		r.rep.EmbeddedTokensEstimated = r.rep.EmbeddedTokensEstimated || usage.Estimated
	}
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("kb: embedding %d chunks: %w", len(texts), err)
	}
	if len(vecs) != len(texts) {
		return fmt.Errorf("kb: the embedder returned %d vectors for %d texts: %w", len(vecs), len(texts), bedrockkit.ErrInvalidInput)
	}
	if kw := r.part.keyword; kw != nil {
		// In parallel with the committer; published to it by r.mu below.
		for _, p := range batch {
			rec := &p.doc.records[p.i]
			p.doc.analyses[p.i] = kw.Analyze(rec.Text, rec.Metadata)
		}
	}
	var ready []*docJob
	r.mu.Lock()
	for i, p := range batch {
		p.doc.records[p.i].Vector = vecs[i]
		p.doc.left--
		if p.doc.left == 0 {
			ready = append(ready, p.doc)
		}
	}
	r.rep.Chunks += len(batch)
	r.progressLocked()
	r.mu.Unlock()
	for _, d := range ready {
		if err := r.send(d); err != nil {
			return err
		}
	}
	return nil
}

// usageEmbedder is an embedder that reports the input tokens of each call
// (bedrockkit.TitanEmbedder, CohereEmbedder).
type usageEmbedder interface {
	EmbedWithUsage(ctx context.Context, texts []string, purpose bedrockkit.Purpose) ([][]float32, bedrockkit.Usage, error)
}

// embedWithUsage embeds texts and returns their input tokens: reported by
// the embedder when it can, else estimated (one token per started 4 bytes)
// and flagged Estimated.
func embedWithUsage(ctx context.Context, e bedrockkit.Embedder, texts []string, p bedrockkit.Purpose) ([][]float32, bedrockkit.Usage, error) {
	if ue, ok := e.(usageEmbedder); ok {
		return ue.EmbedWithUsage(ctx, texts, p)
	}
	vecs, err := e.Embed(ctx, texts, p)
	if err != nil {
		return nil, bedrockkit.Usage{}, err
	}
	u := bedrockkit.Usage{Estimated: true}
	for _, t := range texts {
		u.InputTokens += (len(t) + 3) / 4
	}
	return vecs, u, nil
}

// send hands a document whose chunks are all embedded to the committer.
func (r *syncRun) send(d *docJob) error {
	select {
	case r.ready <- d:
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}

// committer writes the documents whose chunks are all embedded, taking
// every document that is ready at once into one store write.
func (r *syncRun) committer() error {
	for d := range r.ready {
		docs := []*docJob{d}
	more:
		for len(docs) < 256 {
			select {
			case d, ok := <-r.ready:
				if !ok {
					break more
				}
				docs = append(docs, d)
			default:
				break more
			}
		}
		if err := r.commit(docs...); err != nil {
			r.cancel()
			for range r.ready { // let the embedders finish
			}
			return err
		}
		for _, d := range docs {
			switch {
			case d.failed:
				// Reported by commit.
			case d.existed:
				r.finish(&r.rep.Modified)
			default:
				r.finish(&r.rep.New)
			}
		}
	}
	return nil
}

// commit replaces the documents' records in the store and the keyword
// index: the old versions are deleted, then the new records written in one
// atomic Upsert, so after a crash each document is either complete or
// absent.
//
// A document whose records are invalid (a zero or non-finite vector, a
// wrong dimension) or that the store refuses fails alone: the group is
// checked first, and a refused group write is retried one document at a
// time. Once a group's delete has started, the delete and the write run to
// the end even if the sync is cancelled, so a cancellation never leaves a
// changed document absent.
func (r *syncRun) commit(docs ...*docJob) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	ctx := context.WithoutCancel(r.ctx)
	dims := 0
	if e := r.kb.cfg.Embedder; e != nil {
		dims = e.Dimensions()
	}
	valid := docs[:0:0]
	for _, d := range docs {
		if err := checkRecords(d.records, dims); err != nil {
			r.refuse(ctx, d, err)
			continue
		}
		valid = append(valid, d)
	}
	if len(valid) == 0 {
		return nil
	}
	err := r.write(ctx, valid)
	if err == nil || !errors.Is(err, bedrockkit.ErrInvalidInput) {
		return err
	}
	for _, d := range valid {
		if err := r.write(ctx, []*docJob{d}); err != nil {
			if !errors.Is(err, bedrockkit.ErrInvalidInput) {
				return err
			}
			r.refuse(ctx, d, err)
		}
	}
	return nil
}

// checkRecords applies the checks every store makes, so a bad document is
// caught before any old version is deleted.
func checkRecords(recs []kbstore.Record, dims int) error {
	for _, rec := range recs {
		if rec.Vector == nil {
			continue
		}
		if _, err := kbstore.ValidateRecord(rec, dims, false); err != nil {
			return err
		}
	}
	return nil
}

// refuse records d as failed. Its previous version, if any, is removed: the
// source no longer holds that content, and serving it would be stale.
func (r *syncRun) refuse(ctx context.Context, d *docJob, err error) {
	d.failed = true
	if d.existed {
		if _, derr := r.kb.cfg.Store.DeleteDocuments(ctx, r.opts.Partition, []string{d.uri}); derr == nil {
			if kw := r.part.keyword; kw != nil {
				kw.RemoveDocument(d.uri)
			}
		}
	}
	d.records = nil
	r.fail(d.uri, fmt.Errorf("the store refused its chunks: %w", err))
}

// write deletes the documents' old versions and upserts their records.
func (r *syncRun) write(ctx context.Context, docs []*docJob) error {
	store, part := r.kb.cfg.Store, r.opts.Partition
	var old []string
	var recs []kbstore.Record
	var analyses []*textindex.Analysis
	for _, d := range docs {
		if d.existed {
			old = append(old, d.uri)
		}
		recs = append(recs, d.records...)
		if r.part.keyword != nil {
			analyses = append(analyses, d.analyses...)
			if d.analyses == nil {
				analyses = append(analyses, make([]*textindex.Analysis, len(d.records))...)
			}
		}
	}
	if len(old) > 0 {
		if _, err := store.DeleteDocuments(ctx, part, old); err != nil {
			return fmt.Errorf("kb: deleting the old version of %s: %w", old[0], err)
		}
	}
	if kw := r.part.keyword; kw != nil {
		for _, d := range docs {
			kw.RemoveDocument(d.uri)
		}
	}
	if len(recs) > 0 {
		if err := store.Upsert(ctx, recs); err != nil {
			return fmt.Errorf("kb: writing %s: %w", docs[0].uri, err)
		}
	}
	r.kb.addKeyword(r.part, recs, analyses, nil)
	for _, d := range docs {
		d.records, d.analyses = nil, nil // release memory
	}
	return nil
}

// underAny reports whether uri lies under one of the folder URIs.
func underAny(uri string, folders []string) bool {
	for _, f := range folders {
		if strings.HasPrefix(uri, f) {
			return true
		}
	}
	return false
}

// deleteMissing removes the documents the source no longer lists.
// Documents under a folder the source could not list (keptFolders, URIs
// ending in "/") are kept: they may still exist.
func (r *syncRun) deleteMissing(ctx context.Context, existing map[string]string, seen map[string]bool, keptFolders []string) error {
	var gone []string
	for id := range existing {
		if !seen[id] && !underAny(id, keptFolders) {
			gone = append(gone, id)
		}
	}
	for _, id := range gone {
		if _, err := r.kb.cfg.Store.DeleteDocuments(ctx, r.opts.Partition, []string{id}); err != nil {
			return err
		}
		if r.part.keyword != nil {
			r.part.keyword.RemoveDocument(id)
		}
		r.mu.Lock()
		r.rep.Deleted++
		r.mu.Unlock()
	}
	return nil
}
