package caps

import "testing"

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name string
		need bool
		s    State
		want Action
	}{
		{"service address set", true, State{UID: 998, Ambient: true}, Keep},
		{"service user without service address", false, State{UID: 998, Ambient: true}, Drop},
		{"already dropped and still held", false, State{UID: 998, Ambient: true, Reexecuted: true}, Stuck},
		{"already dropped", false, State{UID: 998, Reexecuted: true}, Keep},
		{"no ambient capability", false, State{UID: 998}, Keep},
		{"root", false, State{UID: 0}, Keep},
		{"root with ambient capability", false, State{UID: 0, Ambient: true}, Keep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.need, tc.s); got != tc.want {
				t.Fatalf("Decide(%v, %+v) = %d, want %d", tc.need, tc.s, got, tc.want)
			}
		})
	}
}
