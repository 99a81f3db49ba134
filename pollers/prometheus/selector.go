package prometheus

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// matcher is one label matcher of a selector (the metric name is the
// label __name__, as in PromQL).
type matcher struct {
	label, op, value string
	re               *regexp.Regexp // =~ and !~, anchored
}

func (m matcher) matches(v string) bool {
	switch m.op {
	case "=":
		return v == m.value
	case "!=":
		return v != m.value
	case "=~":
		return m.re.MatchString(v)
	default:
		return !m.re.MatchString(v)
	}
}

// selector is a parsed PromQL-style series selector:
// name{label="v", label!="v", label=~"re", label!~"re"}.
type selector []matcher

// parseSelector reads a selector; the error says where it went wrong.
func parseSelector(src string) (selector, error) {
	s := strings.TrimSpace(src)
	var sel selector
	name := s
	if i := strings.IndexByte(s, '{'); i >= 0 {
		name = strings.TrimSpace(s[:i])
		if !strings.HasSuffix(s, "}") {
			return nil, fmt.Errorf("%q: close the label list with }", src)
		}
		ms, err := parseMatchers(s[i+1 : len(s)-1])
		if err != nil {
			return nil, err
		}
		sel = ms
	}
	if name != "" {
		if !metricName.MatchString(name) {
			return nil, fmt.Errorf("%q is not a metric name (letters, digits, _ and :)", name)
		}
		sel = append(selector{{label: "__name__", op: "=", value: name}}, sel...)
	}
	for _, m := range sel {
		if !m.matches("") {
			return sel, nil
		}
	}
	return nil, fmt.Errorf("%q selects every series: name a metric or a label that must be non-empty", src)
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*`)
	operator   = regexp.MustCompile(`^(=~|!~|!=|=)`)
)

func parseMatchers(s string) (selector, error) {
	var sel selector
	for {
		s = strings.TrimSpace(s)
		if s == "" {
			return sel, nil
		}
		name := labelName.FindString(s)
		if name == "" {
			return nil, fmt.Errorf("expected a label name at %q", s)
		}
		s = strings.TrimSpace(s[len(name):])
		op := operator.FindString(s)
		if op == "" {
			return nil, fmt.Errorf("expected =, !=, =~ or !~ after %s", name)
		}
		s = strings.TrimSpace(s[len(op):])
		val, rest, err := quoted(s)
		if err != nil {
			return nil, fmt.Errorf("label %s: %w", name, err)
		}
		m := matcher{label: name, op: op, value: val}
		if op == "=~" || op == "!~" {
			// (?s): "." matches a newline too, as in Prometheus since 3.0.
			if m.re, err = regexp.Compile("^(?s:" + val + ")$"); err != nil {
				return nil, fmt.Errorf("label %s: %w", name, err)
			}
		}
		sel = append(sel, m)
		s = strings.TrimSpace(rest)
		if s != "" {
			if s[0] != ',' {
				return nil, fmt.Errorf("expected , between matchers at %q", s)
			}
			s = s[1:]
		}
	}
}

// quoted reads a double-quoted string with Go escapes from the start of s.
func quoted(s string) (string, string, error) {
	if s == "" || s[0] != '"' {
		return "", "", fmt.Errorf(`expected a "quoted" value at %q`, s)
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			v, err := strconv.Unquote(s[:i+1])
			return v, s[i+1:], err
		}
	}
	return "", "", fmt.Errorf("unterminated value %q", s)
}
