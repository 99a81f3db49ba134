package maintenance

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// MaxMute bounds an ad hoc mute: longer silences are scheduled windows,
// which someone has to look at.
const MaxMute = 7 * 24 * time.Hour

// Mute is an ad hoc request: mute one node, scope or monitor from now for
// a duration (what a script sends before a reboot).
type Mute struct {
	Node    string `json:"node,omitempty"`
	Scope   string `json:"scope,omitempty"`
	Monitor string `json:"monitor,omitempty"`
	// Duration is a Go duration ("2h", "90m"), at most 7 days.
	Duration string `json:"duration"`
	Reason   string `json:"reason"`
	// WindowScope is who sees the window (default: the node's scope, or
	// the scope muted); needed to mute a monitor for a role that does not
	// see every scope.
	WindowScope string `json:"window_scope,omitempty"`
}

// Window turns a mute into a one-off window starting at now, named for
// its target, owned by scope (the window's own scope).
func (m Mute) Window(now time.Time, scope, by string) (Window, error) {
	n := 0
	for _, s := range []string{m.Node, m.Scope, m.Monitor} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return Window{}, invalid("name exactly one of node, scope, monitor")
	}
	d, err := time.ParseDuration(m.Duration)
	if err != nil || d <= 0 || d > MaxMute {
		return Window{}, invalid("duration %q: a duration like 2h or 90m, at most %s", m.Duration, MaxMute)
	}
	if m.Reason == "" {
		return Window{}, invalid("reason: say why (it is shown with every held notification)")
	}
	to := now.Add(d)
	w := Window{ID: "mute-" + randomHex(), Kind: Once, Enabled: true, Scope: scope, From: &now, To: &to, Reason: m.Reason,
		CreatedBy: by, CreatedAt: now, Nodes: []string{}, Scopes: []string{}, Monitors: []string{}}
	switch {
	case m.Node != "":
		w.Name, w.Nodes = "mute node "+m.Node, []string{m.Node}
	case m.Scope != "":
		w.Name, w.Scopes = "mute scope "+m.Scope, []string{m.Scope}
	default:
		w.Name, w.Monitors = "mute monitor "+m.Monitor, []string{m.Monitor}
	}
	return w, w.Validate()
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
