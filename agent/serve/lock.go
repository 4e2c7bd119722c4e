package serve

import (
	"context"
	"sync"
)

// SessionLocker gives one invocation at a time to each session. TryLock
// takes the lock of key without waiting: it returns a release function,
// or an error wrapping ErrSessionBusy when another invocation holds it (or
// another error when the lock could not be checked). Release must be
// called exactly once. Implementations must be safe for concurrent use.
//
// LocalLocker serves one process; package agent/serve/pglock locks across
// replicas sharing a PostgreSQL database.
type SessionLocker interface {
	TryLock(ctx context.Context, key string) (release func(), err error)
}

// LocalLocker is a SessionLocker for a single process. The zero value is
// ready to use.
type LocalLocker struct {
	mu   sync.Mutex
	held map[string]struct{}
}

// NewLocalLocker returns an empty LocalLocker.
func NewLocalLocker() *LocalLocker { return &LocalLocker{} }

// TryLock takes key's lock if it is free.
func (l *LocalLocker) TryLock(ctx context.Context, key string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, busy := l.held[key]; busy {
		return nil, ErrSessionBusy
	}
	if l.held == nil {
		l.held = map[string]struct{}{}
	}
	l.held[key] = struct{}{}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.held, key)
			l.mu.Unlock()
		})
	}, nil
}
