package syslogtest

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/ingest/syslog"
)

// Reading is what one daemon reported for one line.
type Reading struct {
	PRI, Facility, Severity string
	Hostname, Program, Msg  string
	Timestamp               string // RFC 3339
	Received                string // RFC 3339: when the daemon received the line
	ProcID, MsgID, SD       string // compared for RFC 5424 lines only
	// The line as received.
	Raw string
	// rsyslog only: the sender's address, the tag, the protocol version
	// ("1": RFC 5424).
	FromHost, Tag, Version string
	// mamori only: what the parser assumed.
	Partial []string
}

// Fields are the compared fields, in report order (rsyslog's names).
var Fields = []string{"pri", "facility", "severity", "hostname", "programname", "msg", "timestamp", "procid", "msgid", "structured-data"}

func (r *Reading) field(name string) *string {
	return map[string]*string{"pri": &r.PRI, "facility": &r.Facility, "severity": &r.Severity, "hostname": &r.Hostname,
		"programname": &r.Program, "msg": &r.Msg, "timestamp": &r.Timestamp, "procid": &r.ProcID, "msgid": &r.MsgID,
		"structured-data": &r.SD}[name]
}

// Diff runs the comparison in rounds: Pending says which lines rsyslog
// must read next (the corpus, then the rewrites of documented
// differences, which may depend on rsyslog's reading), Record takes its
// readings, Compare checks mamori's.
type Diff struct {
	Lines    []Line
	chains   [][][]byte         // per line: what rsyslog reads, the line first, then rewrites
	adjusts  [][]func(*Reading) // per line: adjustments of the rewrites that applied
	applied  []map[string]int   // per line: differences that applied, how often
	done     []bool
	readings map[string]Reading // rsyslog's, by line as received
}

// NewDiff starts a comparison of lines.
func NewDiff(lines []Line) *Diff {
	d := &Diff{Lines: lines, readings: map[string]Reading{}}
	for _, l := range lines {
		d.chains = append(d.chains, [][]byte{l.Bytes})
		d.adjusts = append(d.adjusts, nil)
		d.applied = append(d.applied, map[string]int{})
		d.done = append(d.done, false)
	}
	return d
}

// Record stores rsyslog's reading of a line.
func (d *Diff) Record(r Reading) { d.readings[r.Raw] = r }

// Pending returns the lines rsyslog has yet to read; none: all read.
func (d *Diff) Pending() [][]byte {
	var out [][]byte
	want := map[string]bool{}
	for i := range d.Lines {
		if d.done[i] {
			continue
		}
		last := d.chains[i][len(d.chains[i])-1]
		if r, ok := d.readings[string(last)]; ok {
			if last, ok = d.rewrite(i, last, r); !ok {
				d.done[i] = true
				continue
			}
		}
		if _, ok := d.readings[string(last)]; !ok && !want[string(last)] {
			want[string(last)] = true
			out = append(out, last)
		}
	}
	return out
}

// rewrite applies the first documented rewrite that concerns the line.
func (d *Diff) rewrite(i int, line []byte, r Reading) ([]byte, bool) {
	for _, df := range Differences {
		if df.Rewrite == nil || d.applied[i][df.ID] >= max(df.Times, 1) {
			continue
		}
		if out, adj, ok := df.Rewrite(d.Lines[i], line, r); ok {
			d.applied[i][df.ID]++
			d.chains[i] = append(d.chains[i], out)
			if adj != nil {
				d.adjusts[i] = append(d.adjusts[i], adj)
			}
			return out, true
		}
	}
	return nil, false
}

// expected is rsyslog's reading of the last rewrite, adjusted by the
// documented differences: what mamori must report.
func (d *Diff) expected(i int) Reading {
	exp := d.readings[string(d.chains[i][len(d.chains[i])-1])]
	for _, adj := range d.adjusts[i] {
		adj(&exp)
	}
	for _, df := range Differences {
		if df.Adjust != nil && df.Adjust(d.Lines[i], &exp) {
			d.applied[i][df.ID]++
		}
	}
	return exp
}

// Report is the outcome of a comparison.
type Report struct {
	Lines, SentToRsyslog int
	AsIs, Documented     map[string]int // field → lines agreeing (as rsyslog reads the line; after documented differences)
	Compared             map[string]int // field → lines where compared
	Applied              map[string]int // difference → lines
	// Lines mamori stored with an empty text (each one where rsyslog's,
	// as documented, is empty too: the line has none) and lines without
	// PRI (each stored as user.notice and flagged).
	EmptyText, NoPRI int
	Failures         []string
}

