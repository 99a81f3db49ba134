package syslogtest

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A Difference is a deliberate difference between mamori's reading of a
// line and rsyslog's, listed in ingest/syslog/DIFFERENCES.md under its
// ID. It is stated as rsyslog's own reading of another line (Rewrite:
// "mamori reads this line as rsyslog reads that one", which rsyslog
// then really reads) and, where no line would do, as a change of
// rsyslog's reading (Adjust). Nothing else may differ.
type Difference struct {
	ID, Title string
	// Rewrite returns the line rsyslog reads the way mamori reads line
	// (r is rsyslog's reading of line; orig the corpus line) and an
	// adjustment of that reading, or false when it does not concern line.
	Rewrite func(orig Line, line []byte, r Reading) ([]byte, func(*Reading), bool)
	// Times a rewrite may apply to one line (default once).
	Times int
	// Adjust changes rsyslog's reading into mamori's for every line it
	// concerns, reporting whether it did.
	Adjust func(orig Line, exp *Reading) bool
}

// Differences, in the order they apply. IDs R… are representation (how
// a value is written), B… are rsyslog bugs mamori does not copy, D… are
// lines mamori reads further than rsyslog.
var Differences = []Difference{
	{ID: "R1", Title: "RFC 5424 NILVALUE \"-\" is stored as empty", Adjust: nilValues},
	{ID: "R2", Title: "no host name in the line: empty, not the sender's address", Adjust: senderAsHost},
	{ID: "R3", Title: "trailing CR (CRLF line ends) dropped", Rewrite: trailingCR},
	{ID: "R4", Title: "byte order mark before an RFC 5424 MSG dropped", Adjust: msgBOM},
	{ID: "R5", Title: "Shift_JIS / EUC-JP decoded, other invalid bytes as U+FFFD", Rewrite: japaneseText, Adjust: invalidBytes},
	{ID: "R6", Title: "year-less stamp more than 2 days ahead is last year's", Adjust: yearRollover},
	{ID: "B1", Title: "after a year-first stamp rsyslog reads a NUL past the line's end", Rewrite: yearFirst},
	{ID: "B2", Title: "rsyslog prints a corrupt time for fractions of 7+ digits", Rewrite: longFraction},
	{ID: "B3", Title: "RFC 5424 without structured data: rsyslog repeats the MSGID", Adjust: sdIsMsgID},
	{ID: "D1", Title: "unreadable PRI (\"<>\", \"<999>\", \"<abc>\"): user.notice, line whole", Adjust: unreadablePRI},
	{ID: "D2", Title: "FortiGate header-less key=value: time, devname as host", Rewrite: fortinet},
	{ID: "D3", Title: "Cisco IOS counters, origin host and clock mark before the time", Rewrite: ciscoPrefix},
	{ID: "D4", Title: "time-zone name after a 3164 time (\"UTC:\", \"JST:\")", Rewrite: zoneName},
	{ID: "D5", Title: "year after the time (\"Aug 10 22:18:24 2009 host\")", Rewrite: yearAfter},
	{ID: "D6", Title: "RFC 3339 stamp after a space following the PRI", Rewrite: spaceBefore3339},
	{ID: "D7", Title: "RFC 3339 stamp without offset: the configured zone", Rewrite: zonelessStamp},
	{ID: "D8", Title: "a tab ends the host name and the tag like a space (Snare)", Rewrite: tabEndsTag, Times: 2},
	{ID: "D9", Title: "a would-be program name with '=' is text (key=value bodies)", Rewrite: keyValueTag},
	{ID: "D10", Title: "program names keep non-ASCII characters", Adjust: nonASCIIProgram},
}

const pri = `^(<\d{1,3}>)?`

func nilValues(_ Line, exp *Reading) bool {
	if exp.Version != "1" {
		return false
	}
	did := false
	for _, f := range []*string{&exp.Hostname, &exp.Program, &exp.ProcID, &exp.MsgID, &exp.SD} {
		if *f == "-" {
			*f, did = "", true
		}
	}
	return did
}

