package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// runMamori runs the binary and returns its output and exit code.
func runMamori(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cluster.Binary(t), args...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("mamori %v: %v", args, err)
	return "", -1
}

func TestBadConfigurationAndDataDirectory(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	blocker := filepath.Join(dir, "a-file")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"broken yaml", "node: [unclosed\n", "invalid configuration"},
		{"unknown key", "data_dir: " + data + "\nnode:\n  idd: x\n", "idd"},
		{"bad port", "data_dir: " + data + "\ncluster:\n  port: 70000\n", "cluster.port"},
		{"bad address", "data_dir: " + data + "\nnode:\n  address: not-an-ip\n", "node.address"},
		{"bad duration", "data_dir: " + data + "\nha:\n  detection_time: soon\n", "detection_time"},
		{"detection too short", "data_dir: " + data + "\nha:\n  detection_time: 100ms\n", "ha.detection_time"},
		{"witness mode without witness", "data_dir: " + data + "\nha:\n  mode: witness\n", "ha.witness"},
		{"unknown mode", "data_dir: " + data + "\nha:\n  mode: cluster\n", "ha.mode"},
		{"unwritable data directory", "data_dir: " + filepath.Join(blocker, "data") + "\nnode:\n  address: 127.0.0.1\n", "data directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			if err := os.WriteFile(cfg, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			out, code := runMamori(t, "serve", "--config", cfg)
			if code != 1 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, output:\n%s\nwant exit 1 and %q", code, out, tc.want)
			}
			if _, err := os.Stat(data); err == nil {
				t.Fatal("a rejected configuration created the data directory")
			}
		})
	}
	t.Run("missing config file", func(t *testing.T) {
		out, code := runMamori(t, "serve", "--config", filepath.Join(dir, "nope.yaml"))
		if code != 1 || !strings.Contains(out, "nope.yaml") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
}

func TestCommandLineMistakes(t *testing.T) {
	skipShort(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "Usage"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"pair without subcommand", []string{"pair"}, 2, "pair needs init or join"},
		{"join without code", []string{"pair", "join", "--peer", "127.0.0.1:1"}, 2, "--code"},
		{"status, nothing running", []string{"status", "--data-dir", t.TempDir()}, 1, "mamori serve"},
		{"witness without listen", []string{"witness", "serve"}, 2, "--listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runMamori(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, output:\n%s\nwant exit %d and %q", code, out, tc.code, tc.want)
			}
		})
	}
}

// Two processes never share a data directory.
func TestDataDirectoryInUse(t *testing.T) {
	skipShort(t)
	sub := cluster.Subnet()
	a := cluster.NewNode(t, "a", sub+".1", cluster.Options{})
	a.Start()
	a.WaitRole(ha.Active, 30*time.Second)
	out, code := runMamori(t, "serve", "--config", a.Config)
	if code != 1 || !strings.Contains(out, "in use") {
		t.Fatalf("second serve on the same data directory: exit %d\n%s", code, out)
	}
	// pair join on a running, fresh appliance goes through its API (online
	// pairing): a bad code is refused there, and nothing changes.
	out, code = runMamori(t, "pair", "join", "--config", a.Config, "--peer", "127.0.0.1:1", "--code", "x")
	if code != 1 || !strings.Contains(out, "not a pairing code") {
		t.Fatalf("pair join with a bad code while serving: exit %d\n%s", code, out)
	}
	if st, err := a.Status(); err != nil || st.Role != ha.Active {
		t.Fatalf("first process disturbed: %+v %v", st, err)
	}
}
