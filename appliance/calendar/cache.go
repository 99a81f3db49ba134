package calendar

import (
	"context"
	"fmt"
	"time"

	"github.com/mamori-ops/mamori/internal/snapshot"
)

// Cache answers Open from memory: every calendar compiled, reloaded when
// the replicated revision changes (checked at most once a second) or at
// once after a change made through this process (Invalidate).
type Cache struct {
	snap *snapshot.Snapshot[map[string]*compiled]
}

// NewCache returns a cache over the store; it does no I/O.
func NewCache(st Store) *Cache {
	return &Cache{snap: snapshot.New(time.Second,
		func(ctx context.Context) (int64, error) { return Revision(ctx, st) },
		func(ctx context.Context) (map[string]*compiled, error) {
			cs, err := List(ctx, st, nil)
			if err != nil {
				return nil, err
			}
			m := make(map[string]*compiled, len(cs))
			for _, c := range cs {
				k, err := compile(c)
				if err != nil {
					// Stored calendars were validated; a zone this
					// system lacks (tzdata) closes only that one.
					k = &compiled{cal: c, loc: time.UTC, days: map[date]dayHours{}, hasTo: true, hasFrom: true, from: date{9999, 1, 1}}
				}
				m[c.ID] = k
			}
			return m, nil
		})}
}

// Invalidate makes the next call reload (a calendar was just written).
func (c *Cache) Invalidate() { c.snap.Invalidate() }

// Open says whether at is inside calendar id's business time; the empty
// id is always open. An unknown calendar is an error wrapping ErrNotFound.
func (c *Cache) Open(ctx context.Context, id string, at time.Time) (bool, error) {
	if id == "" {
		return true, nil
	}
	k, err := c.get(ctx, id)
	if err != nil {
		return false, err
	}
	return k.open(at), nil
}

// Next returns up to n transitions of calendar id after at.
func (c *Cache) Next(ctx context.Context, id string, at time.Time, n int) ([]Transition, error) {
	k, err := c.get(ctx, id)
	if err != nil {
		return nil, err
	}
	return k.transitions(at, n), nil
}

func (c *Cache) get(ctx context.Context, id string) (*compiled, error) {
	m, err := c.snap.Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("calendars: %w", err)
	}
	k, ok := m[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return k, nil
}