func senderAsHost(_ Line, exp *Reading) bool {
	if exp.Hostname == "" || exp.Hostname != exp.FromHost {
		return false
	}
	exp.Hostname = ""
	return true
}

func trailingCR(_ Line, line []byte, _ Reading) ([]byte, func(*Reading), bool) {
	t := bytes.TrimRight(line, "\r\n\x00")
	return t, nil, len(t) != len(line)
}

func msgBOM(_ Line, exp *Reading) bool {
	if exp.Version != "1" || !strings.HasPrefix(exp.Msg, "\ufeff") {
		return false
	}
	exp.Msg = strings.TrimPrefix(exp.Msg, "\ufeff")
	return true
}

func japaneseText(orig Line, line []byte, _ Reading) ([]byte, func(*Reading), bool) {
	return orig.UTF8, nil, orig.UTF8 != nil && bytes.Equal(line, orig.Bytes)
}

func invalidBytes(orig Line, exp *Reading) bool {
	if orig.UTF8 != nil || utf8.Valid(orig.Bytes) {
		return false
	}
	for _, f := range []*string{&exp.Hostname, &exp.Program, &exp.Msg, &exp.SD} {
		*f = strings.ToValidUTF8(*f, "\uFFFD")
	}
	return true
}

// yearRollover: rsyslog puts a year-less stamp in the year of receipt;
// mamori in the year before when that would be more than 2 days ahead.
func yearRollover(orig Line, exp *Reading) bool {
	t, err1 := time.Parse(time.RFC3339Nano, exp.Timestamp)
	recv, err2 := time.Parse(time.RFC3339Nano, exp.Received)
	head := orig.Bytes[:min(len(orig.Bytes), 48)]
	if err1 != nil || err2 != nil || !t.After(recv.Add(48*time.Hour)) || bytes.Contains(head, []byte(strconv.Itoa(t.Year()))) {
		return false
	}
	exp.Timestamp = t.AddDate(-1, 0, 0).Format(time.RFC3339Nano)
	return true
}

var validPRI = regexp.MustCompile(`^<(\d+)>`)

// unreadablePRI: rsyslog says facility "invld" (24), severity 7, and
// reads "<>" as PRI 0; mamori assumes user.notice (13) and keeps the
// whole line as text.
func unreadablePRI(orig Line, exp *Reading) bool {
	line := bytes.TrimRight(orig.Bytes, "\r\n\x00")
	if len(line) == 0 || line[0] != '<' {
		return false
	}
	if m := validPRI.FindSubmatch(line); m != nil {
		if n, _ := strconv.Atoi(string(m[1])); n <= 191 {
			return false
		}
	}
	exp.PRI, exp.Facility, exp.Severity = "13", "1", "5"
	if bytes.HasPrefix(line, []byte("<>")) {
		exp.Hostname, exp.Program, exp.Timestamp, exp.Version = "", "", exp.Received, "0"
		exp.Msg = strings.ToValidUTF8(string(line), "\uFFFD")
	}
	return true
}

var (
	fortiHead = regexp.MustCompile(pri + `date=(\S+) time=(\S+)(?: |$)`)
	fortiDev  = regexp.MustCompile(` devname=("[^"]*"|\S+)`)
	fortiTZ   = regexp.MustCompile(` tz=("[^"]*"|\S+)`)
	hostname  = regexp.MustCompile(`^[A-Za-z0-9._-]*[A-Za-z0-9]$`)
)

