package batch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// DefaultConcurrency is Options.Concurrency's default.
const DefaultConcurrency = 4

// DefaultMaxRecordBytes is Options.MaxRecordBytes's default: 16 MiB, room
// for a record with inline images or documents.
const DefaultMaxRecordBytes = 16 << 20

// Options configures Run. The zero value means DefaultConcurrency,
// DefaultMaxRecordBytes, no fsync and no pricing.
type Options struct {
	// Concurrency bounds the records in flight, and so the results held
	// back until the records before them are written.
	Concurrency int
	// MaxRecordBytes bounds one input line; a longer line is a failed
	// record (error 400), never read whole.
	MaxRecordBytes int
	// Sync makes every written result durable (fsync) before the next:
	// the output then survives a power loss too, not only a crash of the
	// process (which never loses a written line).
	Sync bool
	// ModelID and Catalog price the run's usage (Summary.OnDemand and
	// Summary.Batch); an empty ModelID prices nothing, a nil Catalog
	// means pricing.Default().
	ModelID string
	Catalog *pricing.Catalog
	// OnResult, if set, is called with each result as it is written, in
	// order, with its index (from 0) in the input.
	OnResult func(index int, r RecordResult)
}

// Summary describes a run's output file.
type Summary struct {
	// Records is the number of results in the output; Resumed how many of
	// them were there before this run.
	Records, Resumed int
	// Succeeded and Failed count the results with modelOutput and with
	// error.
	Succeeded, Failed int
	// Usage sums the results' usage.
	Usage bedrockkit.Usage
	// OnDemand is what the usage costs at on-demand rates (what calls
	// through an on-demand Model are billed), Batch what it costs as a
	// Bedrock batch job (CreateModelInvocationJob), where the model has
	// batch rates. Unknown prices say why.
	OnDemand, Batch pricing.Quote
}

func (s *Summary) add(r RecordResult) {
	s.Records++
	if r.Error != nil {
		s.Failed++
		return
	}
	s.Succeeded++
	if resp, err := decodeResponse(r.ModelOutput); err == nil {
		s.Usage = s.Usage.Add(resp.Usage)
	}
}

func (s *Summary) price(modelID string, c *pricing.Catalog) {
	if modelID == "" {
		s.OnDemand.Reason, s.Batch.Reason = "no model ID given (Options.ModelID)", "no model ID given (Options.ModelID)"
		return
	}
	if c == nil {
		c = pricing.Default()
	}
	quote := func(t pricing.Terms) pricing.Quote {
		b, err := c.CostWith(modelID, s.Usage, t)
		if err != nil {
			return pricing.Quote{Reason: err.Error()}
		}
		p, _ := c.Lookup(modelID)
		return pricing.Quote{Cost: b.Total, Known: true, Source: p.Source, AsOf: p.AsOf}
	}
	s.OnDemand = quote(pricing.Terms{})
	s.Batch = quote(pricing.Terms{Batch: true})
}

// ErrOutputMismatch is wrapped by Run's error when the output file holds
// results that are not the input's records in order: it belongs to
// another input, or was edited.
var ErrOutputMismatch = errors.New("batch: the output file does not match the input")

