package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/mamori-ops/mamori/api"
	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/appliance/setup"
	"github.com/mamori-ops/mamori/internal/config"
)

// errReexec: serve stopped after an online join was installed; main
// starts the binary again in place (same process id, same arguments), so
// the appliance comes up as the pair's second appliance without an
// operator. A re-exec rather than an in-process restart: every part is
// built from the data directory afresh, as after any restart, and nothing
// of the single appliance it was (its store, its certificate) lingers.
var errReexec = errors.New("re-forming as the second appliance of the pair")

// reexec replaces this process with a fresh `mamori serve`; it returns
// only if that fails.
func reexec() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("restart after pairing: %w: start mamori again", err)
	}
	return fmt.Errorf("restart after pairing: %w: start mamori again", syscall.Exec(exe, os.Args, os.Environ()))
}

// firstBoot is the appliance side of the web console's first-boot wizard
// (api.Setup): the setup token, and joining a pair while running.
type firstBoot struct {
	cfg config.Config
	log *slog.Logger
	// stop ends this run of serve (set by serve before the API starts).
	stop func(cause error)

	mu     sync.Mutex
	joined *pairing.Joined
}

func (f *firstBoot) Token() string {
	tok, _ := setup.Read(f.cfg.DataDir)
	return tok
}

func (f *firstBoot) Void() {
	if err := setup.Void(f.cfg.DataDir); err != nil {
		f.log.Warn("setup token not removed", "err", err)
	}
}

func (f *firstBoot) Preview(ctx context.Context, peer, code string) (string, bool, error) {
	return pairing.PeerFingerprint(ctx, peer, code)
}

func (f *firstBoot) Join(ctx context.Context, peer, code string) (pairing.JoinResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.joined != nil {
		return pairing.JoinResult{}, fmt.Errorf("%w: this appliance is re-forming as the second appliance of a pair already", ha.ErrPaired)
	}
	j, err := pairing.Exchange(ctx, pairing.JoinOptions{DataDir: f.cfg.DataDir, Peer: peer, Code: code,
		Self: ha.NodeInfo{ID: f.cfg.Node.ID, ClusterAddr: f.cfg.ClusterAddr(), APIAddrs: f.cfg.APIAddrs()}, IPs: nodeIPs(f.cfg)})
	if err != nil {
		return pairing.JoinResult{}, err
	}
	f.joined = j
	f.log.Info("paired online: re-forming as the second appliance", "peer", j.Result().Peer.ID, "ca", j.Result().Fingerprint)
	return j.Result(), nil
}

func (f *firstBoot) Reform() {
	if f.pending() != nil {
		f.stop(errReexec)
	}
}

func (f *firstBoot) pending() *pairing.Joined {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.joined
}

func (f *firstBoot) Info() api.SetupInfo {
	h := f.cfg.HA
	w := h.WitnessAddresses
	if w == nil {
		w = []string{}
	}
	return api.SetupInfo{NodeID: f.cfg.Node.ID, APIAddress: f.cfg.APIAddrs()[0], HAMode: string(h.Mode), Witness: h.Witness,
		WitnessAddresses: w, Reforming: f.pending() != nil}
}

// announce waits until the appliance has a role and, while it has no
// administrator, makes the setup token and says in the log where the
// wizard is; once an administrator exists the token is removed.
func (f *firstBoot) announce(ctx context.Context, ready <-chan struct{}, au *auth.Service) error {
	select {
	case <-ready:
	case <-ctx.Done():
		return nil
	}
	for {
		has, err := au.HasAdministrator(ctx)
		switch {
		case err == nil && has:
			f.Void()
			return nil
		case err == nil:
			tok, err := setup.Ensure(f.cfg.DataDir)
			if err != nil {
				return err
			}
			f.log.Warn("no administrator yet: open the web console to set this appliance up (or run `mamori setup-token` here to see the token again)",
				"url", "https://"+f.cfg.APIAddrs()[0]+"/setup", "setup_token", tok)
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}
