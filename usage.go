package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// The command-line conventions: `mamori COMMAND --help` (-h, or `mamori
// help COMMAND`) prints that command's lines of the usage and its flags
// with their defaults on standard output and exits 0; a usage error
// prints the message and that command's usage on standard error and
// exits 2; every other error exits 1. A command's usage is its lines of
// the top-level usage text, so a new command documents itself by adding
// its line there.

// errHelp: the command printed its usage because it was asked to.
var errHelp = errors.New("help printed")

// usageError is a usage error of one command.
type usageError struct {
	cmd   string // "pair join"
	flags string // the flag defaults, when the command parsed flags
	err   error  // wraps errUsage
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "-help" }

// groups are commands whose first argument is a subcommand (or that take
// no flags): their --help is their usage lines alone.
var groups = map[string]bool{"pair": true, "witness": true, "admin": true, "audit": true, "version": true, "help": true}

// helpFirst handles `mamori help …`, `mamori --help` and `mamori GROUP --help`.
func helpFirst(ctx context.Context, args []string) (bool, error) {
	switch {
	case args[0] == "help" || isHelp(args[0]):
		return true, help(ctx, args[1:])
	case len(args) > 1 && isHelp(args[1]) && groups[args[0]]:
		return true, help(ctx, args[:1])
	}
	return false, nil
}

func help(ctx context.Context, args []string) error {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Print(usage)
		return nil
	}
	name := strings.Join(args, " ")
	syn := synopsis(name)
	if syn == "" {
		return fmt.Errorf("%w: no command %q", errUsage, name)
	}
	if groups[args[0]] && len(args) == 1 {
		fmt.Print("Usage:\n" + syn)
		return nil
	}
	// The command prints its flags itself.
	return run(ctx, append(append([]string{}, args...), "--help"))
}

// synopsis is the usage lines of the command name ("pair" gives both
// pair commands), or "" for no such command.
func synopsis(name string) string {
	var b strings.Builder
	in := false
	for line := range strings.SplitSeq(usage, "\n") {
		switch {
		case strings.HasPrefix(line, "  mamori "):
			rest := strings.TrimPrefix(line, "  mamori ")
			in = strings.HasPrefix(rest, name) && (len(rest) == len(name) || rest[len(name)] == ' ')
		case !strings.HasPrefix(line, "    "):
			in = false
		}
		if in {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// parseFlags parses a command's flags: --help prints its usage
// (errHelp), a bad flag or a stray argument is a usage error.
func parseFlags(fs *flag.FlagSet, name string, args []string) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Print("Usage:\n" + synopsis(name) + "\nFlags:\n" + flagDefaults(fs))
		return errHelp
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	if err != nil {
		return &usageError{cmd: name, flags: flagDefaults(fs), err: fmt.Errorf("%w: %s: %v", errUsage, name, err)}
	}
	return nil
}

func flagDefaults(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}

// withCommand names the command of a usage error that does not name one
// yet, so its usage is printed instead of the whole list.
func withCommand(err error, args []string) error {
	var ue *usageError
	if !errors.Is(err, errUsage) || errors.As(err, &ue) {
		return err
	}
	name := args[0]
	if len(args) > 1 && synopsis(args[0]+" "+args[1]) != "" {
		name += " " + args[1]
	}
	if synopsis(name) == "" {
		return err // an unknown command: the whole usage follows
	}
	return &usageError{cmd: name, err: err}
}

// usageOf is what follows a usage error on standard error.
func usageOf(err error) string {
	var ue *usageError
	if !errors.As(err, &ue) {
		return usage
	}
	s := "Usage:\n" + synopsis(ue.cmd)
	if ue.flags != "" {
		s += "\nFlags:\n" + ue.flags
	}
	return s + "\n(mamori help lists every command)\n"
}

// versionLine is `mamori version`: version, commit and build date.
func versionLine() string {
	c := commit
	if c == "" {
		// A plain `go build` in a git checkout still records the revision.
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					c = s.Value[:12]
				}
			}
		}
	}
	return fmt.Sprintf("mamori %s (commit %s, built %s)", orUnknown(version), orUnknown(c), orUnknown(date))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
