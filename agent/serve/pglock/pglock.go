package pglock

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/serve"
)

// Options configure a Locker. The zero value is ready to use.
type Options struct {
	// Namespace prefixes every key before it is hashed, so that several
	// services sharing a database do not contend; default
	// "bedrockkit.serve".
	Namespace string
	// ReleaseTimeout bounds the unlock at the end of an invocation; 0
	// means 5 s. A connection whose unlock fails is closed, which releases
	// its locks.
	ReleaseTimeout time.Duration
}

// Locker is a serve.SessionLocker over PostgreSQL session-level advisory
// locks, so that replicas sharing a database run one invocation per
// session between them. The key is hashed to the lock's 64-bit ID
// (hashtextextended); two keys with the same hash would refuse each
// other's concurrent invocations, never run them together.
//
// Each held lock keeps one connection of the pool until it is released;
// if the process dies, PostgreSQL ends the connection and the lock with
// it. Give the Locker a pool of its own: its size bounds the invocations
// a replica runs at once, and a pool shared with the session Memory could
// run out of connections while every holder waits for one to save.
type Locker struct {
	pool    *pgxpool.Pool
	ns      string
	timeout time.Duration
}

var _ serve.SessionLocker = (*Locker)(nil)

// New returns a Locker using pool, which stays the caller's.
func New(pool *pgxpool.Pool, opts Options) (*Locker, error) {
	if pool == nil {
		return nil, fmt.Errorf("pglock: New needs a *pgxpool.Pool of its own (pgxpool.New(ctx, dsn)): %w", bedrockkit.ErrInvalidInput)
	}
	if opts.Namespace == "" {
		opts.Namespace = "bedrockkit.serve"
	}
	if opts.ReleaseTimeout <= 0 {
		opts.ReleaseTimeout = 5 * time.Second
	}
	return &Locker{pool: pool, ns: opts.Namespace, timeout: opts.ReleaseTimeout}, nil
}

// TryLock takes the advisory lock of key without waiting, holding a pool
// connection until release. It returns an error wrapping
// serve.ErrSessionBusy when another holder has it.
func (l *Locker) TryLock(ctx context.Context, key string) (func(), error) {
	if !utf8.ValidString(key) || strings.ContainsRune(key, 0) {
		return nil, fmt.Errorf("pglock: key %q is not valid UTF-8 text: %w", key, bedrockkit.ErrInvalidInput)
	}
	name := l.ns + ":" + key
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("pglock: acquire a connection for the session lock: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, name).Scan(&ok); err != nil {
		// The lock may or may not have been taken: close the connection,
		// which releases anything it holds.
		closeConn(conn, l.timeout)
		return nil, fmt.Errorf("pglock: take the session lock: %w", err)
	}
	if !ok {
		conn.Release()
		return nil, serve.ErrSessionBusy
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			rctx, cancel := context.WithTimeout(context.Background(), l.timeout)
			defer cancel()
			var released bool
			err := conn.QueryRow(rctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, name).Scan(&released)
			if err != nil || !released {
				closeConn(conn, l.timeout)
				return
			}
			conn.Release()
		})
	}, nil
}

// closeConn takes the connection out of the pool and closes it, ending its
// PostgreSQL session and so every advisory lock it held.
func closeConn(conn *pgxpool.Conn, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_ = conn.Hijack().Close(ctx)
}
