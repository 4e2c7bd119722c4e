// Package pglock gives replicas of a served agent one invocation per
// session between them, with PostgreSQL advisory locks: a
// serve.SessionLocker for services whose sessions live in PostgreSQL
// (agent/pgmemory).
//
//	locks, _ := pgxpool.New(ctx, dsn) // a pool of its own
//	locker, _ := pglock.New(locks, pglock.Options{})
//	h, _ := serve.New(a, serve.Options{Authorizer: az, Locker: locker})
//
// A replica that dies loses its connections, and PostgreSQL releases its
// locks with them, so a crashed invocation never blocks its session.
package pglock
