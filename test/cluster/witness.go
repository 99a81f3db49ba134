package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
)

// WitnessNode is a `mamori witness` process (in a namespace, or here).
type WitnessNode struct {
	t       TB
	ns      string
	Listen  string
	dir     string
	bin     string
	LogPath string
	cmd     *exec.Cmd
}

// NewWitness prepares a witness serving on listen (ip:port) inside ns
// ("" = on this host).
func NewWitness(t TB, ns, listen string) *WitnessNode {
	dir := t.TempDir()
	w := &WitnessNode{t: t, ns: ns, Listen: listen, dir: dir, bin: Binary(t), LogPath: filepath.Join(dir, "witness.log")}
	t.Cleanup(func() {
		if w.cmd != nil && w.cmd.Process != nil {
			_ = w.cmd.Process.Kill()
			_ = w.cmd.Wait()
		}
		if t.Failed() {
			b, _ := os.ReadFile(w.LogPath)
			t.Logf("---- witness log ----\n%s", b)
		}
	})
	return w
}

func (w *WitnessNode) command(args ...string) *exec.Cmd {
	if w.ns == "" {
		return exec.Command(w.bin, append([]string{"witness"}, args...)...)
	}
	return exec.Command("ip", append([]string{"netns", "exec", w.ns, w.bin, "witness"}, args...)...)
}

// Join certifies the witness with a pairing code from an appliance.
func (w *WitnessNode) Join(peerAPI, code string) {
	w.t.Helper()
	out, err := w.command("join", "--listen", w.Listen, "--data-dir", filepath.Join(w.dir, "data"), "--peer", peerAPI, "--code", code).CombinedOutput()
	if err != nil {
		w.t.Fatalf("witness join: %v\n%s", err, out)
	}
}

// Start runs the witness.
func (w *WitnessNode) Start() {
	w.t.Helper()
	logf, err := os.Create(w.LogPath)
	if err != nil {
		w.t.Fatal(err)
	}
	w.cmd = w.command("serve", "--listen", w.Listen, "--data-dir", filepath.Join(w.dir, "data"), "--log-level", "debug")
	w.cmd.Stdout, w.cmd.Stderr = logf, logf
	if err := w.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
}
