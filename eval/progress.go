package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/bedrockkit/bedrockkit"
)

// progressVersion is the format of the progress file.
const progressVersion = 1

// progressHeader is the first line of a progress file.
type progressHeader struct {
	Format int    `json:"bedrockkit_eval_progress"`
	Config string `json:"config"`
}

// progressLine records one finished case.
type progressLine struct {
	ID          string     `json:"id"`
	Fingerprint string     `json:"fingerprint"`
	Result      CaseResult `json:"result"`
}

// ErrProgressMismatch is wrapped when a progress file was written by a run
// with other judged metrics or cutoffs: its results would not hold the
// metrics asked for. Delete it or name another file.
var ErrProgressMismatch = fmt.Errorf("eval: the progress file belongs to a run with other metrics: %w", bedrockkit.ErrInvalidInput)

// progress appends finished cases to a file, one JSON line each. Each line
// goes out in one write, so a process killed at any point leaves whole
// lines and at most one torn last line, which the next open drops.
type progress struct {
	f      *os.File
	writes int
	closed bool
}

// syncEvery is how many records pass between fsyncs (a killed process
// loses nothing the kernel has; fsync guards against power loss).
const syncEvery = 32

// openProgress opens (creating) the progress file at path and returns the
// finished cases it records. A torn last line is cut off; any other line
// that does not parse is an error (the file is not ours, or was edited).
func openProgress(path, config string) (*progress, map[string]progressLine, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("eval: opening the progress file: %w", err)
	}
	recs, good, err := readProgress(f, path, config)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil && st.Size() != good {
		err = f.Truncate(good) // drop a torn last line
	}
	if err == nil && good == 0 {
		var hdr []byte
		hdr, err = json.Marshal(progressHeader{Format: progressVersion, Config: config})
		if err == nil {
			_, err = f.WriteAt(append(hdr, '\n'), 0)
		}
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekEnd)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("eval: preparing the progress file %s: %w", path, err)
	}
	return &progress{f: f}, recs, nil
}

// readProgress parses a progress file and returns its records and the
// length of its whole, valid lines.
func readProgress(r io.Reader, path, config string) (map[string]progressLine, int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	recs := map[string]progressLine{}
	var good int64
	for n := 0; ; n++ {
		line, err := readLine(br, MaxCaseBytes*2)
		complete := err == nil // a line without its newline may be torn
		if errors.Is(err, errLineTooLong) {
			return nil, 0, fmt.Errorf("eval: progress file %s: line %d is too long; delete the file to start over", path, n+1)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, fmt.Errorf("eval: reading the progress file %s: %w", path, err)
		}
		if len(line) == 0 && errors.Is(err, io.EOF) {
			return recs, good, nil
		}
		if !complete {
			return recs, good, nil // torn last line: not counted, cut off
		}
		if n == 0 {
			var h progressHeader
			if json.Unmarshal(line, &h) != nil || h.Format != progressVersion {
				return nil, 0, fmt.Errorf("eval: %s is not an eval progress file (version %d); delete it or choose another path: %w", path, progressVersion, ErrProgressMismatch)
			}
			if h.Config != config {
				return nil, 0, fmt.Errorf("eval: %s was written with %q, this run asks for %q: %w", path, h.Config, config, ErrProgressMismatch)
			}
		} else {
			var p progressLine
			dec := json.NewDecoder(bytes.NewReader(line))
			if dec.Decode(&p) != nil || p.ID == "" {
				return nil, 0, fmt.Errorf("eval: progress file %s: line %d is not a finished case; delete the file to start over", path, n+1)
			}
			recs[p.ID] = p
		}
		good += int64(len(line)) + 1
	}
}

// record appends one finished case.
func (p *progress) record(id, fp string, res CaseResult) error {
	res.Resumed = false
	b, err := json.Marshal(progressLine{ID: id, Fingerprint: fp, Result: res})
	if err != nil {
		return fmt.Errorf("eval: recording case %q: %w", id, err)
	}
	if _, err := p.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("eval: writing the progress file: %w", err)
	}
	if p.writes++; p.writes%syncEvery == 0 {
		if err := p.f.Sync(); err != nil {
			return fmt.Errorf("eval: syncing the progress file: %w", err)
		}
	}
	return nil
}

func (p *progress) close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	serr := p.f.Sync()
	cerr := p.f.Close()
	if serr != nil {
		return fmt.Errorf("eval: syncing the progress file: %w", serr)
	}
	return cerr
}