// fortinet: "date=… time=… devname=… tz=…" reads as an RFC 3339 stamp,
// the host name and an empty tag in front of the whole line.
func fortinet(_ Line, line []byte, _ Reading) ([]byte, func(*Reading), bool) {
	m := fortiHead.FindSubmatch(line)
	if m == nil {
		return nil, nil, false
	}
	loc := time.Local
	if z := fortiTZ.FindSubmatch(line); z != nil {
		if t, err := time.Parse("-0700", strings.Trim(string(z[1]), `"`)); err == nil {
			loc = t.Location()
		}
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", string(m[2])+" "+string(m[3]), loc)
	if err != nil {
		return nil, nil, false
	}
	out := string(m[1]) + t.Format(time.RFC3339) + " "
	if dev := fortiDev.FindSubmatch(line); dev != nil && hostname.Match(bytes.Trim(dev[1], `"`)) {
		out += string(bytes.Trim(dev[1], `"`)) + " "
	}
	return []byte(out + ": " + string(line[len(m[1]):])), nil, true
}

// stamp3164 is what mamori's RFC 3164 time reader accepts up to the
// seconds; zones are the names it takes for a time zone.
const (
	stamp3164 = `(?:\d{4} )?[A-Za-z]{3}  ?\d+ (?:\d{4} )?\d+:\d+:\d+(?:\.\d*)?`
	zones     = `(?i:UTC|GMT|UT|JST|KST|CST|CDT|EST|EDT|MST|MDT|PST|PDT|AKST|AKDT|HST|CET|CEST|MET|MEST|EET|EEST|WET|WEST|BST|IST|MSK|` +
		`AEST|AEDT|ACST|ACDT|AWST|NZST|NZDT|SGT|HKT|PHT|ICT|WIB)`
	zonePart = ` ` + zones + `(?:[+-]\d{1,2}(?::\d\d)?)?`
)

var (
	ciscoHead  = regexp.MustCompile(pri + `((?:[A-Za-z0-9._-]*: ){0,4})([*.]?)`)
	ciscoStamp = regexp.MustCompile(`^` + stamp3164 + `(?:` + zonePart + `:)?(?: \d{4})?:?(?: |$)`)
	stampStart = regexp.MustCompile(pri + ` ?(?:` + stamp3164 + `|\d+-\d+-\d+T)`)
)

// ciscoPrefix: "<189>123: sw01: *Mar  1 18:46:11.123 UTC: %SYS…" reads
// as "<189>Mar  1 18:46:11.123 UTC: sw01 %SYS…".
func ciscoPrefix(_ Line, line []byte, _ Reading) ([]byte, func(*Reading), bool) {
	m := ciscoHead.FindSubmatchIndex(line)
	if m == nil || m[4] == m[5] && m[6] == m[7] || stampStart.Match(line) {
		return nil, nil, false
	}
	host := ""
	for _, w := range strings.Split(strings.TrimSuffix(string(line[m[4]:m[5]]), ": "), ": ") {
		if strings.Trim(w, "0123456789") == "" {
			continue
		}
		if host != "" || !hostname.MatchString(w) {
			return nil, nil, false
		}
		host = w
	}
	rest := line[m[1]:]
	st := ciscoStamp.Find(rest)
	if st == nil {
		return nil, nil, false
	}
	end := len(bytes.TrimRight(st, " "))
	out := string(line[:max(m[3], 0)]) + string(rest[:end])
	if host != "" {
		out += " " + host
	}
	return []byte(out + string(rest[end:])), nil, true
}

var (
	zoneAfter = regexp.MustCompile(pri + `( ?` + stamp3164 + `)` + ` ([A-Za-z]+)(?:([+-])(\d{1,2})(?::(\d\d))?)?:`)
	zoneOnly  = regexp.MustCompile(`^` + zones + `$`)
)

// zoneName: "… 08:23:43.398 UTC: %FOO" reads as "… 08:23:43.398: %FOO";
// UTC and GMT (with an offset) are applied to the time.
func zoneName(_ Line, line []byte, _ Reading) ([]byte, func(*Reading), bool) {
	m := zoneAfter.FindSubmatchIndex(line)
	if m == nil || !zoneOnly.Match(line[m[6]:m[7]]) {
		return nil, nil, false
	}
	out := append(append([]byte{}, line[:m[5]]...), line[m[1]-1:]...)
	name := strings.ToUpper(string(line[m[6]:m[7]]))
	if name != "UTC" && name != "GMT" && name != "UT" {
		return out, nil, true
	}
	off := 0
	if m[8] >= 0 {
		h, _ := strconv.Atoi(string(line[m[10]:m[11]]))
		mi := 0
		if m[12] >= 0 {
			mi, _ = strconv.Atoi(string(line[m[12]:m[13]]))
		}
		if off = (h*60 + mi) * 60; line[m[8]] == '-' {
			off = -off
		}
	}
	return out, inZone(time.FixedZone("", off)), true
}

// inZone moves a time read in the local zone to the same wall clock in zone.
func inZone(zone *time.Location) func(*Reading) {
	return func(r *Reading) {
		t, err := time.Parse(time.RFC3339Nano, r.Timestamp)
		if err != nil || r.Timestamp == r.Received {
			return
		}
		t = t.In(time.Local)
		r.Timestamp = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), zone).Format(time.RFC3339Nano)
	}
}

