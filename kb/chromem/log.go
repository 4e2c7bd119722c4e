package chromem

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// The log is one append-only file, Dir/chromem.log:
//
//	logMagic, then frames: u32 payload length | u32 CRC-32C of payload | payload
//
// Every Upsert or DeleteDocuments call is one frame, written and fsynced
// before the call returns, so a batch is all-or-nothing across a crash.
// Open replays the frames in order. The first frame that is torn (the file
// ends inside it) or fails its checksum ends the replay: the bytes from
// there on are copied to chromem.log.damaged-<offset> for inspection and
// cut from the log, and Recovery reports it. A frame that passes its
// checksum but does not decode is not a torn write but a foreign or newer
// file, and Open refuses it rather than cut committed data.
//
// New logs and compactions are written to chromem.log.tmp, fsynced and
// renamed over chromem.log, and the directory is fsynced, so a crash leaves
// either the old log or the new one, never a half-written one.
const (
	logMagic = "BKCHRM1\n"
	logName  = "chromem.log"
	maxFrame = 1 << 30
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errTorn marks a frame that is torn or fails its checksum.
var errTorn = errors.New("torn or corrupt frame")

type wlog struct {
	dir  string
	f    *os.File
	size int64 // bytes up to the end of the last complete frame
	sync bool
	// broken is set when the log can no longer be appended to safely.
	broken error
}

func frame(payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.LittleEndian.PutUint32(b[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(payload, crcTable))
	return append(b, payload...)
}

// readFrame reads one frame. io.EOF is a clean end; errTorn (wrapped) a
// torn or corrupt frame.
func readFrame(r *bufio.Reader) ([]byte, error) {
	var h [8]byte
	n, err := io.ReadFull(r, h[:])
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("%w: header cut after %d bytes", errTorn, n)
	}
	size := binary.LittleEndian.Uint32(h[0:])
	if size > maxFrame {
		return nil, fmt.Errorf("%w: length %d", errTorn, size)
	}
	p := make([]byte, size)
	if n, err := io.ReadFull(r, p); err != nil {
		return nil, fmt.Errorf("%w: payload cut after %d of %d bytes", errTorn, n, size)
	}
	if crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", errTorn)
	}
	return p, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// createLog writes a file holding the magic and the given frames to
// name+".tmp", fsyncs it and renames it to name, so the log file either
// does not exist or starts with a complete header.
func createLog(dir, name string, frames func(w *bufio.Writer) error) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	_, err = w.WriteString(logMagic)
	if err == nil && frames != nil {
		err = frames(w)
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// replayLog opens Dir/chromem.log (creating it if absent), calls apply
// for every complete frame in order, cuts a torn tail and returns the log
// positioned for appending.
func replayLog(dir string, sync bool, apply func(payload []byte) error, rec *Recovery) (*wlog, error) {
	path := filepath.Join(dir, logName)
	os.Remove(path + ".tmp") // left by a crash during create or compaction
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := createLog(dir, logName, nil); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*wlog, error) {
		f.Close()
		return nil, err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	magic := make([]byte, len(logMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != logMagic {
		return fail(fmt.Errorf("%s is not a kb/chromem log (bad header); move it away or point Dir elsewhere", path))
	}
	good := int64(len(logMagic))
	for {
		p, err := readFrame(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			rec.Damage = err.Error()
			break
		}
		if len(p) == 0 {
			return fail(fmt.Errorf("%s: empty record at offset %d; the file was not written by kb/chromem", path, good))
		}
		if err := apply(p); err != nil {
			return fail(fmt.Errorf("%s: record at offset %d: %w", path, good, err))
		}
		good += 8 + int64(len(p))
		rec.Replayed++
	}
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fail(err)
	}
	if end > good {
		// Keep the cut bytes beside the log, then cut them.
		side := filepath.Join(dir, fmt.Sprintf("%s.damaged-%d", logName, good))
		if err := copyTail(f, good, side); err != nil {
			return fail(fmt.Errorf("save the damaged tail of %s: %w", path, err))
		}
		if err := f.Truncate(good); err != nil {
			return fail(err)
		}
		if err := f.Sync(); err != nil {
			return fail(err)
		}
		rec.CutBytes = end - good
		rec.SetAside = side
		if rec.Damage == "" {
			rec.Damage = "unreadable bytes after the last record"
		}
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		return fail(err)
	}
	return &wlog{dir: dir, f: f, size: good, sync: sync}, nil
}

func copyTail(f *os.File, off int64, name string) error {
	out, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, io.NewSectionReader(f, off, 1<<62))
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// append writes one frame and, unless NoSync, fsyncs it. On failure the
// partial frame is cut off again so the log stays well formed.
func (l *wlog) append(payload []byte) error {
	if l.broken != nil {
		return l.broken
	}
	fr := frame(payload)
	_, err := l.f.Write(fr)
	if err == nil && l.sync {
		err = l.f.Sync()
	}
	if err != nil {
		if rerr := l.rollback(); rerr != nil {
			l.broken = fmt.Errorf("kb/chromem: log write failed (%v) and the partial record could not be cut (%v); close and reopen the store", err, rerr)
			return l.broken
		}
		return err
	}
	l.size += int64(len(fr))
	return nil
}

func (l *wlog) rollback() error {
	if err := l.f.Truncate(l.size); err != nil {
		return err
	}
	if _, err := l.f.Seek(l.size, io.SeekStart); err != nil {
		return err
	}
	return l.f.Sync()
}

// replace swaps the log for a compacted one written by frames. If the new
// log cannot be reopened after the swap, the log is marked broken and every
// later write fails (the data on disk is complete; reopen the store).
func (l *wlog) replace(frames func(w *bufio.Writer) error) error {
	if l.broken != nil {
		return l.broken
	}
	if err := createLog(l.dir, logName, frames); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(l.dir, logName), os.O_RDWR, 0o644)
	var end int64
	if err == nil {
		end, err = f.Seek(0, io.SeekEnd)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		l.broken = fmt.Errorf("kb/chromem: reopening the compacted log failed (%v); close and reopen the store", err)
		return l.broken
	}
	l.f.Close()
	l.f, l.size = f, end
	return nil
}

func (l *wlog) close() error {
	var err error
	if !l.sync {
		err = l.f.Sync()
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}
