package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mamori-ops/mamori/api"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/appliance/setup"
	"github.com/mamori-ops/mamori/internal/config"
	"github.com/mamori-ops/mamori/internal/doctor"
)

// localClient calls this appliance's own API with its node certificate,
// which the "self" routes require.
func localClient(cfg config.Config, timeout time.Duration) (*http.Client, string, error) {
	id := pairing.Identity{Dir: filepath.Join(cfg.DataDir, "tls")}
	if _, err := os.Stat(id.CertFile()); errors.Is(err, os.ErrPermission) {
		return nil, "", fmt.Errorf("cannot read this appliance's certificate in %s (permission denied): %s", id.Dir, asServiceUser())
	}
	if !id.Exists() {
		return nil, "", fmt.Errorf("no node identity in %s: has `mamori serve` run on this appliance with this data directory? (start it: systemctl start mamori; or give --config or --data-dir)", cfg.DataDir)
	}
	tc, err := id.ClientConfig()
	if err != nil {
		return nil, "", err
	}
	tc.ServerName = cfg.Node.ID
	return &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: tc}}, "https://" + cfg.APIAddrs()[0], nil
}

// How long a command waits for the appliance: while it starts (the
// store opens, the role is decided, the schema is migrated), and while
// the pair elects an active.
const (
	startingWait = 60 * time.Second
	changingWait = 30 * time.Second
)

