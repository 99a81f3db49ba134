package notify

import (
	"strings"
	"testing"
	"time"
)

// run feeds priorities one per minute through a rule and returns what
// each result notified ("" none, "P" problem, "R" recovery), applying
// what the notifier applies after recording.
func run(r Rule, priorities string) string {
	if err := ValidateRule(&r); err != nil {
		panic(err)
	}
	s := &state{}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	names := map[byte]string{'c': "critical", 'u': "unknown", 'w': "warning", 'i': "info"}
	var out []string
	for i := range len(priorities) {
		p := names[priorities[i]]
		at := t0.Add(time.Duration(i) * time.Minute)
		j := Judged{Priority: p, At: at}
		kind := s.observe(r, j)
		switch {
		case kind != "":
			s.notifiedNow(p, at, j.seq())
		case s.settles(p) && s.count >= r.After:
			s.notifiedNow(p, at, j.seq())
		}
		out = append(out, map[string]string{"": ".", KindProblem: "P", KindRecovery: "R"}[kind])
	}
	return strings.Join(out, "")
}

func TestSuppression(t *testing.T) {
	problems := []string{"critical", "unknown", "warning"}
	for _, tc := range []struct {
		name  string
		rule  Rule
		in    string
		want  string
		notes string
	}{
		{"change only", Rule{Priorities: problems}, "cccwwci", "P..P.P.", "each change notifies once, info is not covered"},
		{"change with info covered", Rule{Priorities: Priorities}, "icci", "PP.P", ""},
		{"always", Rule{Priorities: problems, Renotify: RenotifyAlways}, "cccw", "PPPP", ""},
		{"after 3", Rule{Priorities: problems, After: 3}, "ccwccc", ".....P", "a flap resets the count"},
		{"after 2 always", Rule{Priorities: problems, After: 2, Renotify: RenotifyAlways}, "cccc", ".PPP", ""},
		{"period 3m", Rule{Priorities: problems, Renotify: RenotifyPeriod, Period: "3m"}, "cccccccw", "P..P..PP", "minutes 0, 3, 6; the change at 7"},
		{"recovery", Rule{Priorities: problems, Recovery: true}, "iccii", ".P.R.", ""},
		{"recovery after 2", Rule{Priorities: problems, Recovery: true, After: 2}, "cciic", ".P.R.", ""},
		{"no recovery before a problem", Rule{Priorities: problems, Recovery: true}, "iii", "...", ""},
		{"recovery off: next problem notifies again", Rule{Priorities: problems}, "cic", "P.P", "the unannounced info closes the problem"},
		{"critical only", Rule{Priorities: []string{"critical"}, Recovery: true}, "wwcwci", "..P..R", "warning is not covered: no new notice on c after w"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.rule.ID, tc.rule.Channels = "r", []string{"c"}
			if got := run(tc.rule, tc.in); got != tc.want {
				t.Errorf("%s: %s gave %s, want %s (%s)", tc.name, tc.in, got, tc.want, tc.notes)
			}
		})
	}
}

func TestReleaseAfterWindow(t *testing.T) {
	r := Rule{ID: "r", Channels: []string{"c"}, Priorities: []string{"critical", "warning"}, Recovery: true}
	_ = ValidateRule(&r)
	s := &state{notified: "critical", last: "info"}
	if got := s.release(r); got != KindRecovery {
		t.Errorf("back to info during the window after a notified critical: %q, want recovery", got)
	}
	s = &state{notified: "critical", last: "critical"}
	if got := s.release(r); got != "" {
		t.Errorf("the same state as notified: %q, want nothing", got)
	}
	s = &state{notified: "", last: "warning"}
	if got := s.release(r); got != KindProblem {
		t.Errorf("a new problem held by the window: %q, want problem", got)
	}
	s = &state{notified: "", last: "info"}
	if got := s.release(r); got != "" {
		t.Errorf("info with nothing notified: %q, want nothing", got)
	}
}

func TestValidateRuleNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		r     Rule
		field string
	}{
		{Rule{ID: "", Channels: []string{"c"}, Priorities: []string{"critical"}}, "id"},
		{Rule{ID: "r", Priorities: []string{"critical"}}, "channels"},
		{Rule{ID: "r", Channels: []string{"c"}, Priorities: []string{"fatal"}}, "priorities"},
		{Rule{ID: "r", Channels: []string{"c"}}, "priorities"},
		{Rule{ID: "r", Channels: []string{"c"}, Priorities: []string{"critical"}, Renotify: "sometimes"}, "renotify"},
		{Rule{ID: "r", Channels: []string{"c"}, Priorities: []string{"critical"}, Renotify: "period", Period: "soon"}, "period"},
		{Rule{ID: "r", Channels: []string{"c"}, Priorities: []string{"critical"}, After: -1}, "after"},
	} {
		err := ValidateRule(&tc.r)
		if err == nil || !strings.Contains(err.Error(), tc.field+":") {
			t.Errorf("%+v: %v, want an error naming %s", tc.r, err, tc.field)
		}
	}
}

func TestValidateChannelNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		c     Channel
		field string
	}{
		{Channel{ID: "m", Type: Mail, Mail: &MailConfig{Server: "nohost", From: "a@b", To: []string{"c@d"}}}, "mail.server"},
		{Channel{ID: "m", Type: Mail, Mail: &MailConfig{Server: "h:25", From: "a@b", To: []string{"c@d"}, Security: "none", Username: "u", PasswordCredential: "p"}}, "mail.security"},
		{Channel{ID: "m", Type: Mail, Mail: &MailConfig{Server: "h:25", From: "a@b", To: []string{"bad"}}}, "mail.to"},
		{Channel{ID: "m", Type: Mail, Mail: &MailConfig{Server: "h:25", From: "a@b", To: []string{"c@d"}, Subject: "{{.Nope"}}, "mail.subject"},
		{Channel{ID: "w", Type: Webhook, Webhook: &WebhookConfig{URL: "ftp://x", Format: "json"}}, "webhook.url"},
		{Channel{ID: "w", Type: Webhook, Webhook: &WebhookConfig{URL: "http://x", Format: "pagerduty"}}, "webhook.token_credential"},
		{Channel{ID: "x", Type: Command, Command: &CommandConfig{Argv: []string{"notify-send"}}}, "command.argv"},
		{Channel{ID: "x", Type: Command, Command: &CommandConfig{Argv: []string{"/bin/true"}, Timeout: "1h"}}, "command.timeout"},
		{Channel{ID: "s", Type: Syslog, Syslog: &SyslogConfig{Address: "h:514", Transport: "sctp"}}, "syslog.transport"},
		{Channel{ID: "s", Type: Mail, Syslog: &SyslogConfig{Address: "h:514"}}, "type"},
	} {
		err := ValidateChannel(&tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.field+":") {
			t.Errorf("%+v: %v, want an error naming %s", tc.c, err, tc.field)
		}
	}
}
