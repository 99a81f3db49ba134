package main

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// The test binary runs as mamori itself when MAMORI_TEST_MAIN is set, so
// these tests see real exit codes and output streams.
func TestMain(m *testing.M) {
	if os.Getenv("MAMORI_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// mamori runs the binary under test with args; it returns stdout,
// stderr and the exit code.
func mamori(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "MAMORI_TEST_MAIN=1", "MAMORI_CONFIG=")
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// commands are every command the usage text lists ("pair join", "doctor").
func commands() []string {
	var out []string
	word := regexp.MustCompile(`^[a-z][a-z-]*$`)
	for line := range strings.SplitSeq(usage, "\n") {
		rest, ok := strings.CutPrefix(line, "  mamori ")
		if !ok {
			continue
		}
		var name []string
		rest, _, _ = strings.Cut(rest, "  ") // the description column
		for _, f := range strings.Fields(rest) {
			if !word.MatchString(f) {
				break
			}
			name = append(name, f)
		}
		out = append(out, strings.Join(name, " "))
	}
	return out
}

func TestEveryCommandHasHelp(t *testing.T) {
	cmds := commands()
	if len(cmds) < 10 {
		t.Fatalf("only %d commands found in the usage: %v", len(cmds), cmds)
	}
	for _, c := range cmds {
		for _, form := range [][]string{append(strings.Fields(c), "--help"), append(strings.Fields(c), "-h"), append([]string{"help"}, strings.Fields(c)...)} {
			t.Run(strings.Join(form, " "), func(t *testing.T) {
				out, errOut, code := mamori(t, form...)
				if code != 0 {
					t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
				}
				if !strings.Contains(out, "mamori "+c) {
					t.Errorf("the usage does not name %q:\n%s", "mamori "+c, out)
				}
			})
		}
	}
}

func TestHelpShowsFlagsWithDefaults(t *testing.T) {
	out, _, code := mamori(t, "pair", "init", "--help")
	if code != 0 || !strings.Contains(out, "-ttl duration") || !strings.Contains(out, "(default 15m0s)") || strings.Contains(out, "mamori pair join") {
		t.Errorf("pair init --help (exit %d):\n%s", code, out)
	}
	out, _, code = mamori(t, "pair", "--help")
	if code != 0 || !strings.Contains(out, "mamori pair init") || !strings.Contains(out, "mamori pair join") {
		t.Errorf("pair --help (exit %d):\n%s", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		says []string
	}{
		{[]string{"status", "--bogus"}, []string{"flag provided but not defined: -bogus", "mamori status", "-json"}},
		{[]string{"pair", "join"}, []string{"pair join needs --peer and --code", "mamori pair join --peer"}},
		{[]string{"status", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"admin"}, []string{"admin needs create", "mamori admin create"}},
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate"`, "mamori serve"}},
		{nil, []string{"no command given", "mamori serve"}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, errOut, code := mamori(t, c.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if out != "" {
				t.Errorf("a usage error printed on stdout: %q", out)
			}
			for _, s := range c.says {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr does not say %q:\n%s", s, errOut)
				}
			}
		})
	}
	// One command's usage, not the whole list.
	if _, errOut, _ := mamori(t, "pair", "join"); strings.Contains(errOut, "mamori serve") {
		t.Errorf("pair join's usage error lists every command:\n%s", errOut)
	}
}

func TestVersion(t *testing.T) {
	re := regexp.MustCompile(`^mamori \S+ \(commit \S+, built \S+\)\n$`)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, _, code := mamori(t, args...)
		if code != 0 || !re.MatchString(out) {
			t.Errorf("%v (exit %d): %q does not match %s", args, code, out, re)
		}
	}
	version, commit, date = "1.2.3", "", ""
	if got := versionLine(); !strings.HasPrefix(got, "mamori 1.2.3 (commit ") || !strings.HasSuffix(got, ", built unknown)") {
		t.Errorf("versionLine() = %q", got)
	}
	version, commit, date = "1.2.3", "abcdef012345", "2026-12-01T10:00:00Z"
	if got := versionLine(); got != "mamori 1.2.3 (commit abcdef012345, built 2026-12-01T10:00:00Z)" {
		t.Errorf("versionLine() = %q", got)
	}
}

func TestDefaultConfigPath(t *testing.T) {
	has := func(string) bool { return true }
	hasNot := func(string) bool { return false }
	cases := []struct {
		env    string
		exists func(string) bool
		want   string
	}{
		{"/tmp/x.yaml", has, "/tmp/x.yaml"},
		{"", has, installedConfig},
		{"", hasNot, ""},
	}
	for _, c := range cases {
		if got := defaultConfigPath(c.env, c.exists); got != c.want {
			t.Errorf("env %q: %q, want %q", c.env, got, c.want)
		}
	}
}