// Run sends every record of input (JSONL, see Record) through m and writes
// the results to outPath (JSONL, see Result) in input order, with a
// per-record error line for each record that failed; the same format
// Bedrock's batch jobs write, so a team can move between the two.
//
// Run is resumable: if outPath already holds results (a run that crashed,
// was killed or cancelled), they are checked against the input's record
// IDs, a partly written last line is cut off, and only the records after
// them are run, so no record is repeated or lost in the output. (A record
// that was in flight when the process died is sent to the model again.)
// Each result is written with one write call, so a crash never leaves a
// result half written except as the last line.
//
// At most Options.Concurrency records are in flight. A cancelled ctx
// stops the run: results are written up to the first record not finished
// and Run returns the context's error; run it again to continue.
func Run(ctx context.Context, m bedrockkit.Model, input io.Reader, outPath string, opts Options) (Summary, error) {
	if m == nil || input == nil {
		return Summary{}, fmt.Errorf("batch: Run needs a model and an input: %w", bedrockkit.ErrInvalidInput)
	}
	conc := opts.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	maxRec := opts.MaxRecordBytes
	if maxRec <= 0 {
		maxRec = DefaultMaxRecordBytes
	}
	out, err := os.OpenFile(outPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return Summary{}, fmt.Errorf("batch: open output: %w", err)
	}
	defer out.Close()
	in := &recordReader{r: bufio.NewReaderSize(input, 64<<10), max: maxRec}
	var sum Summary
	if err := resume(out, in, &sum, maxRec); err != nil {
		return sum, err
	}
	sum.Resumed = sum.Records

	w := &orderedWriter{f: out, sync: opts.Sync, next: sum.Records, pending: map[int]RecordResult{}, sum: &sum, onResult: opts.OnResult}
	sem := semaphore.NewWeighted(int64(conc))
	w.release = func() { sem.Release(1) }
	g, gctx := errgroup.WithContext(ctx)
	var readErr error
	for {
		if err := sem.Acquire(gctx, 1); err != nil {
			break
		}
		rec, idx, ok, err := in.next()
		if err != nil {
			readErr = err
			sem.Release(1)
			break
		}
		if !ok {
			sem.Release(1)
			break
		}
		g.Go(func() error {
			res, abort := runRecord(gctx, m, rec)
			if abort {
				w.abort(idx)
				return nil
			}
			return w.put(idx, res)
		})
	}
	werr := g.Wait()
	sum.price(opts.ModelID, opts.Catalog)
	switch {
	case werr != nil:
		return sum, werr
	case readErr != nil:
		return sum, readErr
	case ctx.Err() != nil:
		return sum, ctx.Err()
	}
	if !opts.Sync {
		if err := out.Sync(); err != nil {
			return sum, fmt.Errorf("batch: sync output: %w", err)
		}
	}
	return sum, nil
}

// input is one record read from the input, or why it could not be.
type input struct {
	id   string
	rec  Record
	fail *RecordError // the line is not a record
}

// runRecord runs one record. abort is true when the context ended the
// call: the record is left for the next run.
func runRecord(ctx context.Context, m bedrockkit.Model, in input) (RecordResult, bool) {
	res := RecordResult{RecordID: in.id, ModelInput: in.rec.ModelInput}
	if len(res.ModelInput) == 0 {
		res.ModelInput = json.RawMessage("null")
	}
	if in.fail != nil {
		res.Error = in.fail
		return res, false
	}
	req, err := in.rec.Request()
	if err != nil {
		res.Error = &RecordError{ErrorCode: 400, ErrorMessage: err.Error()}
		return res, false
	}
	if err := ctx.Err(); err != nil {
		return res, true
	}
	resp, err := m.Generate(ctx, req)
	if ctx.Err() != nil {
		return res, true
	}
	if err == nil && resp == nil {
		err = fmt.Errorf("batch: the model returned no response and no error: %w", bedrockkit.ErrModelError)
	}
	if err != nil {
		res.Error = &RecordError{ErrorCode: errorCode(err), ErrorMessage: err.Error()}
		return res, false
	}
	body, err := encodeResponse(resp)
	if err != nil {
		res.Error = &RecordError{ErrorCode: 500, ErrorMessage: err.Error()}
		return res, false
	}
	res.ModelOutput = body
	return res, false
}

// orderedWriter writes results in input order as they complete.
type orderedWriter struct {
	mu       sync.Mutex
	f        *os.File
	sync     bool
	next     int // index of the next result to write
	stopAt   int // first aborted index; -1 none
	aborted  bool
	pending  map[int]RecordResult
	sum      *Summary
	onResult func(int, RecordResult)
	release  func()
}

func (w *orderedWriter) abort(idx int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.aborted || idx < w.stopAt {
		w.aborted, w.stopAt = true, idx
	}
	w.release() // the window moves on; nothing after idx is written
	for i := range w.pending {
		if i >= w.stopAt {
			delete(w.pending, i)
			w.release()
		}
	}
}

func (w *orderedWriter) put(idx int, r RecordResult) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending[idx] = r
	for {
		r, ok := w.pending[w.next]
		if !ok || (w.aborted && w.next >= w.stopAt) {
			if w.aborted {
				// Results after an aborted record are dropped (and rerun
				// next time); free their window slots.
				for i := range w.pending {
					if i >= w.stopAt {
						delete(w.pending, i)
						w.release()
					}
				}
			}
			return nil
		}
		delete(w.pending, w.next)
		line, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("batch: encode result %s: %w", r.RecordID, err)
		}
		line = append(line, '\n')
		if _, err := w.f.Write(line); err != nil {
			return fmt.Errorf("batch: write result %s: %w", r.RecordID, err)
		}
		if w.sync {
			if err := w.f.Sync(); err != nil {
				return fmt.Errorf("batch: sync output: %w", err)
			}
		}
		w.sum.add(r)
		if w.onResult != nil {
			w.onResult(w.next, r)
		}
		w.next++
		w.release()
	}
}