// callLocal sends a request to the local API and decodes a JSON answer.
// While the appliance is starting or changing roles it waits (saying so
// on standard error) and then fails with what to do.
func callLocal(ctx context.Context, cfg config.Config, method, path string, in, out any, timeout time.Duration) error {
	c, base, err := localClient(cfg, timeout)
	if err != nil {
		return err
	}
	var payload []byte
	if in != nil {
		payload, _ = json.Marshal(in)
	}
	start, told := time.Now(), ""
	say := func(msg string) {
		if msg != told {
			fmt.Fprintln(os.Stderr, msg)
			told = msg
		}
	}
	for {
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		wait := time.Second
		switch {
		case err != nil && time.Since(start) < startingWait && apiNotOpenYet(cfg):
			say(fmt.Sprintf("mamori is starting (its API on %s is not open yet); waiting up to %d s ...", base, int(startingWait.Seconds())))
		case err != nil:
			return fmt.Errorf("mamori is not answering on %s (%v): is it running? (systemctl status mamori)", base, err)
		default:
			var role string
			var retry bool
			wait, role, retry = transient(resp, cfg.Node.ID)
			limit := changingWait
			if role == string(ha.Starting) {
				limit = startingWait
			}
			if !retry || time.Since(start)+wait > limit {
				defer resp.Body.Close()
				err := decodeAnswer(resp, out)
				if retry && role == string(ha.Starting) {
					return fmt.Errorf("mamori is still starting after %d s (%v): see its log (journalctl -u mamori) and `mamori status`, then try again", int(limit.Seconds()), err)
				}
				return err
			}
			resp.Body.Close()
			if role == string(ha.Starting) {
				say(fmt.Sprintf("mamori is starting (role: %s); waiting up to %d s ...", role, int(startingWait.Seconds())))
			} else {
				say(fmt.Sprintf("this appliance is changing roles (no active appliance known yet): waiting up to %d s ...", int(changingWait.Seconds())))
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// apiNotOpenYet says whether mamori holds the data directory although
// its API did not answer: it has just been started.
func apiNotOpenYet(cfg config.Config) bool {
	pid, err := doctor.Running("/proc", cfg.DataDir)
	return err == nil && pid != 0
}

// transient says whether an answer is a 503 that passes by itself (the
// appliance is starting, the pair is electing, or this appliance is
// re-forming its store) rather than "this is the standby: go to the
// other appliance", how long to wait before asking again, and the role
// the answer names.
func transient(resp *http.Response, self string) (time.Duration, string, bool) {
	if resp.StatusCode != http.StatusServiceUnavailable {
		return 0, "", false
	}
	var e struct {
		ActiveID string `json:"active_id"`
		Role     string `json:"role"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if json.Unmarshal(b, &e) != nil || (e.ActiveID != "" && e.ActiveID != self) {
		return 0, e.Role, false
	}
	wait := time.Second
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		wait = time.Duration(s) * time.Second
	}
	return wait, e.Role, true
}

func decodeAnswer(resp *http.Response, out any) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

func recoverCmd(ctx context.Context, args []string) error {
	cfg, _, err := loadConfig("recover", args, nil)
	if err != nil {
		return err
	}
	fmt.Println("recovering: discarding this appliance's store and rejoining the active appliance as standby ...")
	start := time.Now()
	var st ha.Status
	if err := callLocal(ctx, cfg, http.MethodPost, "/internal/v1/recover", nil, &st, 10*time.Minute); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	fmt.Printf("recovered in %s: %s is %s at epoch %d (active: %s)\n", time.Since(start).Round(time.Millisecond), st.NodeID, st.Role, st.Epoch, st.ActiveID)
	return nil
}

// switchoverCmd moves the active role to the other appliance on purpose:
// before maintenance of the active, and between the two halves of a
// rolling upgrade. It runs on either appliance.
func switchoverCmd(ctx context.Context, args []string) error {
	var timeout *time.Duration
	cfg, _, err := loadConfig("switchover", args, func(fs *flag.FlagSet) {
		timeout = fs.Duration("timeout", time.Minute, "how long the hand-over may take")
	})
	if err != nil {
		return err
	}
	fmt.Println("switchover: the active stops its work, hands the store to the standby and becomes its standby ...")
	var rep ha.SwitchoverReport
	in := map[string]int64{"timeout_ms": timeout.Milliseconds()}
	if err := callLocal(ctx, cfg, http.MethodPost, "/internal/v1/switchover", in, &rep, *timeout+30*time.Second); err != nil {
		return fmt.Errorf("switchover: %w", err)
	}
	how := fmt.Sprintf("drained in %d ms, store handed over in %d ms", rep.DrainMs, rep.TransferMs)
	if rep.Pulled {
		how = fmt.Sprintf("the active is an older build without the hand-over: the store's leadership was taken over in %d ms", rep.TransferMs)
	}
	fmt.Printf("switchover done in %.2f s: %s is active, %s is standby (epoch %d; %s)\n", rep.Seconds, rep.To, rep.From, rep.Epoch, how)
	return nil
}

func statusCmd(ctx context.Context, args []string) error {
	var asJSON *bool
	cfg, _, err := loadConfig("status", args, func(fs *flag.FlagSet) { asJSON = fs.Bool("json", false, "print JSON") })
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := callLocal(ctx, cfg, http.MethodGet, "/api/v1/cluster", nil, &raw, 10*time.Second); err != nil {
		return err
	}
	if *asJSON {
		var buf bytes.Buffer
		_ = json.Indent(&buf, raw, "", "  ")
		fmt.Println(buf.String())
		return nil
	}
	var st api.ClusterStatus
	if err := json.Unmarshal(raw, &st); err != nil {
		return err
	}
	printStatus(os.Stdout, st)
	return nil
}

func printStatus(w io.Writer, st api.ClusterStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintf(tw, "node\t%s\n", st.NodeID)
	fmt.Fprintf(tw, "role\t%s (since %s)\n", st.Role, st.Since.Format(time.RFC3339))
	fmt.Fprintf(tw, "reason\t%s\n", st.Reason)
	fmt.Fprintf(tw, "epoch\t%d\n", st.Epoch)
	fmt.Fprintf(tw, "mode\t%s (auto recover: %v)\n", st.Mode, st.AutoRecover)
	fmt.Fprintf(tw, "active\t%s %s\n", orDash(st.ActiveID), strings.Join(st.ActiveAPI, ","))
	fmt.Fprintf(tw, "store\t%s, applied %d, commit %d, lag %d entries, leader %s\n",
		st.Store.RaftState, st.Store.AppliedIndex, st.Store.CommitIndex, st.LagEntries, orDash(st.Store.LeaderID))
	if p := st.Peer; p != nil {
		fmt.Fprintf(tw, "peer\t%s reachable=%v role=%s epoch=%d version=%s\n", p.ID, p.Reachable, orDash(string(p.Role)), p.Epoch, orDash(p.Version))
		for _, ps := range p.Paths {
			fmt.Fprintf(tw, "  path %s\tup=%v rtt=%.1fms %s\n", ps.Addr, ps.Up, ps.RTTms, ps.Error)
		}
	} else {
		fmt.Fprintf(tw, "peer\t- (not paired)\n")
	}
	if wt := st.Witness; wt != nil {
		fmt.Fprintf(tw, "witness\t%s %s ok=%v %s\n", wt.Mode, strings.Join(wt.Addresses, ","), wt.OK, wt.Error)
	}
	if f := st.LastFailover; f != nil {
		fmt.Fprintf(tw, "last failover\t%s: %s\n", f.At.Format(time.RFC3339), f.Message)
	}
	if p := st.Promotion; p != nil {
		fmt.Fprintf(tw, "promoted\tepoch %d at %s (senior: %v)\n", p.Epoch, p.At.Format(time.RFC3339), p.Senior)
	}
	if !st.HoldUntil.IsZero() {
		fmt.Fprintf(tw, "hold\tno promotion until %s (connectivity just returned, or the process was paused)\n", st.HoldUntil.Format(time.RFC3339))
	}
	if st.Yielded != "" {
		fmt.Fprintf(tw, "split brain\tyielded to %s: run `mamori recover`; what this appliance wrote since is merged into %s\n", st.Yielded, st.Yielded)
	}
	for _, o := range st.OldStores {
		merged := "NOT MERGED YET (kept until merged)"
		if m := o.Merge; m != nil {
			merged = fmt.Sprintf("merged %s: %d events, %d audit entries", m.At.Format(time.RFC3339), m.Events, m.Audit)
			if len(m.Settings) > 0 {
				merged += fmt.Sprintf("; %d settings differ (see the ha.merged event)", len(m.Settings))
			}
		}
		fmt.Fprintf(tw, "old store\t%s (%.1f MiB): %s\n", o.Path, float64(o.Bytes)/(1<<20), merged)
	}
	fmt.Fprintf(tw, "active work\t%s\n", orDash(strings.Join(st.ActiveWork, ",")))
	if in := st.Ingest; in != nil {
		switch in.Target {
		case "local":
			fmt.Fprintf(tw, "ingest\tspool %.1f MiB, %d records waiting to be stored here (active), %d stored since start\n",
				float64(in.SpoolBytes)/(1<<20), in.Waiting, in.Forwarded)
		default:
			fmt.Fprintf(tw, "ingest\tspool %.1f MiB, %d records waiting to be forwarded to %s, %d forwarded since start\n",
				float64(in.SpoolBytes)/(1<<20), in.Waiting, orDash(in.Target), in.Forwarded)
		}
		if in.LastError != "" {
			fmt.Fprintf(tw, "  forwarding\tretrying: %s\n", in.LastError)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func pairCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: pair needs init or join", errUsage)
	}
	switch args[0] {
	case "init":
		return pairInit(ctx, args[1:])
	case "join":
		return pairJoin(ctx, args[1:])
	}
	return fmt.Errorf("%w: unknown pair command %q", errUsage, args[0])
}

func pairInit(ctx context.Context, args []string) error {
	var ttl *time.Duration
	cfg, _, err := loadConfig("pair init", args, func(fs *flag.FlagSet) {
		ttl = fs.Duration("ttl", 15*time.Minute, "how long the code stays valid")
	})
	if err != nil {
		return err
	}
	var out struct {
		Code        string    `json:"code"`
		Expires     time.Time `json:"expires"`
		Fingerprint string    `json:"ca_fingerprint"`
	}
	if err := callLocal(ctx, cfg, http.MethodPost, "/internal/v1/pair/code", map[string]any{"ttl_seconds": int(ttl.Seconds())}, &out, 10*time.Second); err != nil {
		return fmt.Errorf("pair init: %w", err)
	}
	fmt.Printf("pairing code: %s\nvalid until:  %s (one use)\nCA fingerprint: %s\n\nOn the second appliance, with mamori stopped there, run:\n  mamori pair join --peer %s --code %s\n",
		out.Code, out.Expires.Format(time.RFC3339), out.Fingerprint, cfg.APIAddrs()[0], out.Code)
	return nil
}

func pairJoin(ctx context.Context, args []string) error {
	var peer, code *string
	cfg, _, err := loadConfig("pair join", args, func(fs *flag.FlagSet) {
		peer = fs.String("peer", "", "API address (host:port) of the first appliance")
		code = fs.String("code", "", "pairing code printed by `mamori pair init` there")
	})
	if err != nil {
		return err
	}
	if *peer == "" || *code == "" {
		return fmt.Errorf("%w: pair join needs --peer and --code", errUsage)
	}
	lock, err := prepareDataDir(cfg.DataDir)
	if errors.Is(err, errDataDirInUse) {
		return pairJoinOnline(ctx, cfg, *peer, *code)
	}
	if err != nil {
		return fmt.Errorf("pair join: %w", err)
	}
	defer lock.Close()
	res, err := pairing.JoinPeer(ctx, pairing.JoinOptions{DataDir: cfg.DataDir, Peer: *peer, Code: *code,
		Self: ha.NodeInfo{ID: cfg.Node.ID, ClusterAddr: cfg.ClusterAddr(), APIAddrs: cfg.APIAddrs()}, IPs: nodeIPs(cfg)})
	if err != nil {
		return fmt.Errorf("pair join: %w", err)
	}
	fmt.Printf("paired with %s (CA %s).\nStart mamori on this appliance (systemctl start mamori) to join its store as standby.\n", res.Peer.ID, res.Fingerprint)
	return nil
}

// pairJoinOnline joins through the running appliance's own first-boot
// route (the wizard's), with the setup token read from the data
// directory: the appliance re-forms itself as the second of the pair.
func pairJoinOnline(ctx context.Context, cfg config.Config, peer, code string) error {
	tok, err := setup.Read(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("pair join: mamori is running here and %w in %s: this appliance has an administrator, so it is not fresh; stop mamori to join offline", err, cfg.DataDir)
	}
	var pv struct {
		Fingerprint string `json:"fingerprint"`
	}
	in := map[string]string{"token": tok, "peer": peer, "code": code}
	if err := callLocal(ctx, cfg, http.MethodPost, "/api/v1/setup/pair/preview", in, &pv, 30*time.Second); err != nil {
		return fmt.Errorf("pair join: %w", err)
	}
	fmt.Printf("%s presents CA %s, which matches the code.\n", peer, pv.Fingerprint)
	in["fingerprint"] = pv.Fingerprint
	var out struct {
		PeerID      string `json:"peer_id"`
		Fingerprint string `json:"fingerprint"`
	}
	if err := callLocal(ctx, cfg, http.MethodPost, "/api/v1/setup/pair/join", in, &out, 2*time.Minute); err != nil {
		return fmt.Errorf("pair join: %w", err)
	}
	fmt.Printf("paired with %s (CA %s).\nmamori is restarting on this appliance to join its store as standby (see `mamori status`).\n", out.PeerID, out.Fingerprint)
	return nil
}

func setupTokenCmd(_ context.Context, args []string) error {
	cfg, _, err := loadConfig("setup-token", args, nil)
	if err != nil {
		return err
	}
	tok, err := setup.Read(cfg.DataDir)
	if errors.Is(err, setup.ErrNoToken) {
		return fmt.Errorf("%w in %s: this appliance has an administrator already (log in), or `mamori serve` has not started yet (systemctl start mamori)", err, cfg.DataDir)
	}
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("cannot read the setup token in %s (permission denied): %s", cfg.DataDir, asServiceUser())
	}
	if err != nil {
		return err
	}
	fmt.Printf("setup token: %s\nopen https://%s/setup and enter it (valid until an administrator exists)\n", tok, cfg.APIAddrs()[0])
	return nil
}
