package textindex

// dict gives each key (a term, or a phrase's hash) a dense ID and holds
// the key's postings under it. Most keys of a large corpus occur in one
// record (numbers, names, rare pairs of words), so a key's first posting
// is stored inline and only keys with more have a list, and the lookup
// from key to ID is an open-addressing table of IDs (about seven bytes a
// key where a Go map takes 26 to 40): a phrase in one record costs about
// 24 bytes.
//
// Removing a record must not scan the lists of its common terms (a
// million postings each in a large index), so a key in more than one
// record only counts the posting as dead; searches skip postings of dead
// records, and purge drops them all in one pass once enough records died
// (the Index decides when, and reuses their slots only then). A key whose
// postings are all dead is dropped at once, and its ID reused, so a
// long-running index with churning documents does not grow.
type dict[K comparable] struct {
	ids   idTable[K]
	keys  []K
	first []posting        // each ID's first posting
	more  map[uint32]plist // the other postings of IDs with more than one
	free  []uint32
}

// plist is the list of a key's postings after the first, and how many of
// all its postings (the first included) belong to removed records.
type plist struct {
	ps   []posting
	dead uint32
}

// postings are one key's postings: first, then more; live of them belong
// to records still indexed (the key's document frequency).
type postings struct {
	first posting
	more  []posting
	live  int
}

func newDict[K comparable](hash func(K) uint64) dict[K] {
	return dict[K]{ids: idTable[K]{hash: hash}, more: map[uint32]plist{}}
}

// len returns the number of keys with postings.
func (d *dict[K]) len() int { return d.ids.n }

// add adds p to k's postings and returns k's ID.
func (d *dict[K]) add(k K, p posting) uint32 {
	id, ok := d.ids.get(k, d.keys)
	switch {
	case ok:
		m := d.more[id]
		m.ps = append(m.ps, p)
		d.more[id] = m
	case len(d.free) > 0:
		id = d.free[len(d.free)-1]
		d.free = d.free[:len(d.free)-1]
		d.keys[id], d.first[id] = k, p
		d.ids.put(id, d.keys)
	default:
		id = uint32(len(d.keys))
		d.keys = append(d.keys, k)
		d.first = append(d.first, p)
		d.ids.put(id, d.keys)
	}
	return id
}

// get returns k's postings. The caller must not modify them, and must
// skip those of removed records.
func (d *dict[K]) get(k K) postings {
	id, ok := d.ids.get(k, d.keys)
	if !ok {
		return postings{}
	}
	m := d.more[id]
	return postings{first: d.first[id], more: m.ps, live: 1 + len(m.ps) - int(m.dead)}
}

// drop records that one posting of key id belongs to a removed record. A
// key left with no live posting is removed and its ID freed.
func (d *dict[K]) drop(id uint32) {
	m, ok := d.more[id]
	if ok {
		m.dead++
		if int(m.dead) <= len(m.ps) {
			d.more[id] = m
			return
		}
		delete(d.more, id)
	}
	var zero K
	d.ids.remove(id, d.keys)
	d.keys[id], d.first[id] = zero, posting{}
	d.free = append(d.free, id)
}

// purgeIDs removes the postings of removed records (the slots set in
// dead, one bit a slot) from the lists of the keys with IDs from to to
// (exclusive). Lists left at a quarter of their capacity are copied
// smaller, so the memory of removed records returns.
func (d *dict[K]) purgeIDs(from, to uint32, dead []uint64) {
	alive := func(s int32) bool { return int(s>>6) >= len(dead) || dead[s>>6]&(1<<(s&63)) == 0 }
	for id := from; id < to; id++ {
		m, ok := d.more[id]
		if !ok || m.dead == 0 {
			continue
		}
		ps := m.ps[:0]
		for _, p := range m.ps {
			if alive(p.slot) {
				ps = append(ps, p)
			}
		}
		clear(m.ps[len(ps):])
		if !alive(d.first[id].slot) {
			// drop keeps at least one live posting in a key it keeps.
			d.first[id] = ps[len(ps)-1]
			ps = ps[:len(ps)-1]
		}
		switch {
		case len(ps) == 0:
			delete(d.more, id)
			continue
		case cap(ps) > 16 && len(ps) < cap(ps)/4:
			ps = append([]posting(nil), ps...)
		}
		d.more[id] = plist{ps: ps}
	}
}

// idTable is a hash table of IDs whose keys are keys[id]: open addressing
// with linear probing, at most three quarters full, deleting by shifting
// back (no tombstones). Its hash is seeded at random per index, so no text
// can be written to make its keys collide.
type idTable[K comparable] struct {
	hash  func(K) uint64
	slots []uint32 // ID+1; 0 is empty
	n     int
}

// get returns k's ID.
func (t *idTable[K]) get(k K, keys []K) (uint32, bool) {
	if t.n == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.hash(k) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if keys[s-1] == k {
			return s - 1, true
		}
	}
}

// put adds id, whose key keys[id] is not in the table.
func (t *idTable[K]) put(id uint32, keys []K) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow(keys)
	}
	t.place(id, keys)
	t.n++
}

func (t *idTable[K]) place(id uint32, keys []K) {
	mask := uint64(len(t.slots) - 1)
	i := t.hash(keys[id]) & mask
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = id + 1
}

func (t *idTable[K]) grow(keys []K) {
	old := t.slots
	t.slots = make([]uint32, max(16, 2*len(old)))
	for _, s := range old {
		if s != 0 {
			t.place(s-1, keys)
		}
	}
}

// remove deletes id, whose key keys[id] is in the table.
func (t *idTable[K]) remove(id uint32, keys []K) {
	mask := uint64(len(t.slots) - 1)
	i := t.hash(keys[id]) & mask
	for t.slots[i] != id+1 {
		i = (i + 1) & mask
	}
	// Shift back each later entry of the run that may no longer be
	// reachable from its home slot across the hole at i.
	for j := (i + 1) & mask; t.slots[j] != 0; j = (j + 1) & mask {
		home := t.hash(keys[t.slots[j]-1]) & mask
		if (j-home)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = 0
	t.n--
}
