package pii

import "testing"

// TestAddressFormats: address shapes beyond "123 Main Street" (written for
// this test): military (PSC/Unit, Box, APO/FPO/DPO), a ship, the house
// number after the street as most of Europe writes it, "the corner of",
// and a block over several lines with a city in capitals.
func TestAddressFormats(t *testing.T) {
	d := all()
	for _, c := range []struct{ text, want string }{
		{"Send it to PSC 4411, Box 2093\nAPO AE 09096 please", "PSC 4411, Box 2093\nAPO AE 09096"},
		{"Unit 7712 Box 3310\nDPO AP 96522", "Unit 7712 Box 3310\nDPO AP 96522"},
		{"USNS Comfort\nFPO AA 34055", "USNS Comfort\nFPO AA 34055"},
		{"Ship to 1204 Lindenweg 17, Utrecht", "1204 Lindenweg 17, Utrecht"},
		{"Meet me at the corner of Oak Street and 5th Avenue tomorrow", "the corner of Oak Street and 5th Avenue"},
		{"12 Harbour Road\n Suite 4\n\n KIRKWALL\n Scotland KW15", "12 Harbour Road\n Suite 4\n\n KIRKWALL\n Scotland KW15"},
	} {
		found := false
		var got []string
		for _, e := range detect(d, c.text) {
			got = append(got, string(e.Type)+":"+c.text[e.Start:e.End])
			found = found || e.Type == "ADDRESS" && c.text[e.Start:e.End] == c.want
		}
		if !found {
			t.Errorf("%q: want ADDRESS %q, got %q", c.text, c.want, got)
		}
	}
}

// TestOrganisationsAreNotNames: capitalised runs that name a company, a
// law or a body are not people.
func TestOrganisationsAreNotNames(t *testing.T) {
	d := all()
	for _, text := range []string{
		"During 2017, Allstate Insurance Group invested heavily in chips.",
		"Title VII of the Civil Rights Act protects workers.",
		"Russell Investments is a design agency based in Leeds.",
		"The American Border Force detained the shipment.",
	} {
		for _, e := range detect(d, text) {
			if e.Type == "NAME" {
				t.Errorf("%q: NAME %q", text, text[e.Start:e.End])
			}
		}
	}
}
