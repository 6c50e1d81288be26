package store

import "testing"

// TestClaimGate: claiming updates stay on while at least two in three
// find their session as remembered (after a prior of 8 that did), and
// otherwise only one update in 8 claims, until claims pay again.
func TestClaimGate(t *testing.T) {
	opens := func(g *claimGate, calls int) int {
		n := 0
		for range calls {
			if g.open() {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		name    string
		pattern string // outcomes recorded in turn: h found as remembered, m not
		repeat  int
		opens   int // of 16 calls after
	}{
		{"new", "", 0, 16},
		{"one replica, a few moved", "hhhhhhhhhm", 20, 16},
		{"four misses after the prior", "m", 4, 16},
		{"five misses after the prior", "m", 5, 2},
		{"two replicas in turn", "hm", 40, 2},
		{"three replicas in turn", "hmm", 40, 2},
		{"two in three found", "hhm", 40, 16},
		{"back to paying", "mmmmmmmmmmhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh", 1, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g claimGate
			for range tc.repeat {
				for _, o := range tc.pattern {
					g.record(o == 'h')
				}
			}
			if got := opens(&g, 16); got != tc.opens {
				t.Errorf("%d of 16 calls claim (hits %d, misses %d), want %d", got, g.hits, g.misses, tc.opens)
			}
		})
	}
}