// Compare checks mamori's readings (one per line, in order).
func (d *Diff) Compare(mamori []Reading) Report {
	rep := Report{Lines: len(d.Lines), SentToRsyslog: len(d.readings), AsIs: map[string]int{}, Documented: map[string]int{},
		Compared: map[string]int{}, Applied: map[string]int{}}
	for i := range d.Lines {
		if i >= len(mamori) {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: not stored by mamori: %q", d.Lines[i].Origin, d.Lines[i].Bytes))
			continue
		}
		d.compareLine(i, mamori[i], &rep)
	}
	return rep
}

func (d *Diff) compareLine(i int, m Reading, rep *Report) {
	asIs, exp := d.readings[string(d.Lines[i].Bytes)], d.expected(i)
	for id := range d.applied[i] {
		rep.Applied[id]++
	}
	for _, f := range Fields {
		if f == "procid" || f == "msgid" || f == "structured-data" {
			if asIs.Version != "1" || exp.Version != "1" {
				continue
			}
		}
		rep.Compared[f]++
		if same(f, asIs, m) {
			rep.AsIs[f]++
		}
		if same(f, exp, m) {
			rep.Documented[f]++
		} else {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %s: rsyslog (as documented) %q, mamori %q\n\tline %q\n\trsyslog read %q",
				d.Lines[i].Origin, f, *exp.field(f), *m.field(f), d.Lines[i].Bytes, d.chains[i][len(d.chains[i])-1]))
		}
	}
	d.checkStored(i, m, rep)
}

// checkStored: mamori keeps the line as received (without its line
// end); a line without PRI is user.notice and flagged.
func (d *Diff) checkStored(i int, m Reading, rep *Report) {
	l := d.Lines[i]
	if sent := bytes.TrimRight(l.Bytes, "\r\n\x00"); m.Raw != string(sent) {
		rep.Failures = append(rep.Failures, fmt.Sprintf("%s: raw line stored as %q, sent %q", l.Origin, m.Raw, sent))
	}
	if m.Msg == "" {
		rep.EmptyText++
	}
	if len(l.Bytes) > 0 && l.Bytes[0] == '<' {
		return
	}
	rep.NoPRI++
	if !slices.Contains(m.Partial, syslog.NoteNoPRI) || m.Facility != "1" || m.Severity != "5" {
		rep.Failures = append(rep.Failures, fmt.Sprintf("%s: a line without PRI must be user.notice and flagged: %s.%s %q",
			l.Origin, m.Facility, m.Severity, m.Partial))
	}
}

// same compares a field; timestamps as instants, and a receive time
// (the line had none) only with a receive time.
func same(f string, a, b Reading) bool {
	if f != "timestamp" {
		return *a.field(f) == *b.field(f)
	}
	if aRecv, bRecv := a.Timestamp == a.Received, b.Timestamp == b.Received; aRecv || bRecv {
		return aRecv && bRecv
	}
	ta, err1 := time.Parse(time.RFC3339Nano, a.Timestamp)
	tb, err2 := time.Parse(time.RFC3339Nano, b.Timestamp)
	if err1 != nil || err2 != nil {
		return a.Timestamp == b.Timestamp
	}
	return ta.Equal(tb)
}

// Summary is the table the test prints.
func (r Report) Summary(version string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "syslog differential against %s: %d lines, %d lines read by rsyslog (corpus and documented rewrites)\n",
		version, r.Lines, r.SentToRsyslog)
	fmt.Fprintf(&b, "%-16s %8s %22s %22s\n", "field", "compared", "agree as rsyslog reads", "agree as documented")
	for _, f := range Fields {
		n := r.Compared[f]
		fmt.Fprintf(&b, "%-16s %8d %14d %6.1f%% %14d %6.1f%%\n", f, n, r.AsIs[f], pct(r.AsIs[f], n), r.Documented[f], pct(r.Documented[f], n))
	}
	fmt.Fprintf(&b, "documented differences (ingest/syslog/DIFFERENCES.md): %d listed\n", len(Differences))
	for _, df := range Differences {
		fmt.Fprintf(&b, "  %-4s %-62s %5d lines\n", df.ID, df.Title, r.Applied[df.ID])
	}
	fmt.Fprintf(&b, "stored with an empty text: %d lines (where the line has none, as documented above)\n", r.EmptyText)
	fmt.Fprintf(&b, "without PRI: %d lines, stored as user.notice (1/5) and flagged\n", r.NoPRI)
	fmt.Fprintf(&b, "undocumented disagreements: %d\n", len(r.Failures))
	return b.String()
}

func pct(n, of int) float64 {
	if of == 0 {
		return 100
	}
	return 100 * float64(n) / float64(of)
}
