package pkgtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// stubs are the commands the maintainer scripts call; each stand-in logs
// its name and arguments. getent finds the mamori user and group only
// when $STUB_USER_EXISTS is 1.
var stubs = []string{"groupadd", "useradd", "userdel", "groupdel", "systemctl", "sysctl", "chown", "chmod", "rm", "hostname"}

func writeStubs(t *testing.T) (dir, log string) {
	dir = t.TempDir()
	log = filepath.Join(dir, "calls.log")
	for _, s := range stubs {
		body := "#!/bin/sh\necho \"" + s + " $*\" >>" + log + "\n"
		if s == "hostname" {
			body += "echo appliance1\n"
		}
		if err := os.WriteFile(filepath.Join(dir, s), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	getent := "#!/bin/sh\n[ \"$STUB_USER_EXISTS\" = 1 ] && echo \"mamori:x:999:\" && exit 0\nexit 2\n"
	if err := os.WriteFile(filepath.Join(dir, "getent"), []byte(getent), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, log
}

// The scripts for both formats: deb passes words, rpm numbers. Each runs
// in a mount namespace of its own whose /run is empty, with or without
// /run/systemd/system (systemd running or not: a chroot, a container).
func TestMaintainerScripts(t *testing.T) {
	need(t, true, "unshare")
	scripts := filepath.Join(repoRoot(t), "packaging", "scripts")
	cases := []struct {
		name, script string
		args         []string
		systemd      bool
		userExists   bool
		want, not    []string // calls (prefixes) that must and must not happen
		say          string   // in the output
	}{
		{name: "deb preinst install", script: "preinstall", args: []string{"install"},
			want: []string{"groupadd --system mamori", "useradd --system --gid mamori --home-dir /var/lib/mamori --no-create-home --shell /usr/sbin/nologin"}},
		{name: "rpm pre install, user there", script: "preinstall", args: []string{"1"}, userExists: true,
			not: []string{"groupadd", "useradd"}},
		{name: "deb postinst first install, systemd", script: "postinstall", args: []string{"configure", ""}, systemd: true, userExists: true,
			want: []string{"chown mamori:mamori /var/lib/mamori", "chmod 0700 /var/lib/mamori", "sysctl -q -p /usr/lib/sysctl.d/60-mamori.conf", "systemctl daemon-reload", "systemctl enable mamori.service", "systemctl start mamori.service"},
			not:  []string{"systemctl try-restart"}, say: "mamori setup-token` prints the token for https://appliance1:8443/setup"},
		{name: "deb postinst first install, chroot", script: "postinstall", args: []string{"configure"}, userExists: true,
			want: []string{"systemctl enable mamori.service"},
			not:  []string{"systemctl daemon-reload", "systemctl start", "systemctl try-restart"},
			say:  "mamori installed; start it: systemctl start mamori; then `mamori setup-token` prints the token for https://appliance1:8443/setup"},
		{name: "rpm post install, systemd", script: "postinstall", args: []string{"1"}, systemd: true, userExists: true,
			want: []string{"systemctl enable mamori.service", "systemctl start mamori.service"}},
		{name: "deb postinst upgrade", script: "postinstall", args: []string{"configure", "0.0.0~git1.abc-1"}, systemd: true, userExists: true,
			want: []string{"systemctl daemon-reload", "systemctl try-restart mamori.service mamori-witness.service"},
			not:  []string{"systemctl enable", "systemctl start", "chmod", "chown"}},
		{name: "rpm post upgrade", script: "postinstall", args: []string{"2"}, systemd: true, userExists: true,
			want: []string{"systemctl try-restart mamori.service mamori-witness.service"},
			not:  []string{"systemctl enable", "systemctl start"}},
		{name: "deb prerm upgrade", script: "preremove", args: []string{"upgrade", "2.0-1"}, systemd: true,
			not: []string{"systemctl"}},
		{name: "rpm preun upgrade", script: "preremove", args: []string{"1"}, systemd: true,
			not: []string{"systemctl"}},
		{name: "deb prerm remove", script: "preremove", args: []string{"remove"}, systemd: true,
			want: []string{"systemctl stop mamori.service mamori-witness.service", "systemctl disable mamori.service mamori-witness.service"}},
		{name: "rpm preun remove, no systemd", script: "preremove", args: []string{"0"},
			want: []string{"systemctl disable mamori.service"}, not: []string{"systemctl stop"}},
		{name: "deb postrm remove keeps data", script: "postremove", args: []string{"remove"}, systemd: true, userExists: true,
			want: []string{"systemctl daemon-reload"}, not: []string{"rm ", "userdel", "groupdel"}},
		{name: "rpm postun remove keeps data", script: "postremove", args: []string{"0"}, userExists: true,
			not: []string{"rm ", "userdel", "systemctl"}},
		{name: "deb postrm purge", script: "postremove", args: []string{"purge"}, userExists: true,
			want: []string{"rm -rf /var/lib/mamori /var/lib/mamori-witness /var/log/mamori /etc/mamori", "userdel mamori", "groupdel mamori"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stubDir, log := writeStubs(t)
			setup := "mount -t tmpfs tmpfs /run"
			if c.systemd {
				setup += " && mkdir -p /run/systemd/system"
			}
			script := filepath.Join(scripts, c.script+".sh")
			args := append([]string{"-m", "--propagation", "private", "sh", "-c", setup + ` && exec sh "$@"`, "sh", script}, c.args...)
			cmd := exec.Command("unshare", args...)
			cmd.Env = []string{"PATH=" + stubDir + ":/usr/sbin:/usr/bin:/sbin:/bin", "STUB_USER_EXISTS=0"}
			if c.userExists {
				cmd.Env[1] = "STUB_USER_EXISTS=1"
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s %v: %v\n%s", c.script, c.args, err, out)
			}
			b, _ := os.ReadFile(log)
			calls := lines(string(b))
			has := func(prefix string) bool {
				for _, l := range calls {
					if strings.HasPrefix(l, prefix) {
						return true
					}
				}
				return false
			}
			for _, w := range c.want {
				if !has(w) {
					t.Errorf("no call %q; calls:\n%s", w, b)
				}
			}
			for _, n := range c.not {
				if has(n) {
					t.Errorf("unexpected call %q; calls:\n%s", n, b)
				}
			}
			if c.say != "" && !strings.Contains(string(out), c.say) {
				t.Errorf("output %q, want %q", out, c.say)
			}
		})
	}
}
