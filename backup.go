package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mamori-ops/mamori/api"
	"github.com/mamori-ops/mamori/appliance/backup"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/internal/config"
)

// backupCmd writes an encrypted archive of the running appliance: the
// store's snapshot comes from the appliance itself (only the running
// process can copy its store consistently); the identity, secrets key and
// pair state are read from the data directory by this command, which must
// read the node key anyway to call the appliance. Those files change only
// at pairing, each is replaced atomically, and the appliance accepted this
// command's certificate under the CA it read: they are the ones it serves with.
func backupCmd(ctx context.Context, args []string) error {
	var out, passFile *string
	cfg, fs, err := loadConfig("backup", args, func(fs *flag.FlagSet) {
		out = fs.String("out", "", "archive to write")
		passFile = fs.String("passphrase-file", "", "file whose first line is the passphrase (default: read it from stdin)")
	})
	if err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: backup needs --out FILE", errUsage)
	}
	pass, err := readPassphrase(*passFile)
	if err != nil {
		return err
	}
	start := time.Now()
	var st api.ClusterStatus
	if err := callLocal(ctx, cfg, http.MethodGet, "/api/v1/cluster", nil, &st, 10*time.Second); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	work, err := os.MkdirTemp(filepath.Dir(*out), ".mamori-backup-")
	if err != nil {
		return fmt.Errorf("backup: %w: choose an --out in a writable directory", err)
	}
	defer os.RemoveAll(work)
	db := filepath.Join(work, backup.DBName)
	if err := downloadSnapshot(ctx, cfg, db); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	sums, err := store.FileChecksums(db)
	if err != nil {
		return fmt.Errorf("backup: the snapshot received is not usable (%w): run the backup again", err)
	}
	ca, err := pairing.Identity{Dir: filepath.Join(cfg.DataDir, "tls")}.CACert()
	if err != nil {
		return fmt.Errorf("backup: CA certificate: %w", err)
	}
	m := backup.Manifest{Version: version, NodeID: st.NodeID, Role: string(st.Role), Created: time.Now().UTC(), Epoch: st.Epoch,
		CAFingerprint: pairing.FormatFingerprint(sha256.Sum256(ca.Raw)), Tables: sums}
	m, size, err := writeArchive(*out, work, backup.Key{Passphrase: pass}, m, backup.Sources(cfg.DataDir, db, configPath(fs)))
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Printf("backup of %s (%s, epoch %d) written to %s: %s, %d tables, %d files, in %s\nCA fingerprint: %s\n",
		m.NodeID, m.Role, m.Epoch, *out, inMiB(size), len(m.Tables), len(m.Files), time.Since(start).Round(time.Millisecond), m.CAFingerprint)
	return nil
}

func configPath(fs *flag.FlagSet) string {
	if f := fs.Lookup("config"); f != nil {
		return f.Value.String()
	}
	return ""
}

// downloadSnapshot saves the appliance's store snapshot to path.
func downloadSnapshot(ctx context.Context, cfg config.Config, path string) error {
	c, base, err := localClient(cfg, 0)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/internal/v1/backup/store", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("mamori is not answering on %s (%v): is it running? (systemctl status mamori)", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return decodeAnswer(resp, nil)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	p := newProgress("store snapshot received")
	defer p.stop()
	if _, err := io.Copy(io.MultiWriter(f, p), resp.Body); err != nil {
		return fmt.Errorf("store snapshot: %w: run the backup again", err)
	}
	return f.Close()
}

// writeArchive writes the archive to a temporary file beside out, reads
// it back to verify it, and renames it over out. It returns the size.
func writeArchive(out, work string, k backup.Key, m backup.Manifest, srcs []backup.Source) (backup.Manifest, int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(out), ".mamori-backup-*.partial")
	if err != nil {
		return m, 0, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := tmp.Chmod(0o600); err != nil {
		return m, 0, err
	}
	p := newProgress("archive written")
	m, err = backup.Write(io.MultiWriter(tmp, p), k, m, srcs)
	p.stop()
	if err == nil {
		err = tmp.Sync()
	}
	if err != nil {
		return m, 0, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return m, 0, err
	}
	if _, err := backup.Verify(bufio.NewReader(tmp), k); err != nil {
		return m, 0, fmt.Errorf("the archive written does not read back (%w): check the disk of %s", err, out)
	}
	if err := tmp.Close(); err != nil {
		return m, 0, err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return m, 0, err
	}
	return m, p.n.Load(), nil
}

