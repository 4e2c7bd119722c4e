//go:build !linux

package codeinterp

import "time"

// threadClock is unavailable on this system: the CPU limit falls back to
// wall-clock time.
type threadClock int32

func threadCPUClock() (threadClock, bool) { return 0, false }

func (c threadClock) read() (time.Duration, bool) { return 0, false }
