package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
	"github.com/bedrockkit/bedrockkit/keyprovider"
)

func init() { commands["encryption"] = runEncryption }

// runEncryption measures what encryption at rest costs kb/localindex, in
// one run: loading records (Upsert batches, NoSync so the log's CPU cost
// shows rather than fsync waits), writing a snapshot (Close), opening from
// the snapshot, replaying a log without snapshot, each with and without
// Options.Encryption (a Static provider, so no network), alternating the
// modes round by round. It prints median wall and CPU times (the process's
// user+system time, which other load on the machine disturbs less) and
// the encrypted/plain ratios, then RotateKey's time (re-encrypting every
// file) for the encrypted index.
func runEncryption(args []string) error {
	fs := flag.NewFlagSet("encryption", flag.ContinueOnError)
	n := fs.Int("n", 100000, "records")
	dim := fs.Int("dim", 384, "dimensions")
	textBytes := fs.Int("text", 1000, "bytes of chunk text per record")
	batch := fs.Int("batch", 1000, "records per Upsert")
	rounds := fs.Int("rounds", 3, "rounds (each runs both modes)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	kek := make([]byte, 32)
	rand.Read(kek)
	keys, err := keyprovider.NewStatic(keyprovider.StaticKey{ID: "bench", Key: kek})
	if err != nil {
		return err
	}
	flat, _ := clusteredFlat(*n, *dim, 1, 7)
	text := strings.Repeat("x", *textBytes)
	recs := make([]kbstore.Record, *n)
	for i := range recs {
		recs[i] = kbstore.Record{ID: strconv.Itoa(i), DocumentID: strconv.Itoa(i / 10), Text: text,
			Vector: flat[i**dim : (i+1)**dim], Metadata: map[string]any{"source": "doc-" + strconv.Itoa(i/10)}}
	}
	fmt.Printf("# encryption bench: n=%d dim=%d text=%d B batch=%d rounds=%d GOMAXPROCS=%d load %s\n",
		*n, *dim, *textBytes, *batch, *rounds, runtime.GOMAXPROCS(0), loadAvg())
	type sample struct{ wall, cpu time.Duration }
	phases := []string{"load", "snapshot", "open", "replay"}
	res := map[string]map[string][]sample{"plain": {}, "encrypted": {}}
	var rotate []sample
	var logBytes, snapBytes int64
	ctx := context.Background()
	for r := range *rounds {
		for _, mode := range []string{"plain", "encrypted"} {
			tmp, err := os.MkdirTemp("", "bedrockkit-bench-enc")
			if err != nil {
				return err
			}
			o := localindex.Options{Dir: filepath.Join(tmp, "ix"), NoSync: true, SnapshotBytes: 1 << 40}
			if mode == "encrypted" {
				o.Encryption = &localindex.EncryptionOptions{Keys: keys}
			}
			measure := func(phase string, fn func() error) error {
				freeMemory()
				w0, c0 := time.Now(), cpuTime()
				if err := fn(); err != nil {
					return fmt.Errorf("%s %s: %w", mode, phase, err)
				}
				res[mode][phase] = append(res[mode][phase], sample{time.Since(w0), cpuTime() - c0})
				return nil
			}
			var ix *localindex.Index
			if ix, err = localindex.Open(o); err != nil {
				return err
			}
			if err := measure("load", func() error {
				for lo := 0; lo < len(recs); lo += *batch {
					if err := ix.Upsert(ctx, recs[lo:min(lo+*batch, len(recs))]); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				return err
			}
			// A copy of the directory now holds only the log: opening it
			// replays every record.
			replayDir := filepath.Join(tmp, "replay")
			if err := copyFiles(o.Dir, replayDir); err != nil {
				return err
			}
			logBytes = dirSize(replayDir)
			if err := measure("snapshot", ix.Close); err != nil {
				return err
			}
			snapBytes = dirSize(o.Dir) - logBytes
			if err := measure("open", func() error {
				var err error
				ix, err = localindex.Open(o)
				return err
			}); err != nil {
				return err
			}
			if mode == "encrypted" {
				w0, c0 := time.Now(), cpuTime()
				if err := ix.RotateKey(ctx); err != nil {
					return err
				}
				rotate = append(rotate, sample{time.Since(w0), cpuTime() - c0})
			}
			ix.Close()
			ro := o
			ro.Dir = replayDir
			if err := measure("replay", func() error {
				rix, err := localindex.Open(ro)
				if err != nil {
					return err
				}
				if rix.Len() != len(recs) {
					return fmt.Errorf("replayed %d records, want %d", rix.Len(), len(recs))
				}
				rix.Close()
				return nil
			}); err != nil {
				return err
			}
			os.RemoveAll(tmp)
		}
		fmt.Printf("# round %d done, load %s\n", r+1, loadAvg())
	}
	med := func(s []sample) sample {
		w := make([]time.Duration, len(s))
		c := make([]time.Duration, len(s))
		for i, x := range s {
			w[i], c[i] = x.wall, x.cpu
		}
		slices.Sort(w)
		slices.Sort(c)
		return sample{w[len(w)/2], c[len(c)/2]}
	}
	fmt.Printf("# log %.0f MiB, snapshot %.0f MiB (last round)\n", float64(logBytes)/(1<<20), float64(snapBytes)/(1<<20))
	fmt.Printf("%-9s %12s %12s %12s %12s %9s %9s\n", "phase", "plain_wall", "enc_wall", "plain_cpu", "enc_cpu", "wall_x", "cpu_x")
	var metrics []string
	for _, ph := range phases {
		p, e := med(res["plain"][ph]), med(res["encrypted"][ph])
		fmt.Printf("%-9s %11.3fs %11.3fs %11.3fs %11.3fs %9.2f %9.2f\n", ph, p.wall.Seconds(), e.wall.Seconds(), p.cpu.Seconds(), e.cpu.Seconds(),
			e.wall.Seconds()/p.wall.Seconds(), e.cpu.Seconds()/p.cpu.Seconds())
		metrics = append(metrics, fmt.Sprintf("%s_wall_x=%.2f %s_cpu_x=%.2f", ph, e.wall.Seconds()/p.wall.Seconds(), ph, e.cpu.Seconds()/p.cpu.Seconds()))
	}
	rt := med(rotate)
	fmt.Printf("# RotateKey (re-encrypting snapshot, graph-less index and log): %.3fs wall, %.3fs CPU\n", rt.wall.Seconds(), rt.cpu.Seconds())
	fmt.Println(strings.Join(metrics, " ") + fmt.Sprintf(" rotate_s=%.3f", rt.wall.Seconds()))
	return nil
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func copyFiles(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Name() == "LOCK" {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err == nil {
			_, err = io.Copy(out, in)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		in.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func dirSize(dir string) int64 {
	var n int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}
