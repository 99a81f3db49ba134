package store

import (
	"context"
	"sync"
)

// Attachment is statements that must be written in the same unit as the
// first write of a request, whatever package makes that write: the API
// attaches the record of an idempotency key, so that a request whose
// answer was lost is recognised when retried, exactly when its write
// happened.
type Attachment struct {
	stmts []Statement
	mu    sync.Mutex
	state attachState
}

type attachState int

const (
	attachFree    attachState = iota
	attachClaimed             // an Exec carries it now
	attachWritten             // an Exec wrote it
	attachUnknown             // an Exec carried it and its outcome is unknown
)

type attachKey struct{}

// Attach returns a context whose first successful Exec also writes stmts.
func Attach(ctx context.Context, stmts ...Statement) (context.Context, *Attachment) {
	a := &Attachment{stmts: stmts}
	return context.WithValue(ctx, attachKey{}, a), a
}

func attached(ctx context.Context) *Attachment {
	a, _ := ctx.Value(attachKey{}).(*Attachment)
	return a
}

// claim reserves the attachment for one Exec; false if another has it.
func (a *Attachment) claim() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state != attachFree {
		return false
	}
	a.state = attachClaimed
	return true
}

// release ends a claim that failed: the next Exec carries the statements,
// unless the outcome is unknown (they may be written: never twice).
func (a *Attachment) release(unknown bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state = attachFree
	if unknown {
		a.state = attachUnknown
	}
}

func (a *Attachment) written() {
	a.mu.Lock()
	a.state = attachWritten
	a.mu.Unlock()
}

// Written says whether an Exec wrote the attached statements.
func (a *Attachment) Written() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state == attachWritten
}

// Carried says whether an Exec took the statements, written or with an
// unknown outcome.
func (a *Attachment) Carried() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state != attachFree
}
