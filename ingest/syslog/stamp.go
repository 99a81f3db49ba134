package syslog

import (
	"bytes"
	"time"
)

// The timestamp readers follow rsyslog's (runtime/datetime.c): they
// accept what it accepts, so the rest of the header splits the same way.
// Where mamori reads more, DIFFERENCES.md says so.

// atoi reads decimal digits from b[i:] as rsyslog's srSLMGParseInt32
// does (it stops consuming once the value passes 214748363).
func atoi(b []byte, i int) (int, int) {
	n := 0
	for i < len(b) && isDigit(b[i]) && n < 214748363 {
		n = n*10 + int(b[i]-'0')
		i++
	}
	return n, i
}

// field reads a number at b[i:] within [lo, hi] followed by sep (0: no
// separator), returning the index after the separator.
func field(b []byte, i, lo, hi int, sep byte) (int, int, bool) {
	n, j := atoi(b, i)
	if n < lo || n > hi {
		return 0, 0, false
	}
	if sep == 0 {
		return n, j, true
	}
	if j >= len(b) || b[j] != sep {
		return 0, 0, false
	}
	return n, j + 1, true
}

// fraction reads ".digits" at b[i:] as nanoseconds.
func fraction(b []byte, i int) (int, int) {
	if i >= len(b) || b[i] != '.' {
		return 0, i
	}
	n, j := atoi(b, i+1)
	for k := j - i - 1; k < 9; k++ {
		n *= 10
	}
	for k := j - i - 1; k > 9; k-- {
		n /= 10
	}
	return n, j
}

// read3339 reads an RFC 3339 timestamp and the space after it.
// zoneless, when not nil, is the zone of a stamp without offset (mamori
// reads those; rsyslog does not: DIFFERENCES.md).
func read3339(b []byte, zoneless *time.Location) (time.Time, []byte, bool) {
	year, i := atoi(b, 0)
	if i >= len(b) || b[i] != '-' || year >= 2100 {
		return time.Time{}, nil, false
	}
	var v [5]int
	var ok bool
	seps := [5]byte{'-', 'T', ':', ':', 0}
	lims := [5][2]int{{1, 12}, {1, 31}, {0, 23}, {0, 59}, {0, 60}}
	i++
	for k := range v {
		if v[k], i, ok = field(b, i, lims[k][0], lims[k][1], seps[k]); !ok {
			return time.Time{}, nil, false
		}
	}
	nsec, i := fraction(b, i)
	loc, i, ok := offset(b, i, zoneless)
	if !ok || i < len(b) && b[i] != ' ' {
		return time.Time{}, nil, false
	}
	t := time.Date(year, time.Month(v[0]), v[1], v[2], v[3], v[4], nsec, loc)
	return t, b[min(i+1, len(b)):], true
}

// offset reads "Z" or "+hh:mm" / "-hh:mm".
func offset(b []byte, i int, zoneless *time.Location) (*time.Location, int, bool) {
	if i >= len(b) || b[i] == ' ' {
		return zoneless, i, zoneless != nil
	}
	switch b[i] {
	case 'Z':
		return time.UTC, i + 1, true
	case '+', '-':
		h, j, ok := field(b, i+1, 0, 23, ':')
		if !ok {
			return nil, 0, false
		}
		m, j, ok := field(b, j, 0, 59, 0)
		sec := (h*60 + m) * 60
		if b[i] == '-' {
			sec = -sec
		}
		return time.FixedZone("", sec), j, ok
	}
	return nil, 0, false
}

// stamp3164 is an RFC 3164 timestamp; year 0 when it had none, zone nil
// when it named none.
type stamp3164 struct {
	year, month, day, hour, min, sec, nsec int
	zone                                   *time.Location
}

// read3164 reads "Mmm dd hh:mm:ss" with rsyslog's extensions (any case,
// a leading year, a year in the hour's place, one-digit days, fractions,
// a trailing colon) and mamori's (a zone name, a year after the time)
// and the space after it.
func read3164(b []byte) (stamp3164, []byte, bool) {
	var st stamp3164
	i, ok := 0, false
	if len(b) < 3 {
		return st, nil, false
	}
	if isDigit(b[0]) {
		if st.year, i = atoi(b, 0); st.year < 1970 || st.year > 2100 || i >= len(b) || b[i] != ' ' {
			return st, nil, false
		}
		i++
	}
	if st.month, ok = month(b[i:]); !ok || i+3 >= len(b) || b[i+3] != ' ' {
		return st, nil, false
	}
	if i += 4; i < len(b) && b[i] == ' ' {
		i++
	}
	if st.day, i, ok = field(b, i, 1, 31, ' '); !ok {
		return st, nil, false
	}
	if i, ok = st.clock(b, i); !ok {
		return st, nil, false
	}
	st.nsec, i = fraction(b, i)
	i = st.zoneName(b, i)
	i = st.yearAfter(b, i)
	if i < len(b) && b[i] == ':' {
		i++
	}
	if i < len(b) {
		if b[i] != ' ' {
			return st, nil, false
		}
		i++
	}
	return st, b[i:], true
}

