package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/appliance/auth"
)

// adminCmd creates an administrator on this appliance. There is no
// default password: the first administrator is made here, by someone
// with access to the appliance's own certificate.
func adminCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("%w: admin needs create", errUsage)
	}
	var user, pwFile *string
	cfg, _, err := loadConfig("admin create", args[1:], func(fs *flag.FlagSet) {
		user = fs.String("user", "", "user name of the new administrator")
		pwFile = fs.String("password-file", "", "file holding the password (default: read one line from standard input)")
	})
	if err != nil {
		return err
	}
	if *user == "" {
		return fmt.Errorf("%w: admin create needs --user", errUsage)
	}
	pw, err := readPassword(*pwFile)
	if err != nil {
		return err
	}
	if err := callLocal(ctx, cfg, http.MethodPost, "/internal/v1/admin", map[string]any{"user": *user, "password": pw}, nil, 30*time.Second); err != nil {
		return fmt.Errorf("admin create: %w", err)
	}
	fmt.Printf("administrator %s created\n", *user)
	return nil
}

func readPassword(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	fmt.Fprint(os.Stderr, "password: ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("no password on standard input: type it, pipe it in (echo … | mamori admin create --user NAME), or give --password-file")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// auditCmd verifies the audit chain on this appliance's copy.
func auditCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("%w: audit needs verify", errUsage)
	}
	cfg, _, err := loadConfig("audit verify", args[1:], nil)
	if err != nil {
		return err
	}
	var rep auth.VerifyReport
	if err := callLocal(ctx, cfg, http.MethodGet, "/api/v1/audit/verify", nil, &rep, 5*time.Minute); err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	if !rep.OK {
		for _, p := range rep.Problems {
			fmt.Println("TAMPERED:", p)
		}
		return fmt.Errorf("%w: %d problems in %d rows", auth.ErrTampered, len(rep.Problems), rep.Rows)
	}
	fmt.Printf("audit log intact: %d rows, chain and head verify\n", rep.Rows)
	return nil
}
