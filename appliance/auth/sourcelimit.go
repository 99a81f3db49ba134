package auth

import (
	"errors"
	"math"
	"sync"
	"time"
)

// ErrSourceLimited: too many failed logins from one address, across
// accounts (password spraying).
var ErrSourceLimited = errors.New("too many failed logins from this address: wait and retry")

// anyUser is the user column of a replicated source-wide failure record
// (no user name can be "*").
const anyUser = "*"

// sourceLimit slows password spraying: failed logins from one address,
// whatever the account, fill a bucket of capacity max that drains at max
// per window. While it is full every login from that address is refused
// without hashing; an address that stays under the rate (typos of the
// many operators behind one proxy) is never refused.
type sourceLimit struct {
	max    float64
	window time.Duration
	mu     sync.Mutex
	m      map[string]*bucket
}

type bucket struct {
	level float64
	at    time.Time
}

func newSourceLimit(maxFailures int, window time.Duration) *sourceLimit {
	return &sourceLimit{max: float64(maxFailures), window: window, m: map[string]*bucket{}}
}

// levelAt is b's level drained up to now.
func (l *sourceLimit) levelAt(b bucket, now time.Time) float64 {
	drained := l.max * float64(now.Sub(b.at)) / float64(l.window)
	return math.Max(0, b.level-math.Max(0, drained))
}

// limited says how long the address is still refused (0: not).
func (l *sourceLimit) limited(source string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[source]
	if b == nil {
		return 0
	}
	over := l.levelAt(*b, now) - (l.max - 1)
	if over <= 0 {
		return 0
	}
	return time.Duration(over * float64(l.window) / l.max)
}

// fail adds a failure from source; it returns the bucket as it is now.
func (l *sourceLimit) fail(source string, now time.Time) bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[source]
	if b == nil {
		if len(l.m) >= 100000 {
			l.gc(now)
		}
		b = &bucket{}
		l.m[source] = b
	}
	b.level, b.at = l.levelAt(*b, now)+1, now
	return *b
}

// merge takes a record replicated from the store: the fuller bucket wins.
func (l *sourceLimit) merge(source string, in bucket, now time.Time) {
	lv := l.levelAt(in, now)
	if lv <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[source]
	if b == nil {
		b = &bucket{}
		l.m[source] = b
	}
	if lv > l.levelAt(*b, now) {
		b.level, b.at = lv, now
	}
}

// gc drops drained buckets, so a spray of addresses cannot grow the map.
func (l *sourceLimit) gc(now time.Time) {
	for k, b := range l.m {
		if l.levelAt(*b, now) == 0 {
			delete(l.m, k)
		}
	}
}