// clock reads "hh:mm:ss", taking a year in the hour's place first
// ("Mar 7 2008 19:06:53", Cisco).
func (st *stamp3164) clock(b []byte, i int) (int, bool) {
	h, j := atoi(b, i)
	if st.year == 0 && h > 1970 && h < 2100 {
		if j >= len(b) || b[j] != ' ' {
			return 0, false
		}
		st.year = h
		h, j = atoi(b, j+1)
	}
	var ok bool
	if h > 23 || j >= len(b) || b[j] != ':' {
		return 0, false
	}
	st.hour = h
	if st.min, j, ok = field(b, j+1, 0, 59, ':'); !ok {
		return 0, false
	}
	st.sec, j, ok = field(b, j, 0, 60, 0)
	return j, ok
}

// yearAfter reads " 2009" after the time as rsyslog's pmrfc3164 option
// detect.YearAfterTimestamp does; mamori has it on (DIFFERENCES.md).
func (st *stamp3164) yearAfter(b []byte, i int) int {
	rest := len(b) - i
	if st.year != 0 || rest <= 5 || b[i] != ' ' {
		return i
	}
	y := 0
	for j := 1; j < 5 && isDigit(b[i+j]); j++ {
		y = 10*y + int(b[i+j]-'0')
	}
	if rest > 6 && b[i+5] != ' ' || y < 2000 || y >= 2100 {
		return i
	}
	st.year = y
	return i + 5
}

// zoneName reads a time-zone name after the time ("UTC", "JST",
// "UTC+07:30"), as Cisco IOS writes it: a known name followed by ':'
// only, so neither a host nor a program name is taken for a zone. UTC and GMT
// (with an offset) are applied; other names are skipped and the
// configured zone is used.
func (st *stamp3164) zoneName(b []byte, i int) int {
	if i >= len(b) || b[i] != ' ' {
		return i
	}
	j := i + 1
	for j < len(b) && (b[j]|0x20) >= 'a' && (b[j]|0x20) <= 'z' {
		j++
	}
	name := bytes.ToUpper(b[i+1 : j])
	if !zoneNames[string(name)] {
		return i
	}
	zone, k := zoneOffset(b, j)
	if k >= len(b) || b[k] != ':' {
		return i
	}
	if string(name) == "UTC" || string(name) == "GMT" || string(name) == "UT" {
		st.zone = zone
	}
	return k
}

// zoneOffset reads "+1", "-07:30" after a zone name.
func zoneOffset(b []byte, i int) (*time.Location, int) {
	if i >= len(b) || b[i] != '+' && b[i] != '-' {
		return time.UTC, i
	}
	h, j := atoi(b, i+1)
	m := 0
	if j+1 < len(b) && b[j] == ':' && isDigit(b[j+1]) {
		m, j = atoi(b, j+1)
	}
	if h > 23 || m > 59 || j == i+1 {
		return time.UTC, i
	}
	sec := (h*60 + m) * 60
	if b[i] == '-' {
		sec = -sec
	}
	return time.FixedZone("", sec), j
}

// zoneNames are the zone names devices print after a 3164 time.
var zoneNames = map[string]bool{
	"UTC": true, "GMT": true, "UT": true, "JST": true, "KST": true, "CST": true, "CDT": true, "EST": true,
	"EDT": true, "MST": true, "MDT": true, "PST": true, "PDT": true, "AKST": true, "AKDT": true, "HST": true,
	"CET": true, "CEST": true, "MET": true, "MEST": true, "EET": true, "EEST": true, "WET": true, "WEST": true,
	"BST": true, "IST": true, "MSK": true, "AEST": true, "AEDT": true, "ACST": true, "ACDT": true, "AWST": true,
	"NZST": true, "NZDT": true, "SGT": true, "HKT": true, "PHT": true, "ICT": true, "WIB": true,
}

// month reads a three-letter month name in any case.
func month(b []byte) (int, bool) {
	if len(b) < 3 {
		return 0, false
	}
	var k [3]byte
	for i := range k {
		k[i] = b[i] | 0x20
	}
	for i, name := range months {
		if name == k {
			return i + 1, true
		}
	}
	return 0, false
}

var months = [12][3]byte{{'j', 'a', 'n'}, {'f', 'e', 'b'}, {'m', 'a', 'r'}, {'a', 'p', 'r'}, {'m', 'a', 'y'}, {'j', 'u', 'n'},
	{'j', 'u', 'l'}, {'a', 'u', 'g'}, {'s', 'e', 'p'}, {'o', 'c', 't'}, {'n', 'o', 'v'}, {'d', 'e', 'c'}}

// time3164 places a 3164 stamp in time: in its zone, else loc; without a
// year, in the year of receipt, or the year before when that would put
// it more than two days ahead ("Dec 31" received on January 1).
func (st stamp3164) time(loc *time.Location, received time.Time) time.Time {
	if st.zone != nil {
		loc = st.zone
	}
	year := st.year
	if year == 0 {
		year = received.In(loc).Year()
	}
	t := time.Date(year, time.Month(st.month), st.day, st.hour, st.min, st.sec, st.nsec, loc)
	if st.year == 0 && t.After(received.Add(48*time.Hour)) {
		t = t.AddDate(-1, 0, 0)
	}
	return t
}
