package auth

import (
	"errors"
	"strings"
	"testing"
)

// The one rule on references, for every object kind: a caller of scope A
// neither replaces, deletes, moves into, nor names anything of scope B.
func TestReferenceRule(t *testing.T) {
	editA := newPrincipal("ea", []Role{{Name: "edit_a", Scopes: []string{"A"},
		Privileges: map[Function][]Action{Inventory: {Read, Add, Modify}, MonitorSetting: {Read, Add}}}})
	admin := newPrincipal("adm", BuiltinRoles()[:1])
	nodeA := &Object{Kind: "node", ID: "n1", Scope: "A"}
	nodeB := &Object{Kind: "node", ID: "n2", Scope: "B"}
	owned := &Object{Kind: "node", ID: "n3", Scope: "A", Owner: "team_x"}
	credA := Ref{Object: Object{Kind: "credential", ID: "ca", Scope: "A"}, Found: true, Field: "snmp.auth_credential"}
	credB := Ref{Object: Object{Kind: "credential", ID: "cb", Scope: "B"}, Found: true, Field: "snmp.auth_credential"}
	missing := Ref{Object: Object{Kind: "credential", ID: "nope"}, Field: "snmp.auth_credential"}
	global := Ref{Object: Object{Kind: "credential", ID: "g", Scope: ""}, Found: true, Field: "snmp.community_credential"}
	ruleAll := &Object{Kind: "rule", ID: "r", Scope: ""}
	for _, tc := range []struct {
		name string
		p    Principal
		w    Write
		want error // nil: allowed
		hide string
	}{
		{"new node in own scope naming own credential", editA, Write{F: Inventory, New: nodeA, Refs: []Ref{credA}}, nil, ""},
		{"new node naming a credential of B", editA, Write{F: Inventory, New: nodeA, Refs: []Ref{credB}}, ErrForbidden, `"B"`},
		{"new node naming a missing credential", editA, Write{F: Inventory, New: nodeA, Refs: []Ref{missing}}, ErrForbidden, ""},
		{"new node naming a credential for every scope", editA, Write{F: Inventory, New: nodeA, Refs: []Ref{global}}, ErrForbidden, ""},
		{"new node in B", editA, Write{F: Inventory, New: nodeB}, ErrForbidden, ""},
		{"replace a node of B with one in A", editA, Write{F: Inventory, Old: nodeB, New: nodeA}, ErrForbidden, `"B"`},
		{"move own node to B", editA, Write{F: Inventory, Old: nodeA, New: nodeB}, ErrForbidden, ""},
		{"delete a node of B", editA, Write{F: Inventory, Old: nodeB}, ErrHidden, `"B"`},
		{"change a node owned by another role", editA, Write{F: Inventory, Old: owned, New: owned}, ErrForbidden, ""},
		{"replace without modify", editA, Write{F: MonitorSetting, Old: nodeA, New: nodeA}, ErrForbidden, ""},
		{"rule for every scope", editA, Write{F: MonitorSetting, New: ruleAll}, ErrForbidden, ""},
		{"replace a rule for every scope", editA, Write{F: MonitorSetting, Old: ruleAll, New: &Object{Kind: "rule", ID: "r", Scope: "A"}}, ErrForbidden, ""},
		{"administrator: cross-scope reference", admin, Write{F: Inventory, Old: nodeB, New: nodeA, Refs: []Ref{credB, global}}, nil, ""},
		{"administrator: missing reference", admin, Write{F: Inventory, New: nodeA, Refs: []Ref{missing}}, ErrBadReference, ""},
		{"the appliance itself", SystemPrincipal("a"), Write{F: Inventory, Old: owned, New: nodeB, Refs: []Ref{credB}}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.MayWrite(tc.w)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tc.hide != "" && strings.Contains(err.Error(), tc.hide) {
				t.Fatalf("the answer names %s, which the caller does not see: %v", tc.hide, err)
			}
		})
	}
	if err := editA.MayUse(*nodeA, []Ref{credB}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("polling an own node with a credential of B: %v", err)
	}
	if err := editA.MayUse(*nodeB, nil); !errors.Is(err, ErrHidden) {
		t.Fatalf("polling a node of B: %v", err)
	}
	if d := editA.Describe(*nodeB); strings.Contains(d, "B") || strings.Contains(d, "n2") {
		t.Fatalf("description of an invisible node: %q", d)
	}
	if d := editA.Describe(*nodeA); !strings.Contains(d, `"A"`) {
		t.Fatalf("description of a visible node: %q", d)
	}
}