var yearAfterTime = regexp.MustCompile(pri + `( ?)([A-Za-z]{3}  ?\d+) (\d+:\d+:\d+(?:\.\d*)?) (\d{4}) `)

// yearAfter: "Aug 10 22:18:24 2009 host" reads as "Aug 10 2009 22:18:24 host".
func yearAfter(_ Line, line []byte, _ Reading) ([]byte, func(*Reading), bool) {
	m := yearAfterTime.FindSubmatch(line)
	if m == nil {
		return nil, nil, false
	}
	if y, _ := strconv.Atoi(string(m[5])); y < 2000 || y >= 2100 {
		return nil, nil, false
	}
	out := string(m[1]) + string(m[2]) + string(m[3]) + " " + string(m[5]) + " " + string(m[4]) + " "
	return append([]byte(out), line[len(m[0]):]...), nil, true
}

var spaced3339 = regexp.MustCompile(pri + ` \d+-\d+-\d+T\d+:\d+:\d+`)

// spaceBefore3339: "<13> 2026-03-15T…" reads as "<13>2026-03-15T…"
// (rsyslog accepts the space before 3164 stamps only).
func spaceBefore3339(_ Line, line []byte, _ Reading) ([]byte, func(*Reading), bool) {
	m := spaced3339.FindSubmatchIndex(line)
	if m == nil {
		return nil, nil, false
	}
	at := max(m[3], 0)
	return append(append([]byte{}, line[:at]...), line[at+1:]...), nil, true
}

var zoneless = regexp.MustCompile(pri + `(1 )?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(?: |$)`)

