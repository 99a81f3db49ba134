package trap

import (
	"encoding/hex"
	"errors"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the expected.json of every golden case")

// The receiver every golden case is decoded with.
var goldenUsers = []User{
	{Name: "ops", Level: "authPriv", AuthProtocol: "SHA-256", AuthKey: "authkey12345", PrivProtocol: "AES", PrivKey: "privkey12345"},
	{Name: "ops2", Level: "authNoPriv", AuthProtocol: "SHA", AuthKey: "authkey12345"},
	{Name: "ops3", Level: "authPriv", AuthProtocol: "SHA-512", AuthKey: "authkey12345", PrivProtocol: "AES-256", PrivKey: "privkey12345"},
}

// goldenCases are how the inputs were made: net-snmp's snmptrap or
// snmpinform with these arguments, sent to a socket that kept the bytes
// (MAMORI_CAPTURE_TRAPS=1 go test -run TestCaptureGolden rewrites them).
var goldenCases = map[string][]string{
	"v2c-linkdown": {"snmptrap", "-v", "2c", "-c", "public", "%s", "4242", "1.3.6.1.6.3.1.1.5.3",
		"1.3.6.1.2.1.2.2.1.1.7", "i", "7", "1.3.6.1.2.1.2.2.1.2.7", "s", "eth7", "1.3.6.1.2.1.2.2.1.6.7", "x", "001B21FF0001"},
	"v2c-all-types": {"snmptrap", "-v", "2c", "-c", "public", "%s", "77", "1.3.6.1.4.1.8072.2.3.0.1",
		"1.3.6.1.4.1.8072.9.1", "c", "4294967295", "1.3.6.1.4.1.8072.9.2", "C", "18446744073709551615", "1.3.6.1.4.1.8072.9.3", "t", "123456",
		"1.3.6.1.4.1.8072.9.4", "a", "192.0.2.55", "1.3.6.1.4.1.8072.9.5", "o", "1.3.6.1.4.1.8072", "1.3.6.1.4.1.8072.9.6", "u", "42",
		"1.3.6.1.4.1.8072.9.7", "s", "日本語のテキスト", "1.3.6.1.4.1.8072.9.8", "i", "-5"},
	"v2c-wrong-community": {"snmptrap", "-v", "2c", "-c", "private", "%s", "1", "1.3.6.1.6.3.1.1.5.1"},
	"v2c-inform":          {"snmpinform", "-v", "2c", "-c", "public", "-t", "1", "-r", "0", "%s", "5", "1.3.6.1.6.3.1.1.5.4", "1.3.6.1.2.1.2.2.1.1.3", "i", "3"},
	"v1-enterprise-specific": {"snmptrap", "-v", "1", "-c", "public", "%s", "1.3.6.1.4.1.8072.2.3", "10.1.2.3", "6", "17", "99",
		"1.3.6.1.4.1.8072.2.3.2.1", "i", "5"},
	"v1-cold-start": {"snmptrap", "-v", "1", "-c", "public", "%s", "1.3.6.1.4.1.8072.3.2.10", "10.1.2.3", "0", "0", "100"},
	"v3-authpriv-sha256-aes": {"snmptrap", "-v", "3", "-e", "0x8000000001020304", "-u", "ops", "-l", "authPriv", "-a", "SHA-256", "-A", "authkey12345",
		"-x", "AES", "-X", "privkey12345", "%s", "4242", "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.2.7", "s", "eth7"},
	"v3-authpriv-sha512-aes256": {"snmptrap", "-v", "3", "-e", "0x8000000001020305", "-u", "ops3", "-l", "authPriv", "-a", "SHA-512", "-A", "authkey12345",
		"-x", "AES-256", "-X", "privkey12345", "%s", "4243", "1.3.6.1.6.3.1.1.5.4", "1.3.6.1.2.1.2.2.1.2.7", "s", "eth7"},
	"v3-authnopriv-sha": {"snmptrap", "-v", "3", "-e", "0x8000000001020306", "-u", "ops2", "-l", "authNoPriv", "-a", "SHA", "-A", "authkey12345",
		"%s", "4244", "1.3.6.1.6.3.1.1.5.1"},
	"v3-wrong-priv-key": {"snmptrap", "-v", "3", "-e", "0x8000000001020304", "-u", "ops", "-l", "authPriv", "-a", "SHA-256", "-A", "authkey12345",
		"-x", "AES", "-X", "not-the-key-1", "%s", "4242", "1.3.6.1.6.3.1.1.5.3"},
	"v3-level-too-low": {"snmptrap", "-v", "3", "-e", "0x8000000001020304", "-u", "ops", "-l", "authNoPriv", "-a", "SHA-256", "-A", "authkey12345",
		"%s", "4242", "1.3.6.1.6.3.1.1.5.3"},
}

// TestCaptureGolden rewrites the inputs from net-snmp (only when asked).
func TestCaptureGolden(t *testing.T) {
	if os.Getenv("MAMORI_CAPTURE_TRAPS") == "" {
		t.Skip("set MAMORI_CAPTURE_TRAPS=1 to capture the golden inputs again from net-snmp")
	}
	for name, args := range goldenCases {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cmd := make([]string, len(args))
		for i, a := range args {
			cmd[i] = strings.ReplaceAll(a, "%s", pc.LocalAddr().String())
		}
		go func() { _ = exec.Command(cmd[0], cmd[1:]...).Run() }()
		buf := make([]byte, 65536)
		_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		pc.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dir := filepath.Join("testdata", "cases", name)
		_ = os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, "input.hex"), []byte(hex.EncodeToString(buf[:n])+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGolden decodes every folder under testdata/cases: input.hex (a
// packet as net-snmp sent it) and expected.json (the notification, or
// the reason it was dropped). A new case needs no Go code.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/cases/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	r := &Receiver{Communities: []string{"public"}, engineID: "\x80\x00\x1f\x88\x04golden", EngineBoots: 1}
	if err := r.SetUsers(goldenUsers); err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			h, err := os.ReadFile(filepath.Join(dir, "input.hex"))
			if err != nil {
				t.Fatal(err)
			}
			in, err := hex.DecodeString(strings.TrimSpace(string(h)))
			if err != nil {
				t.Fatal(err)
			}
			tr, reply, derr := r.Decode(&decoder{}, in, "192.0.2.1", time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC))
			got := struct {
				Trap    *Trap  `json:"trap,omitempty"`
				Dropped string `json:"dropped,omitempty"`
				Reply   bool   `json:"reply"`
			}{Reply: reply != nil}
			switch {
			case derr == nil:
				got.Trap = &tr
			case errors.Is(derr, ErrAuth):
				got.Dropped = "v3_auth"
			case errors.Is(derr, ErrCommunity):
				got.Dropped = "bad_community"
			default:
				got.Dropped = derr.Error()
			}
			golden.Check(t, dir, got, *update)
		})
	}
}
