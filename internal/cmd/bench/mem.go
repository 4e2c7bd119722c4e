package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Memory accounting for the benchmarks, from /proc (Linux); elsewhere the
// readings are 0 and the budget is not enforced.

func gib(b int64) float64 { return float64(b) / (1 << 30) }

// procKB returns a "Name:  N kB" field of a /proc file in bytes.
func procKB(file, field string) int64 {
	f, err := os.Open(file)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v << 10
		}
	}
	return 0
}

// residentBytes is the process's resident memory (VmRSS).
func residentBytes() int64 { return procKB("/proc/self/status", "VmRSS") }

// memAvailable is the machine's MemAvailable.
func memAvailable() int64 { return procKB("/proc/meminfo", "MemAvailable") }

// loadAvg is the one-minute load average, the noise other processes add.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "-"
	}
	return strings.Fields(string(b))[0]
}

// freeMemory collects garbage and returns freed memory to the system, so
// resident memory reflects what is live.
func freeMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// parseBytes reads sizes like 14GiB, 512MiB, 2G or a plain byte count.
func parseBytes(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suf) {
			t, mult = strings.TrimSuffix(t, u.suf), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("bad size %q (use e.g. 14GiB or 512MiB)", s)
	}
	return int64(v * float64(mult)), nil
}

// memBudget is the -mem flag, or 75% of the memory available now.
func memBudget(flag string) (int64, error) {
	if flag != "" {
		return parseBytes(flag)
	}
	if a := memAvailable(); a > 0 {
		return a * 3 / 4, nil
	}
	return 8 << 30, nil
}

// watchdog samples resident memory, keeps the peak since the last reset,
// and ends the process if resident memory passes the budget.
type watchdog struct {
	budget int64
	max    atomic.Int64
	done   chan struct{}
	wg     sync.WaitGroup
}

func startWatchdog(budget int64) *watchdog {
	w := &watchdog{budget: budget, done: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
			}
			rss := residentBytes()
			for {
				old := w.max.Load()
				if rss <= old || w.max.CompareAndSwap(old, rss) {
					break
				}
			}
			if budget > 0 && rss > budget {
				fmt.Fprintf(os.Stderr, "bench: resident memory %.2f GiB passed the budget of %.2f GiB; stopping (raise -mem or run fewer engines)\n", gib(rss), gib(budget))
				os.Exit(3)
			}
		}
	}()
	return w
}

func (w *watchdog) resetPeak() { w.max.Store(residentBytes()) }

func (w *watchdog) peak() int64 { return max(w.max.Load(), residentBytes()) }

func (w *watchdog) stop() {
	close(w.done)
	w.wg.Wait()
}
