package localindex

import "testing"

// TestPagedAcrossPages fills more than two pages and checks every slot,
// and that a capture keeps reading its slots while the original grows
// (into a page that reallocates as it fills, and into new pages).
func TestPagedAcrossPages(t *testing.T) {
	const dim = 3
	var p paged[float32]
	var c paged[float32]
	n := 2*pageSlots + 100
	for i := range n {
		s := p.add(dim)
		if s != i {
			t.Fatalf("add returned slot %d, want %d", s, i)
		}
		v := p.at(s)
		for j := range v {
			v[j] = float32(i*dim + j)
		}
		if i == pageSlots+7 {
			c = p.capture()
		}
	}
	if p.len() != n || c.len() != pageSlots+8 {
		t.Fatalf("len %d and capture %d, want %d and %d", p.len(), c.len(), n, pageSlots+8)
	}
	for i := range n {
		for j, x := range p.at(i) {
			if x != float32(i*dim+j) {
				t.Fatalf("slot %d[%d] = %v", i, j, x)
			}
		}
		if i < c.len() {
			for j, x := range c.at(i) {
				if x != float32(i*dim+j) {
					t.Fatalf("captured slot %d[%d] = %v", i, j, x)
				}
			}
		}
	}
	if got := cap(p.at(5)); got != dim {
		t.Fatalf("a slot's capacity is %d, want %d (no writing into the next slot)", got, dim)
	}
}