// recordReader reads input records, one per non-blank line.
type recordReader struct {
	r     *bufio.Reader
	max   int
	count int // records read
}

// next returns the next record and its index; ok is false at the end.
func (rr *recordReader) next() (input, int, bool, error) {
	for {
		line, tooLong, err := readLine(rr.r, rr.max)
		if err != nil && !errors.Is(err, io.EOF) {
			return input{}, 0, false, fmt.Errorf("batch: read input: %w", err)
		}
		if !tooLong && len(bytes.TrimSpace(line)) == 0 {
			if errors.Is(err, io.EOF) {
				return input{}, 0, false, nil
			}
			continue
		}
		idx := rr.count
		rr.count++
		in := input{id: RecordIDFor(idx + 1)}
		switch {
		case tooLong:
			in.fail = &RecordError{ErrorCode: 400, ErrorMessage: fmt.Sprintf("batch: record %d is longer than %d bytes (Options.MaxRecordBytes)", idx+1, rr.max)}
		default:
			if uerr := json.Unmarshal(line, &in.rec); uerr != nil {
				in.fail = &RecordError{ErrorCode: 400, ErrorMessage: fmt.Sprintf("batch: record %d is not a JSON record {\"recordId\", \"modelInput\"}: %v", idx+1, uerr)}
				in.rec = Record{}
			} else if len(in.rec.ModelInput) == 0 {
				in.fail = &RecordError{ErrorCode: 400, ErrorMessage: fmt.Sprintf("batch: record %d has no modelInput", idx+1)}
			}
			if in.rec.RecordID != "" {
				in.id = in.rec.RecordID
			}
		}
		return in, idx, true, nil
	}
}

// readLine reads a line without its newline, reading at most max bytes of
// it into memory; a longer line is consumed and reported tooLong.
func readLine(r *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	line, tooLong, _, err = readLineN(r, max)
	return line, tooLong, err
}

// readLineN is readLine that also returns the bytes consumed.
func readLineN(r *bufio.Reader, max int) (line []byte, tooLong bool, n int, err error) {
	for {
		frag, err := r.ReadSlice('\n')
		n += len(frag)
		if !tooLong {
			if len(line)+len(frag) > max+1 {
				tooLong, line = true, nil
			} else {
				line = append(line, frag...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		return line, tooLong, n, err
	}
}

// resume checks the results already in out against the input, cuts off a
// partly written last line, and leaves out positioned at its end and in
// positioned after the records already done.
func resume(out *os.File, in *recordReader, sum *Summary, maxRec int) error {
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("batch: read output: %w", err)
	}
	br := bufio.NewReaderSize(out, 64<<10)
	var good int64 // bytes of complete, checked lines
	// A result line holds its modelInput and a modelOutput: allow room.
	limit := 2*maxRec + 1<<20
	for {
		line, tooLong, n, err := readLineN(br, limit)
		complete := err == nil // ended by a newline
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("batch: read output: %w", err)
		}
		if !complete {
			break // EOF: an empty tail, or a partly written last line
		}
		if tooLong {
			return fmt.Errorf("batch: output line %d is longer than %d bytes: %w", sum.Records+1, limit, ErrOutputMismatch)
		}
		var r RecordResult
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("batch: output line %d is not a result: %v: %w", sum.Records+1, err, ErrOutputMismatch)
		}
		want, _, ok, err := in.next()
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("batch: the output has more results than the input has records: %w", ErrOutputMismatch)
		}
		if r.RecordID != want.id {
			return fmt.Errorf("batch: output line %d is record %q, but input record %d is %q: %w", sum.Records+1, r.RecordID, sum.Records+1, want.id, ErrOutputMismatch)
		}
		sum.add(r)
		good += int64(n)
	}
	if err := out.Truncate(good); err != nil {
		return fmt.Errorf("batch: cut off a partly written result: %w", err)
	}
	if _, err := out.Seek(good, io.SeekStart); err != nil {
		return fmt.Errorf("batch: seek output: %w", err)
	}
	return nil
}
