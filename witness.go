package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/internal/config"
)

// witnessCmd runs the lease arbiter of witness mode on a third host. It
// holds no monitoring data, only who is active and the pair's epoch.
func witnessCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "join" && args[0] != "serve") {
		return fmt.Errorf("%w: witness needs join or serve", errUsage)
	}
	fs := flag.NewFlagSet("witness "+args[0], flag.ContinueOnError)
	dataDir := fs.String("data-dir", "/var/lib/mamori-witness", "witness data directory")
	listen := fs.String("listen", "", "ip:port to serve on (the address the appliances' ha.witness names)")
	id := fs.String("id", "witness", "name of the witness")
	peer := fs.String("peer", "", "join: API address (host:port) of a running appliance of the pair")
	code := fs.String("code", "", "join: pairing code from `mamori pair init` on that appliance")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, "witness "+args[0], args[1:]); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(*listen); err != nil {
		return fmt.Errorf("%w: --listen must be ip:port", errUsage)
	}
	if args[0] == "join" {
		return witnessJoin(ctx, *dataDir, *id, *listen, *peer, *code)
	}
	return witnessServe(ctx, *dataDir, *id, *listen, *logLevel)
}

func witnessJoin(ctx context.Context, dataDir, id, listen, peer, code string) error {
	if peer == "" || code == "" {
		return fmt.Errorf("%w: witness join needs --peer and --code", errUsage)
	}
	host, _, _ := net.SplitHostPort(listen)
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("%w: --listen must name the witness's IP address", errUsage)
	}
	res, err := pairing.JoinPeer(ctx, pairing.JoinOptions{DataDir: dataDir, Peer: peer, Code: code, Role: pairing.RoleWitness,
		Self: ha.NodeInfo{ID: id, ClusterAddr: listen, APIAddrs: []string{listen}}, IPs: []net.IP{ip}})
	if err != nil {
		return fmt.Errorf("witness join: %w", err)
	}
	fmt.Printf("witness certified by %s (CA %s). Start it with: mamori witness serve --listen %s --data-dir %s\n", res.Peer.ID, res.Fingerprint, listen, dataDir)
	return nil
}

func witnessServe(ctx context.Context, dataDir, id, listen, logLevel string) error {
	log := newLogger(config.Log{Level: logLevel, Format: "text"})
	lock, err := prepareDataDir(dataDir)
	if err != nil {
		return err
	}
	defer lock.Close()
	ident := pairing.Identity{Dir: filepath.Join(dataDir, "tls")}
	if !ident.Exists() {
		return fmt.Errorf("no certificate in %s: run `mamori witness join` first", ident.Dir)
	}
	tlsCfg, err := ident.ServerConfig(tls.RequireAndVerifyClientCert)
	if err != nil {
		return err
	}
	w, err := ha.OpenWitness(dataDir, log)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+ha.LeasePath, func(rw http.ResponseWriter, r *http.Request) {
		peer, err := pairing.PeerOf(r.TLS)
		// Only appliances hold leases: not this witness, not another
		// witness of the same CA (a certificate from before roles counts
		// as an appliance unless it is this witness's own).
		if err != nil || peer.ID == id || (peer.Role != pairing.CertAppliance && peer.Role != pairing.CertLegacy) {
			http.Error(rw, "an appliance certificate of this pair is required", http.StatusForbidden)
			return
		}
		node := peer.ID
		var req ha.LeaseRequest
		if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, 4<<10)).Decode(&req); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		reply, err := w.Decide(node, req)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(reply)
	})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("witness port %s: %w", listen, err)
	}
	srv := &http.Server{Handler: mux, TLSConfig: tlsCfg, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(tls.NewListener(ln, tlsCfg)) }()
	log.Info("witness serving", "listen", listen, "id", id)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	_ = os.Stdout.Sync()
	return nil
}
