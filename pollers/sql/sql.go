// Package sql is the SQL monitor: it runs one SELECT on a PostgreSQL or
// MySQL/MariaDB server, inside a read-only transaction, and reads the first
// cell of the first row as a number ("sql") or as text ("sql_string"),
// with the query's time as a second item.
package sql

import (
	"context"
	gosql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/internal/credential"
	"github.com/mamori-ops/mamori/pollers/params"
)

// Item keys.
const (
	Value   = "value"
	QueryMS = "query_ms"
)

// Drivers.
const (
	Postgres = "postgres"
	MySQL    = "mysql"
)

// TLS modes: disable, prefer (TLS when the server offers it, unverified),
// require (TLS, unverified), verify (TLS with the server's certificate and
// name verified against the system's roots).
var tlsModes = []string{"disable", "prefer", "require", "verify"}

// Params are the monitor's parameters.
type Params struct {
	Driver string `json:"driver"`
	// Host defaults to the node's address.
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port"`
	Database string `json:"database"`
	User     string `json:"user"`
	// Credential names the sealed password ("" for trust or peer auth).
	Credential string `json:"credential,omitempty"`
	TLS        string `json:"tls"`
	Query      string `json:"query"`
}

var defaultPorts = map[string]int{Postgres: 5432, MySQL: 3306}

// Kind is the numeric SQL monitor.
func Kind() check.Kind {
	return check.Kind{Name: "sql", Label: "SQL query (numeric)", Value: check.Numeric, Where: check.Appliance,
		Fields: fields(), New: func() check.Checker { return checker{numeric: true} }}
}

// StringKind is the text SQL monitor (judged by patterns).
func StringKind() check.Kind {
	return check.Kind{Name: "sql_string", Label: "SQL query (text)", Value: check.String, Where: check.Appliance,
		Fields: fields(), New: func() check.Checker { return checker{} }}
}

func fields() []check.Field {
	return []check.Field{
		{Name: "driver", Type: "select", Label: "Database", Required: true, Options: []string{Postgres, MySQL},
			Help: "postgres for PostgreSQL; mysql for MySQL and MariaDB."},
		{Name: "host", Type: "string", Label: "Host", Help: "Empty: the node's address."},
		{Name: "port", Type: "int", Label: "Port", Help: "Empty: 5432 (postgres) or 3306 (mysql)."},
		{Name: "database", Type: "string", Label: "Database name", Required: true},
		{Name: "user", Type: "string", Label: "User", Required: true, Help: "A user that may only read what the query needs."},
		{Name: "credential", Type: "credential", Label: "Password credential", Help: "A credential of kind database holding the password."},
		{Name: "tls", Type: "select", Label: "TLS", Options: tlsModes, Default: params.JSON("prefer"),
			Help: "disable; prefer (if offered, unverified); require (unverified); verify (certificate and name checked)."},
		{Name: "query", Type: "text", Label: "Query", Required: true,
			Help: "One SELECT (or WITH … SELECT); the first cell of the first row is the value. Runs in a read-only transaction."},
	}
}

type checker struct{ numeric bool }

// Validate checks the connection parts and the query.
func (checker) Validate(raw json.RawMessage) (json.RawMessage, error) {
	return params.Normalise(raw, parse)
}

