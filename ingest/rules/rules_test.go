package rules

import (
	"errors"
	"fmt"
	"testing"
)

func sev(n int) *int { return &n }

func TestFirstMatchingRuleDecides(t *testing.T) {
	set, err := Compile([]Rule{
		{Name: "late", Position: 30, Enabled: true, Kind: Syslog, Pattern: "disk", Action: Notify, Priority: "info"},
		{Name: "noise", Position: 10, Enabled: true, Kind: Syslog, Keywords: []string{"HEARTBEAT"}, Action: Drop},
		{Name: "disk-A", Position: 20, Enabled: true, Kind: Syslog, Scope: "A", MaxSeverity: sev(3), Pattern: `disk (\w+) failed`,
			Action: Notify, Priority: "critical", Template: "${host}: ${message} [${rule}]"},
		{Name: "off", Position: 0, Enabled: false, Kind: Syslog, Action: Drop},
		{Name: "link", Position: 1, Enabled: true, Kind: Trap, TrapOID: "1.3.6.1.6.3.1.1.5.*", Exclude: "ifIndex=1 ", Action: Notify, Priority: "warning"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		m    Message
		want string
	}{
		{Message{Kind: Syslog, Scope: "A", Severity: 2, Host: "db1", Text: "disk sda failed"}, "disk-A"},
		{Message{Kind: Syslog, Scope: "B", Severity: 2, Host: "db1", Text: "disk sda failed"}, "late"},
		{Message{Kind: Syslog, Scope: "A", Severity: 5, Text: "disk sda failed"}, "late"},
		{Message{Kind: Syslog, Scope: "A", Severity: 2, Text: "heartbeat ok, disk sda failed"}, "noise"},
		{Message{Kind: Syslog, Text: "nothing"}, ""},
		{Message{Kind: Trap, TrapOID: "1.3.6.1.6.3.1.1.5.3", Text: "ifIndex=7 ifDescr=eth7"}, "link"},
		{Message{Kind: Trap, TrapOID: "1.3.6.1.6.3.1.1.5.3", Text: "ifIndex=1 ifDescr=lo"}, ""},
		{Message{Kind: Trap, TrapOID: "1.3.6.1.6.3.1.1.50", Text: ""}, ""},
	} {
		got := ""
		if r := set.Match(&c.m); r != nil {
			got = r.Name
		}
		if got != c.want {
			t.Errorf("%+v matched %q, want %q", c.m, got, c.want)
		}
	}
	m := Message{Kind: Syslog, Scope: "A", Severity: 2, Host: "db1", Text: "disk sda failed"}
	if s := Render(set.Match(&m), &m); s != "db1: disk sda failed [disk-A]" {
		t.Errorf("rendered %q", s)
	}
}

func TestInvalidRulesNameTheField(t *testing.T) {
	for field, r := range map[string]Rule{
		"name":         {Kind: Syslog, Action: Drop},
		"kind":         {Name: "x", Kind: "mail", Action: Drop},
		"action":       {Name: "x", Kind: Syslog, Action: "page"},
		"priority":     {Name: "x", Kind: Syslog, Action: Notify, Priority: "urgent"},
		"pattern":      {Name: "x", Kind: Syslog, Action: Drop, Pattern: "(unclosed"},
		"max_severity": {Name: "x", Kind: Syslog, Action: Drop, MaxSeverity: sev(9)},
		"facilities":   {Name: "x", Kind: Syslog, Action: Drop, Facilities: []int{24}},
	} {
		err := Validate(r)
		if !errors.Is(err, ErrInvalid) || !contains(err.Error(), field+":") {
			t.Errorf("%s: got %v", field, err)
		}
	}
}

func contains(s, sub string) bool { return indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// BenchmarkMatch100Rules: the cost per message of 100 rules that do not match.
func BenchmarkMatch100Rules(b *testing.B) {
	var rs []Rule
	for i := range 100 {
		rs = append(rs, Rule{Name: fmt.Sprint(i), Position: i, Enabled: true, Kind: Syslog, Pattern: fmt.Sprintf(`error code %d\b`, 1000+i), Action: Notify, Priority: "warning"})
	}
	set, _ := Compile(rs)
	m := Message{Kind: Syslog, Text: "Nov 24 12:00:00 web1 nginx[123]: GET /index.html 200 0.003 upstream ok"}
	for b.Loop() {
		set.Match(&m)
	}
}
