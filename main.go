// Command mamori is the operations-management appliance: one binary for
// the appliance itself (serve), pairing (pair init|join), recovery,
// status, and (later) the witness and the agent.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Set by the Makefile (-X main.version=… -X main.commit=… -X main.date=…);
// `mamori version` shows "unknown" for what a plain `go build` left empty.
var (
	version = "dev"
	commit  = ""
	date    = ""
)

const usage = `mamori — operations-management appliance

Usage:
  mamori serve   [--config FILE] [--data-dir DIR]   run the appliance
  mamori pair init [--config FILE] [--ttl 15m]      print a one-time pairing code (on the first appliance)
  mamori pair join --peer HOST:PORT --code CODE [--config FILE]
                                                    join the first appliance (on the second: fresh and running, or stopped)
  mamori setup-token [--config FILE]                show the setup token of a fresh appliance (the web console's /setup asks for it)
  mamori recover [--config FILE]                    rejoin the active appliance as standby
  mamori switchover [--config FILE] [--timeout 60s] move the active role to the other appliance (planned, lossless)
  mamori status  [--config FILE] [--json]           show role, epoch, peer, witness, replication
  mamori doctor  [--config FILE] [--data-dir DIR] [--json]
                                                    check ports, capabilities, disk, certificates and the pair, each with what to do
  mamori witness join --listen IP:PORT --peer HOST:PORT --code CODE [--data-dir DIR] [--id NAME]
                                                    certify a witness host (code from "mamori pair init")
  mamori witness serve --listen IP:PORT [--data-dir DIR] [--id NAME]
                                                    run the lease arbiter of ha.mode: witness
  mamori admin create --user NAME [--password-file F] create an administrator (password on stdin)
  mamori audit verify [--config FILE]               check the audit log's hash chain
  mamori backup --out FILE [--passphrase-file F] [--config FILE]
                                                    write an encrypted backup of the running appliance (passphrase on stdin)
  mamori restore --in FILE [--passphrase-file F] [--config FILE] [--data-dir DIR]
                                                    restore a backup into an empty data directory (mamori stopped)
  mamori version                                    show version, commit and build date (also: mamori --version)
  mamori help [COMMAND]                             show a command's usage and flags (also: mamori COMMAND --help)

Without --config, commands read $MAMORI_CONFIG, else /etc/mamori/mamori.yaml if it exists, else built-in defaults.
`

func main() {
	startProfiler()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if errors.Is(err, errReexec) {
		err = reexec()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mamori:", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, "\n"+usageOf(err))
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command given", errUsage)
	}
	if done, err := helpFirst(ctx, args); done {
		return err
	}
	err := dispatch(ctx, args)
	if errors.Is(err, errHelp) {
		return nil // the command printed its usage
	}
	return withCommand(err, args)
}

func dispatch(ctx context.Context, args []string) error {
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serveCmd(ctx, rest)
	case "pair":
		return pairCmd(ctx, rest)
	case "recover":
		return recoverCmd(ctx, rest)
	case "switchover":
		return switchoverCmd(ctx, rest)
	case "status":
		return statusCmd(ctx, rest)
	case "witness":
		return witnessCmd(ctx, rest)
	case "admin":
		return adminCmd(ctx, rest)
	case "setup-token":
		return setupTokenCmd(ctx, rest)
	case "audit":
		return auditCmd(ctx, rest)
	case "backup":
		return backupCmd(ctx, rest)
	case "restore":
		return restoreCmd(ctx, rest)
	case "doctor":
		return doctorCmd(ctx, rest)
	case "version", "--version":
		fmt.Println(versionLine())
		return nil
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}
