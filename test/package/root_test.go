package pkgtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The clean Debian root: debootstrap's minbase of the host's suite, plus
// systemd so that `systemd-analyze verify` and `systemctl enable` run in
// it as on a real server. Made once and kept as a tarball keyed by suite.
const (
	suite    = "bookworm"
	cacheDir = "/var/cache/mamori-test"
)

// mirror is the host's Debian mirror (apt's deb822 sources), else deb.debian.org.
func mirror() string {
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if u, ok := strings.CutPrefix(l, "URIs:"); ok && !strings.Contains(u, "security") {
				return strings.Fields(u)[0]
			}
		}
	}
	return "http://deb.debian.org/debian"
}

// rootTarball returns the cached root, making it first if needed (minutes;
// debootstrap's progress is printed). A lock keeps two runs from making it
// at once.
func rootTarball(t testing.TB) string {
	t.Helper()
	tarball := filepath.Join(cacheDir, "debian-"+suite+"-minbase-systemd.tar")
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(tarball+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tarball); err == nil {
		return tarball
	}
	build, err := os.MkdirTemp(cacheDir, "build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(build)
	start := time.Now()
	t.Logf("making the clean Debian root (debootstrap %s from %s, once; cached in %s)", suite, mirror(), tarball)
	cmd := exec.Command("debootstrap", "--variant=minbase", "--include=systemd", suite, filepath.Join(build, "root"), mirror())
	progress(t, cmd, "debootstrap")
	if err := cmd.Run(); err != nil {
		t.Fatalf("debootstrap: %v (network to %s needed once; see %s/debootstrap/debootstrap.log)", err, mirror(), filepath.Join(build, "root"))
	}
	run(t, "tar", "-C", filepath.Join(build, "root"), "--numeric-owner", "-cf", tarball+".tmp", ".")
	if err := os.Rename(tarball+".tmp", tarball); err != nil {
		t.Fatal(err)
	}
	t.Logf("clean Debian root made in %s", time.Since(start).Round(time.Second))
	return tarball
}

// progress copies a command's output lines to stderr as they come.
func progress(t testing.TB, cmd *exec.Cmd, prefix string) {
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			fmt.Fprintf(os.Stderr, "%s: %s\n", prefix, sc.Text())
		}
	}()
	t.Cleanup(func() { w.Close() })
}

// root is a Debian root extracted from the cached tarball, deleted at
// cleanup once nothing is mounted in it.
type root struct {
	dir    string
	mounts []string
}

func newRoot(t testing.TB) *root {
	t.Helper()
	need(t, true, "debootstrap", "tar", "chroot", "mount")
	tarball := rootTarball(t)
	dir, err := os.MkdirTemp("/var/tmp", "mamori-root-")
	if err != nil {
		t.Fatal(err)
	}
	r := &root{dir: dir}
	t.Cleanup(func() { r.remove(t) })
	run(t, "tar", "-C", dir, "--numeric-owner", "-xpf", tarball)
	return r
}

// mount gives the root /proc, /sys and /dev.
func (r *root) mount(t testing.TB) {
	t.Helper()
	for _, m := range [][]string{
		{"-t", "proc", "proc", r.path("/proc")},
		{"-t", "sysfs", "sysfs", r.path("/sys")},
		{"--bind", "/dev", r.path("/dev")},
	} {
		run(t, "mount", m...)
		r.mounts = append(r.mounts, m[len(m)-1])
	}
}

// remove unmounts what mount mounted and deletes the root; with anything
// still mounted it deletes nothing (never the host's /dev through a bind).
func (r *root) remove(t testing.TB) {
	for i := len(r.mounts) - 1; i >= 0; i-- {
		if err := exec.Command("umount", r.mounts[i]).Run(); err != nil {
			_ = exec.Command("umount", "-l", r.mounts[i]).Run()
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mi), " "+r.dir+"/") {
		t.Errorf("%s still has mounts; not deleting it (umount -R %s; rm -rf %s)", r.dir, r.dir, r.dir)
		return
	}
	os.RemoveAll(r.dir)
}

func (r *root) path(p string) string { return filepath.Join(r.dir, p) }

// chroot runs a command in the root and returns its output; it fails the
// test when the command fails.
func (r *root) chroot(t testing.TB, args ...string) string {
	t.Helper()
	return run(t, "chroot", append([]string{r.dir}, args...)...)
}

// ids returns a user's uid and gid from the root's /etc/passwd, or an
// error when the root has no such user.
func (r *root) ids(user string) (uid, gid int, err error) {
	b, err := os.ReadFile(r.path("/etc/passwd"))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) == 7 && f[0] == user {
			uid, _ = strconv.Atoi(f[2])
			gid, _ = strconv.Atoi(f[3])
			return uid, gid, nil
		}
	}
	return 0, 0, errors.New("no user " + user + " in " + r.path("/etc/passwd"))
}

// passwd returns the root's /etc/passwd line of user ("" when absent).
func (r *root) passwd(user string) string {
	b, _ := os.ReadFile(r.path("/etc/passwd"))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, user+":") {
			return l
		}
	}
	return ""
}

// install copies the .deb into the root and installs it with dpkg -i.
func (r *root) install(t testing.TB, deb string) string {
	t.Helper()
	b, err := os.ReadFile(deb)
	if err != nil {
		t.Fatal(err)
	}
	in := "/tmp/" + filepath.Base(deb)
	if err := os.WriteFile(r.path(in), b, 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(r.path(in))
	return r.chroot(t, "dpkg", "-i", in)
}
