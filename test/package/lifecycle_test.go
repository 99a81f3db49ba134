package pkgtest

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/test/cluster"
)

// The .deb in a clean Debian root: it installs with nothing beyond the
// base system, puts every file where it belongs with the right owner and
// mode, creates the user, enables the unit, whose files systemd accepts;
// the service binary runs there as the service user and answers, `mamori
// setup-token` shows the wizard; an upgrade keeps a changed configuration
// and replaces the binary; a purge leaves nothing behind.
func TestDebInCleanRoot(t *testing.T) {
	need(t, true, "ip")
	p := buildPackages(t, "")
	start := time.Now()
	r := newRoot(t)
	t.Logf("clean root ready in %s", time.Since(start).Round(time.Millisecond))
	r.mount(t)

	out := r.install(t, p.deb)
	if !strings.Contains(out, "mamori installed; start it: systemctl start mamori; then `mamori setup-token` prints the token for https://") {
		t.Errorf("dpkg -i does not say how to start mamori and find the wizard:\n%s", out)
	}
	checkInstalled(t, r)
	if cf, _ := chrootOutput(r, "dpkg-query", "-W", "-f=${Conffiles}", "mamori"); !strings.Contains(cf, "/etc/mamori/mamori.yaml") {
		t.Errorf("dpkg does not know /etc/mamori/mamori.yaml as a conffile: %q", cf)
	}
	if ldd, err := chrootOutput(r, "ldd", "/usr/bin/mamori"); !strings.Contains(ldd, "not a dynamic executable") {
		t.Errorf("ldd in the root: %v\n%s\nwant: not a dynamic executable", err, ldd)
	}
	if v, err := chrootOutput(r, "systemd-analyze", "verify", "/usr/lib/systemd/system/mamori.service", "/usr/lib/systemd/system/mamori-witness.service"); err != nil || v != "" {
		t.Errorf("systemd-analyze verify in the root: %v\n%s", err, v)
	}

	nn := cluster.NewNetns(t)
	ns := nn.Host("deb")
	prepareNetns(t, ns)
	a := startAppliance(t, r, ns, "127.0.0.1:8443")
	a.waitUp(60 * time.Second)
	uid, _, _ := r.ids("mamori")
	if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", a.cmd.Process.Pid)); !strings.Contains(string(st), fmt.Sprintf("\nUid:\t%d\t", uid)) {
		t.Errorf("mamori does not run as the mamori user (uid %d):\n%s", uid, st)
	}
	var setup struct {
		NeedsSetup bool `json:"needs_setup"`
		Paired     bool `json:"paired"`
	}
	if code, err := a.do("", http.MethodGet, "/api/v1/setup", nil, &setup); code != 200 || !setup.NeedsSetup || setup.Paired {
		t.Errorf("GET /api/v1/setup of the installed appliance: HTTP %d %+v %v; want a fresh, unpaired appliance", code, setup, err)
	}
	tok, tokOut := a.setupToken()
	if !strings.Contains(tokOut, "open https://") || !strings.Contains(tokOut, "/setup") {
		t.Errorf("mamori setup-token does not say where the wizard is:\n%s", tokOut)
	}
	if code, err := a.do("", http.MethodPost, "/api/v1/setup/token", map[string]string{"token": tok}, nil); code != 200 {
		t.Errorf("the token of mamori setup-token: HTTP %d %v; want 200", code, err)
	}
	a.stop()
	if log, _ := os.ReadFile(a.log); !strings.Contains(string(log), "/setup") || !strings.Contains(string(log), "mamori setup-token") {
		t.Errorf("the log does not say where the wizard is:\n%s", tail(string(log), 30))
	}

	upgrade(t, r, p)

	// The upgraded binary starts on the data the first one left.
	a = startAppliance(t, r, ns, "127.0.0.1:8443")
	a.waitUp(60 * time.Second)
	a.stop()

	// A file the administrator added (dpkg removes only its conffiles).
	if err := os.WriteFile(r.path("/etc/mamori/metrics.token"), []byte("a-token-of-sixteen-chars\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.chroot(t, "dpkg", "--purge", "mamori")
	for path := range wantFiles {
		if _, err := os.Lstat(r.path(path)); err == nil {
			t.Errorf("%s is still there after dpkg --purge", path)
		}
	}
	for _, path := range []string{"/etc/systemd/system/multi-user.target.wants/mamori.service", "/var/log/mamori"} {
		if _, err := os.Lstat(r.path(path)); err == nil {
			t.Errorf("%s is still there after dpkg --purge", path)
		}
	}
	if l := r.passwd("mamori"); l != "" {
		t.Errorf("the mamori user is still there after dpkg --purge: %s", l)
	}
	if g, _ := chrootOutput(r, "getent", "group", "mamori"); g != "" {
		t.Errorf("the mamori group is still there after dpkg --purge: %s", g)
	}
}

// checkInstalled compares the root with the package's files, and checks
// the user and the enabled unit.
func checkInstalled(t *testing.T, r *root) {
	t.Helper()
	uid, gid, err := r.ids("mamori")
	if err != nil {
		t.Fatalf("dpkg -i made no mamori user: %v", err)
	}
	if want := fmt.Sprintf("mamori:x:%d:%d:mamori appliance:/var/lib/mamori:/usr/sbin/nologin", uid, gid); r.passwd("mamori") != want || uid >= 1000 {
		t.Errorf("mamori user %q, want a system user %q", r.passwd("mamori"), want)
	}
	names := map[uint32]string{0: "root", uint32(uid): "mamori"}
	groups := map[uint32]string{0: "root", uint32(gid): "mamori"}
	for path, want := range wantFiles {
		fi, err := os.Lstat(r.path(path))
		if err != nil {
			t.Errorf("%s is not installed: %v", path, err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		got := entry{fi.Mode().String(), names[st.Uid], groups[st.Gid]}
		if got != want {
			t.Errorf("%s installed as %v, want %v", path, got, want)
		}
	}
	if _, err := os.Lstat(r.path("/etc/systemd/system/multi-user.target.wants/mamori.service")); err != nil {
		t.Errorf("mamori.service is not enabled: %v", err)
	}
}

// upgrade is changeConfigAndUpgrade with dpkg.
func upgrade(t *testing.T, r *root, old packages) {
	t.Helper()
	newer := changeConfigAndUpgrade(t, r, old, func(p packages) { r.install(t, p.deb) })
	if v, _ := chrootOutput(r, "dpkg-query", "-W", "-f=${Version}", "mamori"); v != newer.version+"-1" {
		t.Errorf("installed version after the upgrade %q, want %q", v, newer.version+"-1")
	}
}

// changeConfigAndUpgrade changes a line of the configuration, installs a
// newer build with install and checks the change is kept and the binary
// replaced. It returns the newer packages.
func changeConfigAndUpgrade(t *testing.T, r *root, old packages, install func(packages)) packages {
	t.Helper()
	cfg := r.path("/etc/mamori/mamori.yaml")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(b), "max_connections: 4096", "max_connections: 4000", 1)
	if changed == string(b) {
		t.Fatal("packaging/mamori.yaml has no `max_connections: 4096` line to change")
	}
	if err := os.WriteFile(cfg, []byte(changed), 0o640); err != nil {
		t.Fatal(err)
	}
	var before syscall.Stat_t
	if err := syscall.Stat(r.path("/usr/bin/mamori"), &before); err != nil {
		t.Fatal(err)
	}
	newer := buildPackages(t, old.version+"+up1")
	install(newer)
	if b, _ := os.ReadFile(cfg); string(b) != changed {
		t.Errorf("the upgrade did not keep the changed /etc/mamori/mamori.yaml")
	}
	var after syscall.Stat_t
	if err := syscall.Stat(r.path("/usr/bin/mamori"), &after); err != nil || after.Ino == before.Ino {
		t.Errorf("the upgrade did not replace /usr/bin/mamori (inode %d before, %d after, %v)", before.Ino, after.Ino, err)
	}
	for _, left := range []string{".dpkg-new", ".dpkg-dist", ".dpkg-old", ".rpmnew", ".rpmsave"} {
		if _, err := os.Stat(cfg + left); err == nil {
			t.Errorf("the upgrade left %s%s", cfg, left)
		}
	}
	return newer
}

// chrootOutput runs a command in the root and returns its trimmed output.
func chrootOutput(r *root, args ...string) (string, error) {
	out, err := execOutput("chroot", append([]string{r.dir}, args...)...)
	return strings.TrimSpace(out), err
}

// The .rpm through its own scriptlets (rpm passes numbers, not words):
// Debian's rpm installs it into a clean root (--nodeps: the root's
// packages are dpkg's), upgrades it keeping a changed configuration and
// the unit enabled, and erases it keeping data, configuration and user
// (rpm has no purge).
func TestRpmInCleanRoot(t *testing.T) {
	need(t, true, "rpm")
	p := buildPackages(t, "")
	r := newRoot(t)
	rpm := func(args ...string) string {
		t.Helper()
		return run(t, "rpm", append([]string{"--root", r.dir, "--nodeps"}, args...)...)
	}
	run(t, "rpm", "--root", r.dir, "--initdb")
	if out := rpm("-i", p.rpm); !strings.Contains(out, "mamori installed; start it: systemctl start mamori") {
		t.Errorf("rpm -i does not say how to start mamori:\n%s", out)
	}
	checkInstalled(t, r)
	if cf := run(t, "rpm", "--root", r.dir, "-qc", "mamori"); !strings.Contains(cf, "/etc/mamori/mamori.yaml") {
		t.Errorf("rpm does not know /etc/mamori/mamori.yaml as a config file: %q", cf)
	}
	newer := changeConfigAndUpgrade(t, r, p, func(n packages) { rpm("-U", n.rpm) })
	if v := run(t, "rpm", "--root", r.dir, "-q", "--queryformat", "%{VERSION}", "mamori"); v != newer.version {
		t.Errorf("installed version after rpm -U %q, want %q", v, newer.version)
	}
	// The old package's %preun/%postun ran with 1: nothing disabled or deleted.
	checkInstalled(t, r)

	rpm("-e", "mamori")
	for _, path := range []string{"/usr/bin/mamori", "/usr/lib/systemd/system/mamori.service", "/etc/systemd/system/multi-user.target.wants/mamori.service"} {
		if _, err := os.Lstat(r.path(path)); err == nil {
			t.Errorf("%s is still there after rpm -e", path)
		}
	}
	if _, err := os.Stat(r.path("/etc/mamori/mamori.yaml.rpmsave")); err != nil {
		t.Errorf("rpm -e did not keep the changed configuration as mamori.yaml.rpmsave: %v", err)
	}
	if r.passwd("mamori") == "" {
		t.Errorf("rpm -e deleted the mamori user; only a purge (deb) does")
	}
}
