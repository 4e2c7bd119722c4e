package cache

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Store holds encoded responses under their keys. Implement it to share a
// cache between processes (Redis, memcached, a database); MemoryStore is the
// in-process default. Implementations must be safe for concurrent use.
type Store interface {
	// Get returns the value stored under key, or ok false when there is none
	// or it has expired.
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Set stores value under key for ttl (0 means no expiry), replacing any
	// previous value.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

// MemoryOptions bound a MemoryStore. Zero fields take the defaults.
type MemoryOptions struct {
	// MaxEntries is the most entries kept; default 1,000.
	MaxEntries int
	// MaxBytes is the most value bytes kept; default 64 MiB. A value larger
	// than MaxBytes is not stored.
	MaxBytes int64
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
}

// MemoryStore is an in-memory Store bounded by entries and bytes, evicting
// the least recently used entry first and dropping expired entries when
// they are read or evicted. It is safe for concurrent use.
type MemoryStore struct {
	mu      sync.Mutex
	opts    MemoryOptions
	ll      *list.List // front = most recently used
	items   map[string]*list.Element
	bytes   int64
	evicted int64
}

type memEntry struct {
	key     string
	value   []byte
	expires time.Time // zero: never
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(opts MemoryOptions) *MemoryStore {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 1000
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 64 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &MemoryStore{opts: opts, ll: list.New(), items: map[string]*list.Element{}}
}

// Get returns the value under key and marks it recently used.
func (s *MemoryStore) Get(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.items[key]
	if !ok {
		return nil, false, nil
	}
	e := el.Value.(*memEntry)
	if !e.expires.IsZero() && !s.opts.Now().Before(e.expires) {
		s.remove(el)
		return nil, false, nil
	}
	s.ll.MoveToFront(el)
	return e.value, true, nil
}

// Set stores value under key, evicting least recently used entries to stay
// within the bounds.
func (s *MemoryStore) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[key]; ok {
		s.remove(el)
	}
	if int64(len(value)) > s.opts.MaxBytes {
		return nil
	}
	e := &memEntry{key: key, value: value}
	if ttl > 0 {
		e.expires = s.opts.Now().Add(ttl)
	}
	s.items[key] = s.ll.PushFront(e)
	s.bytes += int64(len(value))
	for s.ll.Len() > s.opts.MaxEntries || s.bytes > s.opts.MaxBytes {
		s.remove(s.ll.Back())
		s.evicted++
	}
	return nil
}

// Delete removes key, if present.
func (s *MemoryStore) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[key]; ok {
		s.remove(el)
	}
}

// Len returns the number of entries held (expired ones included until they
// are read or evicted).
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ll.Len()
}

// Bytes returns the total size of the values held.
func (s *MemoryStore) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Evictions returns how many entries were evicted to respect the bounds.
func (s *MemoryStore) Evictions() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.evicted
}

func (s *MemoryStore) remove(el *list.Element) {
	e := el.Value.(*memEntry)
	s.ll.Remove(el)
	delete(s.items, e.key)
	s.bytes -= int64(len(e.value))
}
