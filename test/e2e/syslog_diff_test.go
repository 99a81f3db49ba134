package e2e

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/ingest/syslog/syslogtest"
	"github.com/mamori-ops/mamori/test/cluster"
)

// Every line of the syslog corpus (ingest/syslog/testdata: golden cases,
// samples collected from public sources, generated combinations of the
// variants devices send) goes over TCP to Debian's rsyslogd and to a
// mamori appliance; every field rsyslog reports is compared with what
// GET /api/v1/syslog returns. Only the differences listed in
// ingest/syslog/DIFFERENCES.md may remain; each is checked by making
// rsyslog read another line (or by a stated change of its reading), so
// a documented difference is as strict as agreement.
func TestSyslogDifferentialRsyslog(t *testing.T) {
	skipShort(t)
	lines, err := syslogtest.Load("../../ingest/syslog/testdata")
	if err != nil || len(lines) < 500 {
		t.Fatalf("corpus: %d lines, %v (want at least 500)", len(lines), err)
	}
	for _, l := range lines {
		if !bytes.HasPrefix(l.Bytes, []byte("<")) && bytes.ContainsAny(l.Bytes, "\n\x00") {
			t.Fatalf("%s: a line without PRI goes to mamori in newline framing: it cannot hold LF or NUL: %q", l.Origin, l.Bytes)
		}
	}
	rs := startDiffRsyslog(t)
	a := newSingle(t, cluster.Options{})
	sendSyslog(t, a.SyslogTCP, lines, mamoriFrame)

	d := syslogtest.NewDiff(lines)
	for round := 0; ; round++ {
		batch := d.Pending()
		if len(batch) == 0 {
			break
		}
		if round == 6 {
			t.Fatalf("rsyslog never read %d lines, e.g. %q", len(batch), batch[0])
		}
		rs.read(t, batch, d)
	}
	rep := d.Compare(storedReadings(t, a, len(lines)))
	t.Log("\n" + rep.Summary(rsyslogVersion()))
	for i, f := range rep.Failures {
		if i == 50 {
			t.Errorf("… and %d more", len(rep.Failures)-i)
			break
		}
		t.Error(f)
	}
}

// diffRsyslog is an rsyslogd with one TCP input whose messages are
// written with syslogtest.RsyslogTemplate to a file in its own work
// directory; it loads no other input (no /dev/log, no kernel log) and
// writes nothing else.
type diffRsyslog struct {
	addr, out string
	consumed  int // output lines consumed
}

func startDiffRsyslog(t *testing.T) *diffRsyslog {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		t.Skip("rsyslogd is not installed (make deps installs rsyslog)")
	}
	dir := t.TempDir()
	ip := cluster.Subnet() + ".9"
	rs := &diffRsyslog{addr: net.JoinHostPort(ip, cluster.FreePort(t, ip)), out: filepath.Join(dir, "out.json")}
	_, port, _ := net.SplitHostPort(rs.addr)
	// Escaping off and remove.msgFirstSpace on: mamori keeps control
	// characters as received and drops the space after the tag
	// (DIFFERENCES.md, "How rsyslog runs"); no DNS: the sender's address
	// stays an address.
	conf := fmt.Sprintf(`global(workDirectory=%q net.enableDNS="off" parser.escapeControlCharactersOnReceive="off" maxMessageSize="64k")
module(load="imtcp")
parser(name="mamori.rfc3164" type="pmrfc3164" remove.msgFirstSpace="on")
%s
ruleset(name="diff" parser=["rsyslog.rfc5424", "mamori.rfc3164"]) {
  action(type="omfile" file=%q template="diff")
}
input(type="imtcp" address=%q port=%q ruleset="diff")
`, dir, syslogtest.RsyslogTemplate, rs.out, ip, port)
	path := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "rsyslogd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-f", path, "-i", filepath.Join(dir, "rsyslogd.pid"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("rsyslogd's output:\n%s", b)
		}
	})
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool {
		c, err := net.Dial("tcp", rs.addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Fatal("rsyslogd did not start listening")
	}
	return rs
}

