// Package pkgtest tests the mamori packages as a user meets them: their
// contents and metadata (dpkg-deb, rpm), the maintainer scripts against
// logging stand-ins of useradd and systemctl, and the .deb installed,
// run, upgraded and purged in a clean Debian root made by debootstrap
// (the .rpm installed, upgraded and erased there by Debian's rpm);
// two such roots, each in its own network namespace, pair through the
// API (BENCH install_to_paired_s).
//
// It needs root, MAMORI_BIN (the static binary of make build), dpkg-deb,
// rpm, debootstrap and iproute2; `make package-test` provides them all.
package pkgtest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// distDir holds the packages the tests build, one pair per version.
var distDir string

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "mamori-pkgtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	distDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// binary is the mamori binary under test, or skips saying how to get one.
func binary(t testing.TB) string {
	bin := os.Getenv("MAMORI_BIN")
	if bin == "" {
		t.Skip("MAMORI_BIN is not set: run `make package-test` (it builds bin/mamori first)")
	}
	return bin
}

// need skips with the reason when a tool is missing or we are not root.
func need(t testing.TB, root bool, tools ...string) {
	if root && os.Geteuid() != 0 {
		t.Skip("needs root (chroot, mounts, network namespaces): run `make package-test` as root")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: `make deps` installs it", tool)
		}
	}
}

// repoRoot is the repository's top directory (this package is test/package).
func repoRoot(t testing.TB) string {
	d, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type packages struct{ deb, rpm, version string }

var (
	buildMu sync.Mutex
	built   = map[string]packages{}
)

// buildPackages builds the deb and rpm with packaging/build.sh, as make
// package does; version "" is packaging/version.sh's. Built once per
// version per run.
func buildPackages(t testing.TB, version string) packages {
	t.Helper()
	bin := binary(t)
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[version]; ok {
		return p
	}
	out := filepath.Join(distDir, "v"+fmt.Sprint(len(built)))
	cmd := exec.Command("packaging/build.sh", bin, out)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "VERSION="+version)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("packaging/build.sh: %v\n%s", err, stderr.String())
	}
	paths := strings.Fields(string(stdout))
	if len(paths) != 2 {
		t.Fatalf("packaging/build.sh printed %q, want the deb and rpm paths", stdout)
	}
	p := packages{deb: paths[0], rpm: paths[1]}
	p.version = strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p.deb), "mamori_"), "_amd64.deb")
	built[version] = p
	return p
}

// run runs a command and returns its combined output; it fails the test
// when the command fails.
func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// lines splits output into its non-empty lines.
func lines(s string) []string {
	var ls []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			ls = append(ls, l)
		}
	}
	return ls
}

// execOutput runs a command and returns its combined output and error.
func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
