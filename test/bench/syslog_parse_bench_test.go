package bench

import (
	"testing"
	"time"

	"github.com/mamori-ops/mamori/ingest/syslog"
	"github.com/mamori-ops/mamori/ingest/syslog/syslogtest"
)

// BenchmarkSyslogParse parses every line of the differential corpus
// (golden cases, collected samples, generated variants: the lines the
// rsyslog comparison runs on) and reports the mean time per message.
func BenchmarkSyslogParse(b *testing.B) {
	lines, err := syslogtest.Load("../../ingest/syslog/testdata")
	if err != nil {
		b.Fatal(err)
	}
	p := syslog.NewParser(time.UTC, syslog.UTF8)
	received := time.Now()
	parseAll := func() {
		for _, l := range lines {
			_, _ = p.Parse(l.Bytes, received)
		}
	}
	parseAll() // warm up
	const rounds = 300
	start := time.Now()
	for range rounds {
		parseAll()
	}
	report("syslog_parse_ns_per_msg", float64(time.Since(start).Nanoseconds())/float64(rounds*len(lines)), "ns")
	report("syslog_parse_corpus_lines", float64(len(lines)), "lines")
}
