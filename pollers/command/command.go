// Package command is the custom command monitor: a program on the active
// appliance runs against a node and prints `key,value` lines; each line is
// an item (numbers judged by thresholds, other text kept as text), plus
// the exit code. It is how an operator adds a check mamori has no kind for.
package command

import (
	"encoding/json"
	"path/filepath"
	"strings"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/params"
)

// ExitCode is the key of the exit code item.
const ExitCode = "exit_code"

// Params are the monitor's parameters.
type Params struct {
	// Argv is the program (an absolute path) and its arguments, run
	// without a shell. {{address}}, {{node}} and {{name}} are replaced by
	// the node's address, id and name.
	Argv []string `json:"argv,omitempty"`
	// Shell is a command line for /bin/sh -c, instead of argv; the
	// placeholders are replaced by shell-quoted values.
	Shell string `json:"shell,omitempty"`
	// Credential names a sealed credential handed to the command in the
	// environment variable MAMORI_CREDENTIAL (never on its command line,
	// which every local user can read).
	Credential string `json:"credential,omitempty"`
}

// Kind is the custom command monitor.
func Kind() check.Kind {
	return check.Kind{Name: "command", Label: "Custom command (key,value lines)", Value: check.Numeric, Where: check.Appliance,
		PerItem: true,
		Fields: []check.Field{
			{Name: "argv", Type: "list", Label: "Program and arguments",
				Help: "An absolute path, then one argument per entry; {{address}}, {{node}}, {{name}} are replaced. Run without a shell."},
			{Name: "shell", Type: "string", Label: "Shell command line",
				Help: "Instead of argv: run by /bin/sh -c, placeholders shell-quoted. Leave empty to use argv."},
			{Name: "credential", Type: "credential", Label: "Credential", Help: "Given to the command as $MAMORI_CREDENTIAL."},
		},
		New: func() check.Checker { return checker{} }}
}

type checker struct{}

// maxArgs bounds argv (each entry is also bounded).
const maxArgs = 256

// Validate checks that exactly one of argv and shell is given.
func (checker) Validate(raw json.RawMessage) (json.RawMessage, error) {
	return params.Normalise(raw, parse)
}

func parse(raw json.RawMessage) (Params, error) {
	var p Params
	if err := params.Decode(raw, &p); err != nil {
		return p, err
	}
	switch {
	case len(p.Argv) > 0 && p.Shell != "":
		return p, params.Bad("shell", "give argv or shell, not both")
	case p.Shell != "":
		if len(p.Shell) > 8<<10 || strings.ContainsRune(p.Shell, 0) {
			return p, params.Bad("shell", "at most 8 KiB, no NUL")
		}
		return p, nil
	case len(p.Argv) == 0:
		return p, params.Bad("argv", `give the program and its arguments, e.g. ["/usr/local/bin/check_queue", "{{address}}"]`)
	case !filepath.IsAbs(p.Argv[0]):
		return p, params.Bad("argv", "%q: give the program's absolute path (no search in PATH)", p.Argv[0])
	case len(p.Argv) > maxArgs:
		return p, params.Bad("argv", "at most %d entries", maxArgs)
	}
	for _, a := range p.Argv {
		if len(a) > 8<<10 || strings.ContainsRune(a, 0) {
			return p, params.Bad("argv", "each entry at most 8 KiB, no NUL")
		}
	}
	return p, nil
}

// substitute replaces the placeholders in s; quote (shell mode) makes
// each value one shell word whatever it holds.
func substitute(s string, t check.Target, quote bool) string {
	vals := []string{t.Address, t.NodeID, t.Name}
	if quote {
		for i, v := range vals {
			vals[i] = shellQuote(v)
		}
	}
	return strings.NewReplacer("{{address}}", vals[0], "{{node}}", vals[1], "{{name}}", vals[2]).Replace(s)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
