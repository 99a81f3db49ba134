package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mamori-ops/mamori/appliance/store"
)

// sendTimeout bounds one attempt of one notification (a command's own
// timeout may be longer).
const sendTimeout = 30 * time.Second

// sendLoop sends what is recorded and due, a batch at a time, until ctx ends.
func (n *Notifier) sendLoop(ctx context.Context) {
	t := time.NewTicker(n.opts.Tick)
	defer t.Stop()
	for {
		for n.sendDue(ctx) {
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.wake:
		}
	}
}

// sendDue sends one batch; it says whether a full batch went (more may
// wait). Channels send in parallel, each in record order (a recovery
// never overtakes its problem); a failure defers the channel's rest.
func (n *Notifier) sendDue(ctx context.Context) bool {
	const batch = 64
	ns, err := due(ctx, n.opts.Store, n.opts.Now(), batch)
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, store.ErrNotLeader) {
			n.opts.Log.Warn("notify: cannot read the outbox", "err", err)
		}
		return false
	}
	byChannel := map[string][]Notification{}
	for _, nt := range ns {
		byChannel[nt.Channel] = append(byChannel[nt.Channel], nt)
	}
	sem := make(chan struct{}, n.opts.Senders)
	var wg sync.WaitGroup
	for _, queue := range byChannel {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			for _, nt := range queue {
				if !n.sendOne(ctx, nt) {
					return
				}
			}
		}()
	}
	wg.Wait()
	return len(ns) == batch && ctx.Err() == nil
}

// sendOne makes one attempt and records its outcome; false: it failed.
func (n *Notifier) sendOne(ctx context.Context, nt Notification) bool {
	n.mu.Lock()
	ch, ok := n.channels[nt.Channel]
	n.mu.Unlock()
	var err error
	if !ok {
		err = fmt.Errorf("channel %q does not exist (deleted?): create it, or remove it from rule %q", nt.Channel, nt.Rule)
	} else {
		sctx, cancel := context.WithTimeout(ctx, sendTimeout+commandTimeout(ch))
		err = n.deliver(sctx, ch, nt)
		cancel()
	}
	if ctx.Err() != nil {
		return false // stopping: the next active sends it (same key)
	}
	n.mark(ctx, nt, err)
	return err == nil
}

// mark records the outcome of an attempt: sent, a retry later, or failed
// after the last attempt.
func (n *Notifier) mark(ctx context.Context, nt Notification, sendErr error) {
	now := n.opts.Now()
	var st store.Statement
	if sendErr == nil {
		st = store.Statement{SQL: `UPDATE notify_outbox SET status = ?, sent_at = ?, attempts = attempts + 1, error = '' WHERE key = ? AND status = ?`,
			Args: []any{Sent, fmtTime(now), nt.Key, Recorded}}
		n.sent.Add(1)
	} else {
		attempts := nt.Attempts + 1
		status := Recorded
		if attempts >= n.opts.MaxAttempts {
			status = Failed
			n.failed.Add(1)
		}
		msg := sendErr.Error()
		if len(msg) > 2000 {
			msg = msg[:2000]
		}
		st = store.Statement{SQL: `UPDATE notify_outbox SET status = ?, attempts = ?, next_at = ?, error = ? WHERE key = ? AND status = ?`,
			Args: []any{status, attempts, fmtTime(now.Add(n.backoff(attempts))), msg, nt.Key, Recorded}}
		n.opts.Log.Warn("notify: send failed", "key", nt.Key, "channel", nt.Channel, "attempt", attempts, "err", sendErr)
	}
	if _, err := n.opts.Store.Exec(ctx, st); err != nil {
		// Sent but not marked: the next look sends it again with the
		// same key, which the receiver collapses.
		n.opts.Log.Warn("notify: cannot mark the outcome", "key", nt.Key, "err", err)
	}
}

func (n *Notifier) backoff(attempts int) time.Duration {
	d := n.opts.RetryBase
	for i := 1; i < attempts && d < n.opts.RetryMax; i++ {
		d *= 2
	}
	return min(d, n.opts.RetryMax)
}

// deliver sends nt through ch once.
func (n *Notifier) deliver(ctx context.Context, ch Channel, nt Notification) error {
	v := varsOf(nt)
	switch ch.Type {
	case Mail:
		return n.sendMail(ctx, ch.Mail, v)
	case Webhook:
		return n.sendWebhook(ctx, ch.Webhook, v)
	case Command:
		return runCommand(ctx, ch.Command, v)
	case Syslog:
		return n.sendSyslog(ctx, ch.Syslog, v)
	}
	return fmt.Errorf("channel %q has unknown type %q", ch.ID, ch.Type)
}

func commandTimeout(ch Channel) time.Duration {
	if ch.Command == nil {
		return 0
	}
	d, _ := time.ParseDuration(ch.Command.Timeout)
	return d
}

// SendTest sends a test notification through ch at once (not through
// the outbox) and says whether the receiver took it.
func (n *Notifier) SendTest(ctx context.Context, ch Channel, by string) (Notification, error) {
	if err := ValidateChannel(&ch); err != nil {
		return Notification{}, err
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	now := n.opts.Now().UTC()
	nt := Notification{Key: "test-" + hex.EncodeToString(b[:]), Kind: KindTest, Channel: ch.ID, Monitor: "test",
		MonitorName: "Test notification", Node: n.opts.Host, NodeName: n.opts.Host, Priority: "info",
		Message: "Test notification from mamori, sent by " + by, At: now, Status: Recorded, RecordedAt: now}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout+commandTimeout(ch))
	defer cancel()
	return nt, n.deliver(sctx, ch, nt)
}
