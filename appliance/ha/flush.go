package ha

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
)

// EventsPath is where a standby hands its pending events to the active.
const EventsPath = "/internal/v1/events"

// flushLoop delivers events raised while this node could not write (a
// fence, a recovery): into the store once active, else to the active peer.
func (c *Controller) flushLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if c.rec.PendingCount() == 0 {
			continue
		}
		if c.currentRole() == Active {
			_ = c.rec.Flush(ctx, func(ctx context.Context, evs []events.Event) error { return events.Insert(ctx, c.opts.Events, evs) })
			continue
		}
		if up, b := c.peer(c.now()); up && b.Role == Active {
			_ = c.rec.Flush(ctx, c.sendToPeer)
		}
	}
}

func (c *Controller) sendToPeer(ctx context.Context, evs []events.Event) error {
	c.mu.Lock()
	paths := c.paths
	c.mu.Unlock()
	body, _ := json.Marshal(evs)
	var lastErr error = ErrPeerNotActive
	for _, p := range paths {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+p.addr+EventsPath, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := p.client.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		lastErr = fmt.Errorf("peer refused events: HTTP %d", resp.StatusCode)
	}
	return lastErr
}
