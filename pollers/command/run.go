package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/internal/credential"
)

// Output bounds: what a command prints beyond them is read and dropped
// (so it never blocks on a full pipe) and said to be cut.
const (
	maxStdout = 64 << 10
	maxStderr = 4 << 10
)

// Check runs the command once, killing its whole process group at the
// deadline.
func (checker) Check(ctx context.Context, env check.Env, t check.Target, raw json.RawMessage) check.Result {
	p, err := parse(raw)
	if err != nil {
		return check.Failed(err, "")
	}
	secret, err := credential.Open(ctx, env, p.Credential, "add it under Credentials")
	if err != nil {
		return check.Failed(err, "")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout(env))
		defer cancel()
	}
	cmd := build(ctx, p, t, secret)
	stdout, stderr := &capped{max: maxStdout}, &capped{max: maxStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	start := time.Now()
	err = cmd.Run()
	raw2 := rawText(stdout, stderr)
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return check.Failed(fmt.Errorf("%s: no result within %v (killed): %w", cmd.Path, time.Since(start).Round(time.Millisecond), ctx.Err()), raw2)
	case errors.As(err, &exit) && exit.ExitCode() < 0:
		return check.Failed(fmt.Errorf("%s: %v", cmd.Path, exit), raw2)
	case err != nil && !errors.As(err, &exit):
		return check.Failed(fmt.Errorf("%s: %w (check the path and that it is executable)", cmd.Path, err), raw2)
	}
	items := parseLines(stdout.buf.Bytes())
	items = append(items, check.Num(ExitCode, float64(cmd.ProcessState.ExitCode()), ""))
	return check.Result{Items: items, Raw: raw2}
}

// timeout bounds a command whose context has no deadline (the runner
// always sets one; a unit test or a caller may not).
func timeout(env check.Env) time.Duration {
	if env.Timeout > 0 {
		return env.Timeout
	}
	return time.Minute
}

// build makes the command: its own process group (so a timeout kills
// what it started too), a clean environment (the appliance's own must not
// leak into an operator's script), and a bounded wait for pipes left open
// by grandchildren.
func build(ctx context.Context, p Params, t check.Target, secret string) *exec.Cmd {
	var cmd *exec.Cmd
	if p.Shell != "" {
		cmd = exec.CommandContext(ctx, "/bin/sh", "-c", substitute(p.Shell, t, true))
	} else {
		args := make([]string, len(p.Argv))
		for i, a := range p.Argv {
			args[i] = substitute(a, t, false)
		}
		cmd = exec.CommandContext(ctx, args[0], args[1:]...)
	}
	cmd.Dir = os.TempDir()
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
		"MAMORI_ADDRESS=" + t.Address, "MAMORI_NODE=" + t.NodeID, "MAMORI_NODE_NAME=" + t.Name}
	if secret != "" {
		cmd.Env = append(cmd.Env, "MAMORI_CREDENTIAL="+secret)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	return cmd
}

// capped keeps the first max bytes written and counts the rest.
type capped struct {
	buf     bytes.Buffer
	max     int
	dropped int
}

func (c *capped) Write(b []byte) (int, error) {
	room := c.max - c.buf.Len()
	if room >= len(b) {
		return c.buf.Write(b)
	}
	c.buf.Write(b[:max(room, 0)])
	c.dropped += len(b) - max(room, 0)
	return len(b), nil
}

func (c *capped) String() string {
	s := strings.ToValidUTF8(c.buf.String(), "\uFFFD")
	if c.dropped > 0 {
		s += fmt.Sprintf("\n… %d more bytes not kept", c.dropped)
	}
	return s
}

func rawText(stdout, stderr *capped) string {
	s := stdout.String()
	if stderr.buf.Len() > 0 {
		s += "\n--- stderr ---\n" + stderr.String()
	}
	return check.Clip(s)
}
