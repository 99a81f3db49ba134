package syslogtest

import "strings"

// The variants devices send, combined by Generated. Every timestamp
// meets every host and every tag; PRI and body rotate, so each of them
// meets many of the others without multiplying the corpus.
var (
	genPRIs = []string{"<13>", "<34>", "<165>", "<0>", "<191>", "<86>", "<187>", ""}
	// RFC 3164 stamps: case, one or two spaces, fractions, a year before,
	// in or after the time, a trailing colon, a space after the PRI,
	// RFC 3339 with and without offset, none, Cisco IOS counters/zones.
	genStamps = []string{"Mar 15 11:59:00", "Mar  5 01:02:03", "MAR 15 11:59:00", "mar  5 01:02:03", "Dec 31 23:59:59",
		"Jan  1 00:00:00", "Mar 15 11:59:00.123", "Mar 15 11:59:00.123456", "Mar 15 2026 11:59:00", "2026 Mar 15 11:59:00",
		"Mar 15 11:59:00:", "Mar 15 2026 11:59:00:", "Mar 15 11:59:00 2026", " Mar 15 11:59:00", "2026-03-15T11:59:00Z",
		"2026-03-15T11:59:00.123+09:00", "2026-03-15T11:59:00", "", "*Mar 15 11:59:00.123 UTC:", "123: Mar 15 11:59:00.123 JST:"}
	genHosts = []string{"web01", "db-01.example.com", "192.0.2.10", "", "host_a"}
	// Tags: with colon, pid, none, odd program names, Cisco mnemonics,
	// a tag without colon, Snare's tab-separated fields, non-ASCII.
	genTags   = []string{"app:", "app[123]:", "app", "sshd(pam_unix)[99]:", "postfix/smtpd[42]:", "%ASA-6-302013:", "--", "MSWinEventLog\t1\tSecurity\t", "監視:"}
	genBodies = []string{"hello world", "GET /index.html 200 0.004", "user=alice action=login", "disk /var 95% full: cleanup needed",
		"", " indented", "ディスク障害が発生しました", "a: b: c"}

	// RFC 5424 variants.
	gen5424Stamps = []string{"2026-03-15T11:59:00Z", "2026-03-15T11:59:00.123456+09:00", "2003-10-11T22:14:15.003-07:00", "-",
		"2026-03-15T11:59:00.5", "2026-03-15 11:59:00"}
	gen5424SD = []string{"-", `[exampleSDID@32473 iut="3" eventSource="Application"]`, `[a@1 x="y"][b@1 z="w\]v"]`,
		`[exampleSDID@32473 iut="3" eventSource= "Application"]`, `[a@1]`, ""}
	gen5424Apps   = []string{"evntslog", "-", "RT_FLOW", "docker/6befb258"}
	gen5424Hosts  = []string{"mymachine.example.com", "-", "192.0.2.1"}
	gen5424IDs    = [][2]string{{"-", "-"}, {"1234", "ID47"}, {"-", "UI_COMMIT"}}
	gen5424Bodies = []string{"An application event log entry", "", "\xef\xbb\xbfwith a BOM", " leading space", "ジョブが終了しました"}
)

// Generated combines the variants above: RFC 3164 lines (every stamp
// with every host and tag) and RFC 5424 lines (every stamp with every
// structured-data form and app name).
func Generated() []Line {
	var out []Line
	n := 0
	for _, st := range genStamps {
		for _, h := range genHosts {
			for _, tag := range genTags {
				out = append(out, Line{Bytes: []byte(line3164(genPRIs[n%len(genPRIs)], st, h, tag, genBodies[n%len(genBodies)])), Origin: "generated"})
				n++
			}
		}
	}
	for _, st := range gen5424Stamps {
		for _, sd := range gen5424SD {
			for _, app := range gen5424Apps {
				ids := gen5424IDs[n%len(gen5424IDs)]
				parts := []string{"<165>1", st, gen5424Hosts[n%len(gen5424Hosts)], app, ids[0], ids[1], sd}
				if sd == "" {
					parts = parts[:6]
				}
				out = append(out, Line{Bytes: []byte(strings.Join(parts, " ") + " " + gen5424Bodies[n%len(gen5424Bodies)]), Origin: "generated"})
				n++
			}
		}
	}
	return out
}

func line3164(pri, stamp, host, tag, body string) string {
	var b strings.Builder
	b.WriteString(pri)
	for _, part := range []string{stamp, host} {
		if part != "" {
			b.WriteString(part + " ")
		}
	}
	b.WriteString(tag)
	if !strings.HasSuffix(tag, "\t") {
		b.WriteString(" ")
	}
	b.WriteString(body)
	return b.String()
}
