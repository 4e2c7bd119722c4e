package codeinterp

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadClock reads the CPU time of one OS thread: the calling thread's
// clock is found with threadCPUClock, and can be read from any thread of the
// process.
type threadClock int32

// threadCPUClock returns the CPU clock of the calling OS thread. The caller
// must have locked its goroutine to the thread.
func threadCPUClock() (threadClock, bool) {
	tid := unix.Gettid()
	// MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) from the Linux kernel:
	// (~tid << 3) | CPUCLOCK_PERTHREAD_MASK (4) | CPUCLOCK_SCHED (2).
	return threadClock((^int32(tid) << 3) | 6), true
}

// read returns the thread's CPU time so far.
func (c threadClock) read() (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(int32(c), &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