// zonelessStamp: "2013-01-19T15:18:17.040 host" reads as
// "2013-01-19T15:18:17.040+00:00 host" with the local zone's offset.
func zonelessStamp(_ Line, line []byte, _ Reading) ([]byte, func(*Reading), bool) {
	m := zoneless.FindSubmatchIndex(line)
	if m == nil {
		return nil, nil, false
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05", string(line[m[6]:m[7]]), time.Local)
	if err != nil {
		return nil, nil, false
	}
	at := max(m[7], m[9])
	out := append(append([]byte{}, line[:at]...), t.Format("-07:00")...)
	return append(out, line[at:]...), nil, true
}

// tagAt finds rsyslog's tag in the line it read (RFC 3164 lines).
func tagAt(line []byte, r Reading) (int, bool) {
	if r.Version != "0" || r.Tag == "" || !bytes.HasSuffix(line, []byte(r.Msg)) {
		return 0, false
	}
	i := bytes.LastIndex(line[:len(line)-len(r.Msg)], []byte(r.Tag))
	return i, i >= 0
}

// tabEndsTag: "host MSWinEventLog\t1\tSecurity…" reads as
// "host MSWinEventLog 1\tSecurity…".
func tabEndsTag(_ Line, line []byte, r Reading) ([]byte, func(*Reading), bool) {
	i, ok := tagAt(line, r)
	if !ok || !strings.Contains(r.Tag, "\t") {
		return nil, nil, false
	}
	out := append([]byte{}, line...)
	out[i+strings.IndexByte(r.Tag, '\t')] = ' '
	return out, nil, true
}

// keyValueTag: "host action=drop src=…" reads as "host : action=drop src=…".
func keyValueTag(_ Line, line []byte, r Reading) ([]byte, func(*Reading), bool) {
	i, ok := tagAt(line, r)
	if !ok || !strings.Contains(r.Program, "=") {
		return nil, nil, false
	}
	out := append(append(append([]byte{}, line[:i]...), ": "...), line[i:]...)
	return out, nil, true
}

// nonASCIIProgram: rsyslog ends a program name at the first byte that is
// not printable ASCII; mamori only at control characters.
func nonASCIIProgram(_ Line, exp *Reading) bool {
	i := strings.IndexFunc(exp.Tag, func(c rune) bool { return c == ':' || c == '[' || c == '/' || c < 0x20 || c == 0x7f })
	if i < 0 {
		i = len(exp.Tag)
	}
	if exp.Tag[:i] == exp.Program || strings.IndexFunc(exp.Tag[:i], func(c rune) bool { return c >= 0x80 }) < 0 {
		return false
	}
	exp.Program = exp.Tag[:i]
	return true
}

var yearFirstStamp = regexp.MustCompile(pri + `( ?)(\d{4}) ([A-Za-z]{3}  ?\d+) `)

// yearFirst: "2026 Mar 15 11:59:00" reads as "Mar 15 2026 11:59:00",
// which rsyslog reads without its off-by-one (it counts the year's space
// twice, so the host name or tag at the line's end takes a NUL byte).
func yearFirst(_ Line, line []byte, _ Reading) ([]byte, func(*Reading), bool) {
	m := yearFirstStamp.FindSubmatch(line)
	if m == nil {
		return nil, nil, false
	}
	out := string(m[1]) + string(m[2]) + string(m[4]) + " " + string(m[3]) + " "
	return append([]byte(out), line[len(m[0]):]...), nil, true
}

var longFrac = regexp.MustCompile(`^(<\d{1,3}>)?[^\n]{0,40}?\d:\d\d\.\d{6}(\d+)`)

// longFraction: rsyslog reads fractions beyond microseconds but prints
// them as garbage; the line with six digits is read instead and the
// rest of the nanoseconds added.
func longFraction(_ Line, line []byte, r Reading) ([]byte, func(*Reading), bool) {
	m := longFrac.FindSubmatchIndex(line)
	if _, err := time.Parse(time.RFC3339Nano, r.Timestamp); m == nil || err == nil {
		return nil, nil, false
	}
	digits := string(line[m[4]:m[5]])
	extra, _ := strconv.Atoi((digits + "000")[:3])
	out := append(append([]byte{}, line[:m[4]]...), line[m[5]:]...)
	return out, func(r *Reading) {
		if t, err := time.Parse(time.RFC3339Nano, r.Timestamp); err == nil && r.Timestamp != r.Received {
			r.Timestamp = t.Add(time.Duration(extra)).Format(time.RFC3339Nano)
		}
	}, true
}

// sdIsMsgID: when the field after MSGID is not structured data, rsyslog
// leaves its parse buffer as the MSGID made it and stores that as
// structured data.
func sdIsMsgID(_ Line, exp *Reading) bool {
	if exp.Version != "1" || exp.SD == "" || exp.SD != exp.MsgID || strings.HasPrefix(exp.SD, "[") {
		return false
	}
	exp.SD = ""
	return true
}
