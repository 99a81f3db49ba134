package syslogtest

import (
	"os"
	"regexp"
	"slices"
	"testing"
	"time"
)

// Every difference the comparison allows is explained in DIFFERENCES.md
// under its ID, and the file explains no other.
func TestDifferencesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../DIFFERENCES.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile(`(?m)^## ([RBD]\d+) `).FindAllSubmatch(doc, -1) {
		documented = append(documented, string(m[1]))
	}
	var listed []string
	for _, d := range Differences {
		listed = append(listed, d.ID)
	}
	if !slices.Equal(documented, listed) {
		t.Fatalf("DIFFERENCES.md lists %v, the comparison %v", documented, listed)
	}
}

// The corpus holds at least 500 distinct lines of every origin.
func TestCorpus(t *testing.T) {
	lines, err := Load("../testdata")
	if err != nil {
		t.Fatal(err)
	}
	origins := map[string]int{}
	for _, l := range lines {
		o := regexp.MustCompile(`^(case|generated|[a-z-]+\.txt)`).FindString(l.Origin)
		origins[o]++
	}
	if len(lines) < 500 || origins["case"] < 30 || origins["generated"] < 500 || len(origins) < 8 {
		t.Fatalf("%d lines by origin %v", len(lines), origins)
	}
}

// ParseRsyslog keeps bytes that are not UTF-8 and decodes JSON escapes.
func TestParseRsyslog(t *testing.T) {
	line := []byte(`{"pri":"13", "facility":"1", "severity":"5", "hostname":"h", "fromhost":"127.0.0.1", "programname":"app", ` +
		`"tag":"app\t1", "timestamp":"2026-03-15T11:59:00+00:00", "received":"2026-03-15T12:00:00+00:00", "procid":"-", ` +
		`"msgid":"-", "sd":"-", "version":"0", "msg":"a\"b\\c\u00e4\ud83d\udea8 ` + "\x83f" + `", "raw":"x"}`)
	r, err := ParseRsyslog(line)
	if err != nil || r.Msg != "a\"b\\cä🚨 \x83f" || r.Tag != "app\t1" || r.PRI != "13" {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := ParseRsyslog([]byte(`{"pri":"13"}`)); err == nil {
		t.Fatal("a reading without every property was accepted")
	}
}

// Each rewrite turns a line into the one rsyslog reads as mamori reads
// the first (r is rsyslog's reading of the line, where a rewrite needs it).
func TestRewrites(t *testing.T) {
	local := time.Date(2013, 1, 19, 15, 18, 17, 0, time.Local).Format("-07:00")
	for _, tc := range []struct {
		id, line, want string
		r              Reading
	}{
		{"R3", "<13>a b: c\r", "<13>a b: c", Reading{}},
		{"B1", "<14>2026 Mar 15 11:59:00 web01", "<14>Mar 15 2026 11:59:00 web01", Reading{}},
		{"B2", "<13>Mar 15 12:00:00.123456789 h a: b", "<13>Mar 15 12:00:00.123456 h a: b", Reading{Timestamp: "garbage"}},
		{"D2", `<189>date=2021-09-01 time=10:03:24 devname="FGT60E" tz="+0900" type="traffic"`,
			`<189>2021-09-01T10:03:24+09:00 FGT60E : date=2021-09-01 time=10:03:24 devname="FGT60E" tz="+0900" type="traffic"`, Reading{}},
		{"D3", "<189>123: sw01: *Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: x", "<189>Mar  1 18:46:11.123 UTC: sw01 %SYS-5-CONFIG_I: x", Reading{}},
		{"D3", "<189>: Jan  6 2022 20:54:26.961: %SYS-5-CONFIG_I: x", "<189>Jan  6 2022 20:54:26.961: %SYS-5-CONFIG_I: x", Reading{}},
		{"D4", "<190>Jul 14 2023 08:23:43.398 UTC: %FOO-6-BAR: x", "<190>Jul 14 2023 08:23:43.398: %FOO-6-BAR: x", Reading{}},
		{"D5", "<6>AUG 10 22:18:24 2009  netips", "<6>AUG 10 2009 22:18:24  netips", Reading{}},
		{"D6", "<120> 2011-03-01T11:22:12Z host tag: x", "<120>2011-03-01T11:22:12Z host tag: x", Reading{}},
		{"D7", "<14>1 2013-01-19T15:18:17.040 SRX100HM RT_FLOW", "<14>1 2013-01-19T15:18:17.040" + local + " SRX100HM RT_FLOW", Reading{}},
		{"D8", "<13>Mar 15 11:59:00 h MSWinEventLog\t1\tSecurity x", "<13>Mar 15 11:59:00 h MSWinEventLog 1\tSecurity x",
			Reading{Version: "0", Tag: "MSWinEventLog\t1\tSecurity", Msg: "x"}},
		{"D9", "<13>Mar 15 12:00:00 fw1 action=drop src=x", "<13>Mar 15 12:00:00 fw1 : action=drop src=x",
			Reading{Version: "0", Tag: "action=drop", Program: "action=drop", Msg: "src=x"}},
	} {
		t.Run(tc.id, func(t *testing.T) {
			i := slices.IndexFunc(Differences, func(d Difference) bool { return d.ID == tc.id })
			out, _, ok := Differences[i].Rewrite(Line{Bytes: []byte(tc.line)}, []byte(tc.line), tc.r)
			if !ok || string(out) != tc.want {
				t.Fatalf("got %q (%v), want %q", out, ok, tc.want)
			}
		})
	}
}

// A plain line needs no rewrite.
func TestNoRewriteForPlainLines(t *testing.T) {
	for _, line := range []string{"<13>Mar 15 12:00:00 host app: text", "<13>1 2026-03-15T12:00:00Z host app - - - text"} {
		r := Reading{Version: "0", Tag: "app:", Program: "app", Msg: "text"}
		for _, d := range Differences {
			if d.Rewrite == nil {
				continue
			}
			if out, _, ok := d.Rewrite(Line{Bytes: []byte(line)}, []byte(line), r); ok {
				t.Errorf("%s rewrote %q to %q", d.ID, line, out)
			}
		}
	}
}