// read sends lines to rsyslog (octet counting: rsyslog frames any line
// so) and records its readings once all are written.
func (rs *diffRsyslog) read(t *testing.T, lines [][]byte, d *syslogtest.Diff) {
	t.Helper()
	batch := make([]syslogtest.Line, len(lines))
	for i, l := range lines {
		batch[i] = syslogtest.Line{Bytes: l}
	}
	sendSyslog(t, rs.addr, batch, octetFrame)
	var out [][]byte
	if !cluster.WaitFor(t.Context(), 20*time.Second, func() bool {
		b, _ := os.ReadFile(rs.out)
		out = bytes.SplitAfter(b, []byte("\n"))
		return len(out)-1 >= rs.consumed+len(lines)
	}) {
		t.Fatalf("rsyslog wrote %d of %d readings", len(out)-1-rs.consumed, len(lines))
	}
	for _, l := range out[rs.consumed : rs.consumed+len(lines)] {
		r, err := syslogtest.ParseRsyslog(l)
		if err != nil {
			t.Fatalf("rsyslog output %q: %v", l, err)
		}
		d.Record(r)
	}
	rs.consumed += len(lines)
}

func octetFrame(b []byte) []byte { return append([]byte(strconv.Itoa(len(b))+" "), b...) }

// mamoriFrame: octet counting for lines that start with a PRI (mamori
// takes a leading number for a length only before "<"), newline framing
// for the others.
func mamoriFrame(b []byte) []byte {
	if len(b) > 0 && b[0] == '<' {
		return octetFrame(b)
	}
	return append(append([]byte{}, b...), '\n')
}

// sendSyslog writes the lines over one TCP connection, in order.
func sendSyslog(t *testing.T, addr string, lines []syslogtest.Line, frame func([]byte) []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := bufio.NewWriter(c)
	for _, l := range lines {
		if _, err := w.Write(frame(l.Bytes)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// storedReadings waits until mamori stored n messages and returns them
// in the order they were sent.
func storedReadings(t *testing.T, n *cluster.Node, want int) []syslogtest.Reading {
	t.Helper()
	var out struct {
		Messages []struct {
			Facility, Severity        int
			Hostname, Text, Timestamp string
			AppName                   string `json:"app_name"`
			ProcID                    string `json:"proc_id"`
			MsgID                     string `json:"msg_id"`
			StructuredData            string `json:"structured_data"`
			ReceivedAt                string `json:"received_at"`
			Raw                       string
			RawBase64                 string `json:"raw_base64"`
			Partial                   []string
		}
	}
	if !cluster.WaitFor(t.Context(), 60*time.Second, func() bool {
		all := out.Messages[:0]
		err := n.Pages("/api/v1/syslog?limit=100000", func(b []byte) error { // answers are cut at 4 MiB: follow the cursor
			page := out
			page.Messages = nil
			err := json.Unmarshal(b, &page)
			all = append(all, page.Messages...)
			return err
		})
		out.Messages = all
		return err == nil && len(out.Messages) >= want
	}) {
		t.Fatalf("mamori stored %d of %d lines", len(out.Messages), want)
	}
	rs := make([]syslogtest.Reading, len(out.Messages))
	for i, m := range out.Messages {
		if m.RawBase64 != "" {
			b, _ := base64.StdEncoding.DecodeString(m.RawBase64)
			m.Raw = string(b)
		}
		rs[i] = syslogtest.Reading{Raw: m.Raw, PRI: strconv.Itoa(m.Facility*8 + m.Severity), Facility: strconv.Itoa(m.Facility),
			Severity: strconv.Itoa(m.Severity), Hostname: m.Hostname, Program: m.AppName, Msg: m.Text, Timestamp: m.Timestamp,
			Received: m.ReceivedAt, ProcID: m.ProcID, MsgID: m.MsgID, SD: m.StructuredData, Partial: m.Partial}
	}
	return rs
}

func rsyslogVersion() string {
	out, _ := exec.Command("rsyslogd", "-v").Output()
	first, _, _ := strings.Cut(string(out), "\n")
	first, _, _ = strings.Cut(first, " compiled with")
	return strings.Join(strings.Fields(first), " ")
}
