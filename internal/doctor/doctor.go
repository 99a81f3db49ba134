// Package doctor checks an installation the way an operator would when
// something looks wrong: ports another program holds, capabilities, the
// kernel's receive buffer limit, disk space, certificate expiry and, when
// mamori runs, the pair as it sees itself (role, peer paths, witness,
// store, clock difference, service address). Every finding is one line
// that says what was found and what to do about it.
//
// The checks read the system (/proc, the data directory, the running
// appliance's status); they never change anything.
package doctor

import (
	"fmt"
	"io"
	"strings"
)

// Level is how bad a finding is.
type Level string

// Levels, from good to bad. WARN alone does not make the exit code fail.
const (
	OK   Level = "OK"
	Warn Level = "WARN"
	Fail Level = "FAIL"
)

// Result is one finding.
type Result struct {
	Level   Level  `json:"level"`
	Check   string `json:"check"`
	Finding string `json:"finding"`
	// Action says what to do; empty when nothing needs doing.
	Action string `json:"action,omitempty"`
}

func ok(check, format string, args ...any) Result {
	return Result{Level: OK, Check: check, Finding: fmt.Sprintf(format, args...)}
}

func warn(check, action, format string, args ...any) Result {
	return Result{Level: Warn, Check: check, Finding: fmt.Sprintf(format, args...), Action: action}
}

func fail(check, action, format string, args ...any) Result {
	return Result{Level: Fail, Check: check, Finding: fmt.Sprintf(format, args...), Action: action}
}

// Line is the result as one line: "LEVEL check: finding — action".
func (r Result) Line() string {
	s := fmt.Sprintf("%-4s %s: %s", r.Level, r.Check, r.Finding)
	if r.Action != "" {
		s += " — " + r.Action
	}
	return s
}

// Report is every finding of one run.
type Report []Result

// Failed says whether any finding is a FAIL.
func (r Report) Failed() bool {
	for _, x := range r {
		if x.Level == Fail {
			return true
		}
	}
	return false
}

// Count is the number of findings at level l.
func (r Report) Count(l Level) int {
	n := 0
	for _, x := range r {
		if x.Level == l {
			n++
		}
	}
	return n
}

// Summary is the last line of the text output.
func (r Report) Summary() string {
	switch f, w := r.Count(Fail), r.Count(Warn); {
	case f > 0:
		return fmt.Sprintf("%d FAIL, %d WARN: fix the FAIL lines above (each says how)", f, w)
	case w > 0:
		return fmt.Sprintf("healthy, with %d WARN to look at", w)
	default:
		return "healthy"
	}
}

// Write prints one line per finding and the summary.
func (r Report) Write(w io.Writer) error {
	var b strings.Builder
	for _, x := range r {
		b.WriteString(x.Line())
		b.WriteByte('\n')
	}
	b.WriteString(r.Summary())
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}