// restoreCmd installs a backup into an empty data directory of a stopped
// appliance; its next start loads the store (serve.go, restoreStore).
func restoreCmd(_ context.Context, args []string) error {
	var in, passFile *string
	cfg, _, err := loadConfig("restore", args, func(fs *flag.FlagSet) {
		in = fs.String("in", "", "archive written by `mamori backup`")
		passFile = fs.String("passphrase-file", "", "file whose first line is the passphrase (default: read it from stdin)")
	})
	if err != nil {
		return err
	}
	if *in == "" {
		return fmt.Errorf("%w: restore needs --in FILE", errUsage)
	}
	f, err := os.Open(*in)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	lock, err := prepareDataDir(cfg.DataDir)
	if errors.Is(err, errDataDirInUse) {
		return fmt.Errorf("restore: mamori is running with data directory %s: stop mamori (systemctl stop mamori) and restore into an empty data directory", cfg.DataDir)
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer lock.Close()
	if err := backup.CheckFresh(cfg.DataDir); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	pass, err := readPassphrase(*passFile)
	if err != nil {
		return err
	}
	staged, err := os.MkdirTemp(cfg.DataDir, ".restore-")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(staged)
	m, err := backup.Extract(bufio.NewReader(f), backup.Key{Passphrase: pass}, staged)
	if err != nil {
		return fmt.Errorf("restore: %s: %w", *in, err)
	}
	done, err := backup.Install(cfg.DataDir, staged, m, cfg.Node.ID, nodeIPs(cfg), time.Now())
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	printRestored(cfg, m, done)
	return nil
}

func printRestored(cfg config.Config, m backup.Manifest, done backup.Installed) {
	fmt.Printf("restored the backup of %s taken %s (%d tables) into %s\nCA fingerprint: %s\n",
		m.NodeID, m.Created.Format(time.RFC3339), len(m.Tables), cfg.DataDir, m.CAFingerprint)
	if done.Reissued {
		fmt.Printf("node certificate issued anew from the restored CA for %s\n", cfg.Node.ID)
	}
	if done.Config != "" {
		fmt.Printf("the backed-up configuration is in %s: compare it with this appliance's\n", done.Config)
	}
	fmt.Println("Start mamori (systemctl start mamori): it loads the store and comes up as the first appliance of a new pair;\npair a second appliance with `mamori pair init` there.")
}

// readPassphrase reads one line from file, or from stdin when file is "".
func readPassphrase(file string) (string, error) {
	r, from := io.Reader(os.Stdin), "stdin"
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("passphrase file: %w", err)
		}
		defer f.Close()
		r, from = f, file
	}
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("passphrase from %s: %w", from, err)
	}
	pass := strings.TrimRight(line, "\r\n")
	if pass == "" {
		return "", fmt.Errorf("empty passphrase from %s: give one line (--passphrase-file F, or on stdin)", from)
	}
	if len([]rune(pass)) < 12 {
		fmt.Fprintln(os.Stderr, "warning: the passphrase is shorter than 12 characters: the archive holds the CA and secrets keys")
	}
	return pass, nil
}

// progress counts bytes and reports them on stderr every few seconds.
type progress struct {
	what string
	n    atomic.Int64
	done chan struct{}
}

func newProgress(what string) *progress {
	p := &progress{what: what, done: make(chan struct{})}
	go func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				if p.n.Load() == 0 {
					continue // scrypt, or the snapshot being taken
				}
				fmt.Fprintf(os.Stderr, "%s: %s\n", p.what, inMiB(p.n.Load()))
			}
		}
	}()
	return p
}

func (p *progress) Write(b []byte) (int, error) { p.n.Add(int64(len(b))); return len(b), nil }

func (p *progress) stop() {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
}

func inMiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