func parse(raw json.RawMessage) (Params, error) {
	p := Params{TLS: "prefer"}
	if err := params.Decode(raw, &p); err != nil {
		return p, err
	}
	def, ok := defaultPorts[p.Driver]
	switch {
	case !ok:
		return p, params.Bad("driver", "%q: use postgres or mysql", p.Driver)
	case p.Port == 0:
		p.Port = def
	case p.Port < 1 || p.Port > 65535:
		return p, params.Bad("port", "%d: 1-65535", p.Port)
	}
	if p.Database == "" {
		return p, params.Bad("database", "name the database to connect to")
	}
	if p.User == "" {
		return p, params.Bad("user", "name the user to connect as (one that may only read what the query needs)")
	}
	if !contains(tlsModes, p.TLS) {
		return p, params.Bad("tls", "%q: one of %s", p.TLS, strings.Join(tlsModes, ", "))
	}
	q, err := selectOnly(p.Query)
	p.Query = q
	return p, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// selectOnly accepts one SELECT (or WITH … SELECT) and refuses anything
// else before it reaches the server; the read-only transaction is the
// second line of defence (a function with side effects, a data-modifying
// WITH).
func selectOnly(q string) (string, error) {
	q = strings.TrimSpace(q)
	q = strings.TrimSpace(strings.TrimSuffix(q, ";"))
	if q == "" {
		return q, params.Bad("query", "write one SELECT, e.g. SELECT count(*) FROM jobs WHERE state = 'failed'")
	}
	if len(q) > 16<<10 {
		return q, params.Bad("query", "at most 16 KiB")
	}
	first := strings.ToLower(strings.FieldsFunc(q, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '(' })[0])
	if first != "select" && first != "with" {
		return q, params.Bad("query", "only a SELECT (or WITH … SELECT) is run, not %q", strings.ToUpper(first))
	}
	if strings.Contains(q, ";") {
		return q, params.Bad("query", "one statement only: remove the ';' (a ';' inside a string literal is refused too)")
	}
	if hasWord(strings.ToLower(q), "into") {
		return q, params.Bad("query", "SELECT … INTO writes: read the value instead")
	}
	return q, nil
}

// hasWord says whether w appears in s as a whole word.
func hasWord(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		a, b := i+j, i+j+len(w)
		if (a == 0 || !wordChar(s[a-1])) && (b == len(s) || !wordChar(s[b])) {
			return true
		}
		i = b
	}
}

func wordChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// Check connects, runs the query in a read-only transaction and reads
// the first cell.
func (c checker) Check(ctx context.Context, env check.Env, t check.Target, raw json.RawMessage) check.Result {
	p, err := parse(raw)
	if err != nil {
		return check.Failed(err, "")
	}
	if p.Host == "" {
		p.Host = t.Address
	}
	password, err := credential.Open(ctx, env, p.Credential, "add it under Credentials, kind database")
	if err != nil {
		return check.Failed(err, "")
	}
	db, err := open(p, password, deadline(ctx, env))
	if err != nil {
		return check.Failed(err, "")
	}
	defer db.Close()
	cell, took, err := firstCell(ctx, db, p.Query)
	if errors.Is(err, errNoRows) {
		return check.Result{Items: []check.Item{{Key: Value, Err: err.Error()}, ms(took)}, Raw: "(no rows)"}
	}
	if err != nil && expired(ctx) {
		// The drivers word a cancelled query in their own ways ("invalid
		// connection"): say what happened.
		err = fmt.Errorf("no answer within the check's timeout (%w); last error: %v", ctx.Err(), err)
	}
	if err != nil {
		return check.Failed(fmt.Errorf("%s on %s:%d: %w", p.Driver, p.Host, p.Port, err), "")
	}
	return c.result(cell, took)
}

// expired says whether ctx ended or its deadline passed: the context's
// own timer may run a moment after a driver's I/O deadline fired.
func expired(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ctx.Err() != nil || ok && !time.Now().Before(d)
}

func deadline(ctx context.Context, env check.Env) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return time.Until(d)
	}
	if env.Timeout > 0 {
		return env.Timeout
	}
	return 10 * time.Second
}

// errNoRows: the query returned nothing to judge.
var errNoRows = errors.New("the query returned no rows")

// firstCell runs q and reads the first row's first cell (as the driver
// returns it) and how long the query took.
func firstCell(ctx context.Context, db *gosql.DB, q string) (any, time.Duration, error) {
	tx, err := db.BeginTx(ctx, &gosql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("connect: %w (check the host, port, database, user, password credential and TLS mode)", err)
	}
	defer func() { _ = tx.Rollback() }()
	start := time.Now()
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, 0, fmt.Errorf("query: %w (try it as the same user in psql or mysql)", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil || len(cols) == 0 {
		return nil, 0, fmt.Errorf("query: no columns (%v)", err)
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, 0, fmt.Errorf("query: %w", err)
		}
		return nil, time.Since(start), errNoRows
	}
	cells := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range cells {
		ptrs[i] = &cells[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, 0, fmt.Errorf("read: %w", err)
	}
	return cells[0], time.Since(start), nil
}
