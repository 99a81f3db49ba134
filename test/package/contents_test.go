package pkgtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// entry is what a package says of one file: mode string, owner, group.
type entry struct{ mode, owner, group string }

// wantFiles is every file and directory of the packages we name
// ourselves, as `ls -l` shows them.
var wantFiles = map[string]entry{
	"/usr/bin/mamori":                                {"-rwxr-xr-x", "root", "root"},
	"/etc/mamori":                                    {"drwxr-xr-x", "root", "root"},
	"/etc/mamori/mamori.yaml":                        {"-rw-r-----", "root", "mamori"},
	"/etc/mamori/witness.env":                        {"-rw-r--r--", "root", "root"},
	"/var/lib/mamori":                                {"drwx------", "mamori", "mamori"},
	"/usr/lib/sysctl.d/60-mamori.conf":               {"-rw-r--r--", "root", "root"},
	"/usr/lib/systemd/system/mamori.service":         {"-rw-r--r--", "root", "root"},
	"/usr/lib/systemd/system/mamori-witness.service": {"-rw-r--r--", "root", "root"},
	"/usr/share/doc/mamori/README.md":                {"-rw-r--r--", "root", "root"},
}

var wantConfig = []string{"/etc/mamori/mamori.yaml", "/etc/mamori/witness.env"}

func TestDebContents(t *testing.T) {
	need(t, false, "dpkg-deb")
	p := buildPackages(t, "")
	info := run(t, "dpkg-deb", "-I", p.deb)
	for _, want := range []string{"Package: mamori", "Version: " + p.version + "-1", "Architecture: amd64", "Section: net", "Maintainer: ", "Description: "} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb -I: no %q in\n%s", want, info)
		}
	}
	for _, field := range []string{"Depends:", "Pre-Depends:"} {
		if strings.Contains(info, field) {
			t.Errorf("dpkg-deb -I: the static binary needs no %s\n%s", field, info)
		}
	}
	for _, script := range []string{"preinst", "postinst", "prerm", "postrm"} {
		if !strings.Contains(info, " "+script+" ") {
			t.Errorf("dpkg-deb -I: no %s script\n%s", script, info)
		}
	}
	dir := t.TempDir()
	run(t, "dpkg-deb", "-e", p.deb, dir)
	cf, err := os.ReadFile(filepath.Join(dir, "conffiles"))
	if err != nil {
		t.Fatalf("no conffiles in the control archive: %v", err)
	}
	if got := strings.Join(lines(string(cf)), " "); got != strings.Join(wantConfig, " ") {
		t.Errorf("conffiles %q, want %q", got, wantConfig)
	}

	got := map[string]entry{}
	for _, l := range lines(run(t, "dpkg-deb", "-c", p.deb)) {
		// drwxr-xr-x root/root 0 2026-12-01 10:56 ./etc/mamori/
		f := strings.Fields(l)
		owner, group, _ := strings.Cut(f[1], "/")
		got["/"+strings.Trim(f[len(f)-1], "./")] = entry{f[0], owner, group}
	}
	checkFiles(t, "dpkg-deb -c", got)
}

func TestRpmContents(t *testing.T) {
	need(t, false, "rpm")
	p := buildPackages(t, "")
	info := run(t, "rpm", "-qip", p.rpm)
	for _, want := range []string{"Name        : mamori", "Version     : " + p.version, "Release     : 1", "Architecture: x86_64", "License     :"} {
		if !strings.Contains(info, want) {
			t.Errorf("rpm -qip: no %q in\n%s", want, info)
		}
	}
	if req := run(t, "rpm", "-qp", "--requires", p.rpm); strings.Contains(req, ".so") {
		t.Errorf("rpm requires shared libraries; the binary is static:\n%s", req)
	}
	got := map[string]entry{}
	for _, l := range lines(run(t, "rpm", "-qlvp", p.rpm)) {
		// -rw-r-----    1 root     mamori   10360 Dec  1 10:41 /etc/mamori/mamori.yaml
		f := strings.Fields(l)
		got[f[len(f)-1]] = entry{f[0], f[2], f[3]}
	}
	checkFiles(t, "rpm -qlvp", got)
	// %config(noreplace): flags c (config) and n (noreplace).
	flags := map[string]string{}
	for _, l := range lines(run(t, "rpm", "-qp", "--queryformat", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]", p.rpm)) {
		name, fl, _ := strings.Cut(l, " ")
		flags[name] = fl
	}
	for _, c := range wantConfig {
		if !strings.Contains(flags[c], "c") || !strings.Contains(flags[c], "n") {
			t.Errorf("%s has rpm file flags %q, want %%config(noreplace) (c and n)", c, flags[c])
		}
	}
	scripts := run(t, "rpm", "-qp", "--scripts", p.rpm)
	for _, s := range []string{"preinstall scriptlet", "postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet", "useradd --system"} {
		if !strings.Contains(scripts, s) {
			t.Errorf("rpm --scripts: no %q", s)
		}
	}
}

func checkFiles(t *testing.T, what string, got map[string]entry) {
	t.Helper()
	for path, want := range wantFiles {
		if g, ok := got[path]; !ok {
			t.Errorf("%s: %s is missing", what, path)
		} else if g != want {
			t.Errorf("%s: %s is %v, want %v", what, path, g, want)
		}
	}
}

// The binary in the package is static: it runs on any base system.
func TestStaticBinary(t *testing.T) {
	need(t, false, "ldd")
	out, err := exec.Command("ldd", binary(t)).CombinedOutput()
	if !strings.Contains(string(out), "not a dynamic executable") {
		t.Fatalf("ldd %s: %v\n%s\nwant: not a dynamic executable (make build links it static)", binary(t), err, out)
	}
}
