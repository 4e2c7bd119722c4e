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

	"github.com/bedrockkit/bedrockkit/kb/internal/framelog"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// The log is one append-only file, Dir/chromem.log:
//
//	logMagic, then frames: u32 payload length | u32 CRC-32C of payload | payload
//
// Every Upsert or DeleteDocuments call is one frame, written and fsynced
// before the call returns, so a batch is all-or-nothing across a crash.
// Open replays the frames in order (kb/internal/framelog). A frame that
// does not verify or decode is skipped and the replay goes on at the next
// one that does. The unfinished last write a crash can leave is cut
// (copied to chromem.log.damaged-<offset> first). Any other damage that
// loses records fails Open with a *CorruptionError unless
// Options.AllowDataLoss; then, and for damage that loses nothing, the log
// is copied to chromem.log.corrupt and rewritten with the records read.
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
		return nil, fmt.Errorf("chromem: header cut after %d bytes: %w", n, errTorn)
	}
	size := binary.LittleEndian.Uint32(h[0:])
	if size > maxFrame {
		return nil, fmt.Errorf("chromem: length %d: %w", size, errTorn)
	}
	p := make([]byte, size)
	if n, err := io.ReadFull(r, p); err != nil {
		return nil, fmt.Errorf("chromem: payload cut after %d of %d bytes: %w", n, size, errTorn)
	}
	if crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, fmt.Errorf("chromem: checksum mismatch: %w", errTorn)
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

// replayed is what replayLog found.
type replayed struct {
	f      *os.File
	size   int64 // bytes in the file
	damage []kbstore.Damage
	// torn is the unfinished last write a crash left, if any.
	torn *framelog.Piece
}

// replayLog opens Dir/chromem.log (creating it if absent) and applies
// every record that verifies, in file order. A record that does not
// verify is skipped and the log resynchronised at the next one that does
// (kb/internal/framelog); damage is returned for Open to decide on, and
// nothing on disk is changed here. decode checks and decodes a verified
// payload; apply applies it (an error wrapping errCorrupt makes that
// record lost; any other, such as a conflict with Options, fails the
// replay).
func replayLog(dir string, decode func([]byte) (logOp, error), apply func(logOp) error, rec *Recovery) (*replayed, error) {
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
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	r := &replayed{f: f, size: int64(len(data))}
	from := int64(len(logMagic))
	if len(data) < len(logMagic) || string(data[:len(logMagic)]) != logMagic {
		// A new log is written whole and renamed, so its header is
		// never torn: this is damage (or not a kb/chromem log at all, in
		// which case nothing below verifies either).
		r.damage = append(r.damage, kbstore.Damage{File: logName, Bytes: int64(min(len(data), len(logMagic))), Records: 0, Reason: "log header damaged (the header holds no records)"})
		from = min(from, int64(len(data)))
	}
	var cached struct {
		off int64
		op  logOp
	}
	accept := func(off int64, p []byte, _ bool) bool {
		op, err := decode(p)
		if err != nil {
			return false
		}
		cached.off, cached.op = off, op
		return true
	}
	for pc := range framelog.Scan(data, framelog.ScanOptions{Start: from, Tail: true, MinPayload: 1, MaxPayload: maxFrame, Accept: accept}) {
		switch pc.Kind {
		case framelog.Record:
			op := cached.op
			if cached.off != pc.Off {
				if op, err = decode(pc.Payload); err != nil {
					f.Close()
					return nil, fmt.Errorf("%s: internal error: the record at offset %d no longer decodes", path, pc.Off)
				}
			}
			if pc.Repaired {
				r.damage = append(r.damage, kbstore.Damage{File: logName, Offset: pc.Off, Bytes: 4, Records: 0,
					Reason: "record length field damaged; the record verified against its checksum and was kept"})
			}
			if err := apply(op); err != nil {
				if !errors.Is(err, errCorrupt) {
					f.Close()
					return nil, fmt.Errorf("%s: record at offset %d: %w", path, pc.Off, err)
				}
				r.damage = append(r.damage, kbstore.Damage{File: logName, Offset: pc.Off, Bytes: pc.End - pc.Off, Records: 1, Reason: err.Error()})
				continue
			}
			rec.Replayed++
		case framelog.Damaged:
			r.damage = append(r.damage, kbstore.Damage{File: logName, Offset: pc.Off, Bytes: pc.End - pc.Off, Records: pc.Frames, Reason: pc.Reason})
		case framelog.Torn:
			r.torn = &pc
		}
	}
	return r, nil
}

// keep positions the log for appending after a clean replay, cutting a
// torn tail (copied aside first, chromem.log.damaged-<offset>).
func (r *replayed) keep(dir string, sync bool, rec *Recovery) (*wlog, error) {
	good := r.size
	if t := r.torn; t != nil {
		good = t.Off
		side := filepath.Join(dir, fmt.Sprintf("%s.damaged-%d", logName, good))
		if err := copyTail(r.f, good, side); err != nil {
			return nil, fmt.Errorf("save the torn tail of %s: %w", logName, err)
		}
		if err := r.f.Truncate(good); err != nil {
			return nil, err
		}
		if err := r.f.Sync(); err != nil {
			return nil, err
		}
		rec.CutBytes = r.size - good
		rec.SetAside = side
		rec.Torn = t.Reason
	}
	if _, err := r.f.Seek(good, io.SeekStart); err != nil {
		return nil, err
	}
	return &wlog{dir: dir, f: r.f, size: good, sync: sync}, nil
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
