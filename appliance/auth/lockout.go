package auth

import (
	"sync"
	"time"
)

// lockout slows down password guessing per (account, source address):
// after MaxFailures failures the pair is refused without hashing for a
// window that doubles with each further failure, up to MaxWindow. Other
// accounts and other sources are not affected, and a refused attempt
// costs no argon2 work, so a guessing loop cannot slow anyone else down.
type lockout struct {
	max    int
	window time.Duration
	cap    time.Duration
	mu     sync.Mutex
	m      map[string]*failures
}

type failures struct {
	count int
	until time.Time
	last  time.Time
}

func newLockout(maxFailures int, window, capWindow time.Duration) *lockout {
	return &lockout{max: maxFailures, window: window, cap: capWindow, m: map[string]*failures{}}
}

func key(user, source string) string { return user + "\x00" + source }

// locked reports how long the pair is still locked. A refused attempt
// keeps the record alive, so an attacker who never stops never gets a
// fresh set of guesses.
func (l *lockout) locked(user, source string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[key(user, source)]
	if f == nil || !now.Before(f.until) {
		return 0
	}
	f.last = now
	return f.until.Sub(now)
}

// fail records a failure and returns the lock now in force (0: none yet).
func (l *lockout) fail(user, source string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := key(user, source)
	f := l.m[k]
	if f == nil || now.Sub(f.last) > l.cap {
		f = &failures{}
		l.m[k] = f
	}
	f.count++
	f.last = now
	if f.count < l.max {
		return 0
	}
	d := l.window << min(f.count-l.max, 16)
	d = min(d, l.cap)
	f.until = now.Add(d)
	l.gc(now)
	return d
}

// succeed forgets the pair's failures after a login; it reports whether
// there were any. A lock in force is kept: it was set (or merged from the
// other appliance) while this login was checking its password.
func (l *lockout) succeed(user, source string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := key(user, source)
	f, had := l.m[k]
	if had && now.Before(f.until) {
		return false
	}
	delete(l.m, k)
	return had
}

// get returns a copy of the pair's record.
func (l *lockout) get(user, source string) (failures, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[key(user, source)]
	if f == nil {
		return failures{}, false
	}
	return *f, true
}

// merge takes a record replicated from the store (written by whichever
// appliance was active): the more severe of it and the local one wins.
func (l *lockout) merge(user, source string, in failures, now time.Time) {
	if now.Sub(in.last) > l.cap {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k := key(user, source)
	f := l.m[k]
	if f == nil {
		f = &failures{}
		l.m[k] = f
	}
	f.count = max(f.count, in.count)
	if in.until.After(f.until) {
		f.until = in.until
	}
	if in.last.After(f.last) {
		f.last = in.last
	}
}

// gc drops stale entries so a spray of names cannot grow the map forever.
func (l *lockout) gc(now time.Time) {
	if len(l.m) < 10000 {
		return
	}
	for k, f := range l.m {
		if now.Sub(f.last) > l.cap {
			delete(l.m, k)
		}
	}
}
