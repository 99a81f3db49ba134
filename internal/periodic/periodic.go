// Package periodic runs a function at a fixed interval until a context ends.
package periodic

import (
	"context"
	"time"
)

// Every calls f with the tick's time every d until ctx ends; it returns nil.
func Every(ctx context.Context, d time.Duration, f func(now time.Time)) error {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			f(now)
		}
	}
}
