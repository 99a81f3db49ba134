package syslogtest

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// RsyslogTemplate is the rsyslog template whose output ParseRsyslog
// reads: one JSON object per message. The property names are rsyslog's.
const RsyslogTemplate = `template(name="diff" type="list" option.jsonf="on") {
  property(outname="pri" name="pri" format="jsonf")
  property(outname="facility" name="syslogfacility" format="jsonf")
  property(outname="severity" name="syslogseverity" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="fromhost" name="fromhost-ip" format="jsonf")
  property(outname="programname" name="programname" format="jsonf")
  property(outname="tag" name="syslogtag" format="jsonf")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="received" name="timegenerated" dateFormat="rfc3339" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="version" name="protocol-version" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
  property(outname="raw" name="rawmsg" format="jsonf")
}
`

// ParseRsyslog reads one line of RsyslogTemplate's output, keeping bytes
// that are not UTF-8 as they are (rsyslog passes them through;
// encoding/json would replace them).
func ParseRsyslog(b []byte) (Reading, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Reading{}, err
	}
	var r Reading
	for k, dst := range map[string]*string{"pri": &r.PRI, "facility": &r.Facility, "severity": &r.Severity, "hostname": &r.Hostname,
		"fromhost": &r.FromHost, "programname": &r.Program, "tag": &r.Tag, "timestamp": &r.Timestamp, "received": &r.Received,
		"procid": &r.ProcID, "msgid": &r.MsgID, "sd": &r.SD, "version": &r.Version, "msg": &r.Msg, "raw": &r.Raw} {
		v, ok := raw[k]
		if !ok {
			return r, errors.New("rsyslog output lacks " + k)
		}
		s, err := unquote(v)
		if err != nil {
			return r, err
		}
		*dst = s
	}
	return r, nil
}

// unquote decodes a JSON string byte for byte.
func unquote(q []byte) (string, error) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", errors.New("not a JSON string: " + string(q))
	}
	q = q[1 : len(q)-1]
	out := make([]byte, 0, len(q))
	for i := 0; i < len(q); i++ {
		if q[i] != '\\' {
			out = append(out, q[i])
			continue
		}
		if i++; i >= len(q) {
			return "", errors.New("truncated escape")
		}
		if c, ok := simpleEscapes[q[i]]; ok {
			out = append(out, c)
			continue
		}
		if q[i] != 'u' || i+4 >= len(q) {
			return "", errors.New("bad escape in " + string(q))
		}
		r, n, err := unicodeEscape(q[i+1:])
		if err != nil {
			return "", err
		}
		out, i = utf8.AppendRune(out, r), i+n
	}
	return string(out), nil
}

var simpleEscapes = map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// unicodeEscape reads the XXXX of \uXXXX (and a following low
// surrogate), returning the rune and the bytes consumed.
func unicodeEscape(b []byte) (rune, int, error) {
	hi, err := strconv.ParseUint(string(b[:4]), 16, 16)
	if err != nil {
		return 0, 0, err
	}
	if utf16.IsSurrogate(rune(hi)) && len(b) >= 10 && b[4] == '\\' && b[5] == 'u' {
		if lo, err := strconv.ParseUint(string(b[6:10]), 16, 16); err == nil {
			return utf16.DecodeRune(rune(hi), rune(lo)), 10, nil
		}
	}
	return rune(hi), 4, nil
}
