package localindex

// pageShift sets the slots of a page: 4,096 (6 MiB of float32 vectors at
// 384 dimensions, 16 MiB at 1,024).
const (
	pageShift = 12
	pageSlots = 1 << pageShift
	pageMask  = pageSlots - 1
)

// paged holds one fixed-length vector per slot in pages of pageSlots
// slots. A contiguous slice copies every vector it holds each time it
// grows, and holds both copies while it does (gigabytes at a million
// vectors); a page is only ever copied while it fills, so an index grows
// at the cost of the vectors it adds. The last page grows by doubling
// like a slice, so a small index takes no more than it needs.
//
// A capture (a snapshot's) keeps seeing the slots it held while adds go on:
// they write beyond those slots, into the same pages or new ones, and only
// into the live value's page list, which capture copied.
type paged[T any] struct {
	dim   int
	n     int // slots
	pages [][]T
}

// capture returns a copy that goes on reading the current slots while p
// grows (its own page list; the pages are shared).
func (p *paged[T]) capture() paged[T] {
	c := *p
	c.pages = append([][]T(nil), p.pages...)
	return c
}

// len returns the number of slots.
func (p *paged[T]) len() int { return p.n }

// at returns slot s's vector.
func (p *paged[T]) at(s int) []T {
	o := (s & pageMask) * p.dim
	return p.pages[s>>pageShift][o : o+p.dim : o+p.dim]
}

// add appends a zeroed slot of dim values (the dimension of every slot)
// and returns its index.
func (p *paged[T]) add(dim int) int {
	p.dim = dim
	s := p.n
	if s&pageMask == 0 {
		p.pages = append(p.pages, make([]T, 0, dim))
	}
	last := &p.pages[len(p.pages)-1]
	if len(*last)+dim > cap(*last) {
		grown := make([]T, len(*last), min(2*cap(*last), pageSlots*dim))
		copy(grown, *last)
		*last = grown
	}
	*last = (*last)[:len(*last)+dim]
	p.n++
	return s
}
