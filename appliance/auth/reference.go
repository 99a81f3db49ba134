package auth

import (
	"errors"
	"fmt"
	"strconv"
)

// The scope rule on references. Every route that creates, replaces,
// deletes or uses a named object (nodes, credentials, monitor rules,
// events, custom-event targets; later monitors, notifications and jobs)
// describes the change as a Write, or the use as a Use, and asks the
// caller's Principal; nothing else decides. See DESIGN.md, "Scopes on
// references".

var (
	// ErrHidden: the object is outside the caller's scopes, so for the
	// caller it does not exist (answer as "not found").
	ErrHidden = errors.New("no such object")
	// ErrForbidden: the caller may not make this change.
	ErrForbidden = errors.New("forbidden")
	// ErrBadReference: an object the change names does not exist for the
	// caller (missing, or outside its scopes: the caller cannot tell which).
	ErrBadReference = errors.New("unknown reference")
)

// Refusal is the rule's answer when it refuses: Unwrap gives one of
// ErrHidden, ErrForbidden, ErrBadReference; Error says what and why
// without naming anything the caller does not see.
type Refusal struct {
	kind error
	msg  string
}

func (r *Refusal) Error() string { return r.msg }

// Unwrap is the kind of refusal.
func (r *Refusal) Unwrap() error { return r.kind }

func refuse(kind error, format string, args ...any) error {
	return &Refusal{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// Object is a named object as the scope rule sees it.
type Object struct {
	Kind  string // "node", "credential", "rule", ...
	ID    string
	Scope string // "": every scope (only a caller that sees all scopes holds or names it)
	Owner string // owner role, "" for none
}

func (o Object) String() string { return o.Kind + " " + strconv.Quote(o.ID) }

// Ref is an object that a written or used object names (a node's
// credential, a custom event's node, a monitor's node, a job's agent).
type Ref struct {
	Object
	Found bool   // false: nothing by that name exists
	Field string // where it is named, e.g. "snmp.auth_credential"
}

// Write is one change of an object under function F.
type Write struct {
	F    Function
	Old  *Object // as it is now; nil if it is new
	New  *Object // as it will be; nil if it is deleted
	Refs []Ref   // every object New names
}

// Covers says whether the principal sees scope, where the empty scope
// means every scope (global objects, rules for every source): only a
// principal that sees all scopes covers it.
func (p Principal) Covers(scope string) bool {
	if scope == "" {
		return p.System || p.scopes == nil
	}
	return p.Sees(scope)
}

// Describe names an object for an answer to p: with its scope if p sees
// it, else only as "a <kind> in a scope outside yours".
func (p Principal) Describe(o Object) string {
	if !p.Covers(o.Scope) {
		return "a " + o.Kind + " in a scope outside yours"
	}
	if o.Scope == "" {
		return o.String() + " (every scope)"
	}
	return o.String() + " (scope " + strconv.Quote(o.Scope) + ")"
}

// MayWrite is the one rule for changing an object: the caller must see
// its current scope (else, for a delete, it does not exist; for a
// replace, its id is taken by something the caller cannot touch), own it
// and hold modify on the function; must see its new scope; and must see
// every object it names.
func (p Principal) MayWrite(w Write) error {
	if o := w.Old; o != nil {
		switch {
		case !p.Covers(o.Scope) && o.Scope == "":
			return refuse(ErrForbidden, "%s is for every scope: only a role that sees all scopes may change it", o)
		case !p.Covers(o.Scope) && w.New == nil:
			return refuse(ErrHidden, "no such %s", o.Kind)
		case !p.Covers(o.Scope):
			return refuse(ErrForbidden, "%s exists in a scope outside yours: choose another id", o)
		case !p.Owns(o.Owner):
			return refuse(ErrForbidden, "%s is owned by role %s: only its members may change it", o, o.Owner)
		case !p.Can(w.F, Modify):
			return refuse(ErrForbidden, "%s exists: changing it needs %s on %s", o, Modify, w.F)
		}
	}
	// References before the new scope: a new scope derived from a
	// reference (a custom event's node) must not be named to a caller
	// who does not see the reference.
	if err := p.mayName(w.Refs); err != nil {
		return err
	}
	if n := w.New; n != nil && !p.Covers(n.Scope) {
		if n.Scope == "" {
			return refuse(ErrForbidden, "%s for every scope (empty scope) needs a role that sees all scopes", n)
		}
		return refuse(ErrForbidden, "scope %q is outside your roles' scopes", n.Scope)
	}
	return nil
}

// MayUse is the rule for acting through an object (polling a node with
// its credentials): the caller must see it and everything it names.
func (p Principal) MayUse(o Object, refs []Ref) error {
	if !p.Covers(o.Scope) {
		return refuse(ErrHidden, "no such %s", o.Kind)
	}
	return p.mayName(refs)
}

// mayName refuses a reference to an object the caller does not see,
// with the same answer whether it exists or not. A caller that sees
// every scope is told plainly that it does not exist.
func (p Principal) mayName(refs []Ref) error {
	for _, r := range refs {
		switch {
		case r.Found && p.Covers(r.Scope):
		case p.Covers(""):
			return refuse(ErrBadReference, "%s: there is no %s", r.Field, r.Object)
		default:
			return refuse(ErrForbidden, "%s: there is no %s in your scopes", r.Field, r.Object)
		}
	}
	return nil
}
