package inventory

import (
	"context"
	"errors"
	"testing"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/appliance/store/storetest"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	return storetest.New(t, Migrations())
}

// Addresses are unique: a second node with an address (in any spelling
// of it) is refused, naming the node that has it; a node keeps its own
// address when it is changed otherwise.
func TestUniqueAddresses(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	if err := Put(ctx, st, Node{ID: "b1", Address: "10.0.0.5", Scope: "B"}); err != nil {
		t.Fatal(err)
	}
	if err := Put(ctx, st, Node{ID: "h1", Address: "Router.Example", Scope: "B"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		n    Node
		want error
	}{
		{"same address", Node{ID: "a1", Address: "10.0.0.5", Scope: "A"}, ErrAddressTaken},
		{"same host name in another case", Node{ID: "a2", Address: "router.example", Scope: "A"}, ErrAddressTaken},
		{"IPv6 spelt two ways", Node{ID: "a3", Address: "2001:db8::1", Scope: "A"}, nil},
		{"IPv6 spelt two ways, second", Node{ID: "a4", Address: "2001:0db8:0:0::1", Scope: "A"}, ErrAddressTaken},
		{"the holder renamed", Node{ID: "b1", Name: "renamed", Address: "10.0.0.5", Scope: "B"}, nil},
		{"an existing node moved onto a taken address", Node{ID: "a3", Address: "10.0.0.5", Scope: "A"}, ErrAddressTaken},
		{"another address", Node{ID: "a1", Address: "10.0.0.6", Scope: "A"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Put(ctx, st, tc.n)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var taken *AddressTaken
			if tc.want != nil && (!errors.As(err, &taken) || taken.Holder.Scope != "B" && taken.Holder.ID != "a3") {
				t.Fatalf("refusal does not name the holder: %v", err)
			}
		})
	}
	if n, _ := Get(ctx, st, "h1"); n.Address != "router.example" {
		t.Fatalf("host name stored as %q, want lower case", n.Address)
	}
}
