package sql

import (
	"crypto/tls"
	gosql "database/sql"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// open builds a one-connection handle for p; nothing is sent until the
// first use. Each check opens its own connection: checks are minutes
// apart and a kept pool would hold server slots for nothing.
func open(p Params, password string, timeout time.Duration) (*gosql.DB, error) {
	var db *gosql.DB
	switch p.Driver {
	case Postgres:
		cfg, err := pgConfig(p, password, timeout)
		if err != nil {
			return nil, err
		}
		db = stdlib.OpenDB(*cfg)
	default:
		c, err := mysql.NewConnector(myConfig(p, password, timeout))
		if err != nil {
			return nil, fmt.Errorf("mysql settings: %w", err)
		}
		db = gosql.OpenDB(c)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(0)
	return db, nil
}

var pgSSLModes = map[string]string{"disable": "disable", "prefer": "prefer", "require": "require", "verify": "verify-full"}

// pgConfig starts from a keyword/value string so pgx applies sslmode
// itself (prefer means a TLS attempt then plain text), then sets the
// password directly (no quoting to get wrong).
func pgConfig(p Params, password string, timeout time.Duration) (*pgx.ConnConfig, error) {
	dsn := fmt.Sprintf("host=%s port=%d dbname=%s user=%s sslmode=%s connect_timeout=%d application_name=mamori",
		quote(p.Host), p.Port, quote(p.Database), quote(p.User), pgSSLModes[p.TLS], max(int(timeout.Seconds()), 1))
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres settings: %w", err)
	}
	cfg.Password = password
	// The extended protocol without a prepared statement: one statement
	// per query whatever the text holds (the simple protocol would run
	// "a; b"), and nothing left prepared on the server.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	return cfg, nil
}

// quote writes a libpq keyword value: single quotes, with \ and ' escaped.
func quote(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' || s[i] == '\'' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

var myTLS = map[string]string{"disable": "false", "prefer": "preferred", "require": "skip-verify", "verify": "true"}

func myConfig(p Params, password string, timeout time.Duration) *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
	cfg.User, cfg.Passwd, cfg.DBName = p.User, password, p.Database
	// The context ends a slow query (the driver kills it); the I/O
	// deadlines, a second later, only catch a server that stopped
	// answering in the middle of a packet.
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = timeout, timeout+time.Second, timeout+time.Second
	cfg.TLSConfig = myTLS[p.TLS]
	if p.TLS == "verify" {
		cfg.TLS = &tls.Config{ServerName: p.Host, MinVersion: tls.VersionTLS12}
	}
	// The driver logs bad packets on a package logger: a hostile server
	// must not fill the appliance's log; the error comes back anyway.
	cfg.Logger = &mysql.NopLogger{}
	return cfg
}
