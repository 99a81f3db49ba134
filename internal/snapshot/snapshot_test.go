package snapshot

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// A snapshot loads once, answers from memory, reloads when the revision
// moves (checked at most every interval) or at once when invalidated,
// and keeps its value when the store cannot be read.
func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	var rev, loads atomic.Int64
	var failing atomic.Bool
	s := New(50*time.Millisecond,
		func(context.Context) (int64, error) {
			if failing.Load() {
				return 0, errors.New("store closed")
			}
			return rev.Load(), nil
		},
		func(context.Context) (int64, error) { return loads.Add(1) * 10, nil })
	get := func() int64 {
		t.Helper()
		v, err := s.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := get(); v != 10 {
		t.Fatalf("first load %d", v)
	}
	for range 100 {
		get()
	}
	if loads.Load() != 1 {
		t.Fatalf("%d loads without a change", loads.Load())
	}
	rev.Store(1)
	if v := get(); v != 10 {
		t.Fatalf("reloaded before the interval: %d", v)
	}
	time.Sleep(60 * time.Millisecond)
	if v := get(); v != 20 {
		t.Fatalf("a moved revision not reloaded after the interval: %d", v)
	}
	s.Invalidate()
	if v := get(); v != 30 {
		t.Fatalf("invalidated, not reloaded: %d", v)
	}
	failing.Store(true)
	s.Invalidate()
	time.Sleep(60 * time.Millisecond)
	if v := get(); v != 30 {
		t.Fatalf("a failed refresh changed the value: %d", v)
	}
	failing.Store(false)
	if v := get(); v != 40 {
		t.Fatalf("the invalidation lost by the failure: %d", v)
	}
}

// The first load's failure is the caller's: there is no value to keep.
func TestSnapshotFirstLoadFails(t *testing.T) {
	s := New(time.Second, func(context.Context) (int64, error) { return 0, errors.New("not open") },
		func(context.Context) (string, error) { return "x", nil })
	if _, err := s.Get(context.Background()); err == nil {
		t.Fatal("no error")
	}
}
