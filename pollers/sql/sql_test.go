package sql_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/sql"
	"github.com/mamori-ops/mamori/pollers/sql/sqltest"
)

var node = check.Target{NodeID: "db1", Address: "127.0.0.1"}

func env(timeout time.Duration) check.Env {
	return check.Env{Timeout: timeout, Secret: func(_ context.Context, name string) (string, error) {
		switch name {
		case "db-pw":
			return sqltest.Password, nil
		case "db-wrong":
			return "not-the-password", nil
		}
		return "", fmt.Errorf("no credential %q", name)
	}}
}

func check1(t *testing.T, k check.Kind, p map[string]any, timeout time.Duration) check.Result {
	t.Helper()
	b, _ := json.Marshal(p)
	c := k.New()
	norm, err := c.Validate(b)
	if err != nil {
		t.Fatalf("validate %s: %v", b, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.Check(ctx, env(timeout), node, norm)
}

// want is what one query should give: a number, a text, or an item error.
type want struct {
	num     *float64
	text    *string
	itemErr string
	failed  string
}

func num(v float64) want    { return want{num: &v} }
func text(v string) want    { return want{text: &v} }
func itemErr(s string) want { return want{itemErr: s} }
func failed(s string) want  { return want{failed: s} }

type queryCase struct {
	name  string
	kind  check.Kind
	query string
	want  want
}

func (w want) verify(t *testing.T, r check.Result, numeric bool) {
	t.Helper()
	if w.failed != "" {
		if r.Err == nil || !strings.Contains(r.Err.Error(), w.failed) {
			t.Fatalf("want a failed check (%s), got %+v %v", w.failed, r.Items, r.Err)
		}
		return
	}
	if r.Err != nil || len(r.Items) == 0 || r.Items[0].Key != sql.Value {
		t.Fatalf("result %+v %v", r.Items, r.Err)
	}
	it := r.Items[0]
	switch {
	case w.itemErr != "":
		if !strings.Contains(it.Err, w.itemErr) {
			t.Errorf("item %+v, want error %q", it, w.itemErr)
		}
	case w.num != nil:
		if it.Number == nil || *it.Number != *w.num {
			t.Errorf("item %+v (number %v), want %v", it, it.Number, *w.num)
		}
	case w.text != nil:
		if it.Text == nil || *it.Text != *w.text {
			t.Errorf("item %+v, want text %q", it, *w.text)
		}
	}
	if numeric && (len(r.Items) != 2 || r.Items[1].Key != sql.QueryMS || r.Items[1].Number == nil || *r.Items[1].Number < 0) {
		t.Errorf("no query_ms item: %+v", r.Items)
	}
}

func runCases(t *testing.T, base map[string]any, cases []queryCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := map[string]any{"query": c.query}
			for k, v := range base {
				p[k] = v
			}
			c.want.verify(t, check1(t, c.kind, p, 5*time.Second), c.kind.Value == check.Numeric)
		})
	}
}

func TestPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL: not in -short")
	}
	s := sqltest.StartPostgres(t, "CREATE TABLE jobs (id int, state text)", "CREATE SEQUENCE s",
		"INSERT INTO jobs VALUES (1,'ok'),(2,'failed'),(3,'failed'),(4,'ok')")
	base := map[string]any{"driver": "postgres", "port": s.Port, "database": "postgres", "user": "mamori", "credential": "db-pw", "tls": "prefer"}
	runCases(t, base, []queryCase{
		{"count", sql.Kind(), "SELECT count(*) FROM jobs WHERE state = 'failed'", num(2)},
		{"numeric", sql.Kind(), "SELECT 1.5::numeric", num(1.5)},
		{"float", sql.Kind(), "select 2.25::float8;", num(2.25)},
		{"negative bigint", sql.Kind(), "SELECT -9007199254740993::bigint", num(-9007199254740993)},
		{"bool", sql.Kind(), "SELECT true", num(1)},
		{"numeric text", sql.Kind(), "SELECT ' 42 '", num(42)},
		{"several columns", sql.Kind(), "SELECT id, state FROM jobs ORDER BY id DESC", num(4)},
		{"text", sql.StringKind(), "SELECT state FROM jobs WHERE id = 2", text("failed")},
		{"text of a number", sql.StringKind(), "SELECT 7", text("7")},
		{"cte", sql.StringKind(), "WITH s AS (SELECT state FROM jobs WHERE id = 1) SELECT state FROM s", text("ok")},
		{"text as number", sql.Kind(), "SELECT 'degraded'", itemErr("not a number")},
		{"null", sql.Kind(), "SELECT NULL", itemErr("NULL")},
		{"no rows", sql.Kind(), "SELECT 1 WHERE false", itemErr("no rows")},
		{"syntax error", sql.Kind(), "SELECT FROM WHERE", failed("syntax")},
		{"writing cte", sql.Kind(), "WITH d AS (DELETE FROM jobs RETURNING 1) SELECT count(*) FROM d", failed("read-only")},
		{"side effect", sql.Kind(), "SELECT nextval('s')", failed("read-only")},
	})
	// The read-only transaction held: the rows are all there.
	runCases(t, base, []queryCase{{"rows kept", sql.Kind(), "SELECT count(*) FROM jobs", num(4)}})
	// Differential: psql reads the same values.
	for _, q := range []string{"SELECT sum(id) * 1.25 FROM jobs", "SELECT count(*) FROM pg_catalog.pg_class", "SELECT 10::float8 / 3"} {
		cmd := exec.Command("psql", "-h", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-U", "mamori", "-d", "postgres", "-tA", "-c", q)
		cmd.Env = append(cmd.Environ(), "PGPASSWORD="+sqltest.Password)
		out, err := cmd.CombinedOutput()
		w, perr := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil || perr != nil {
			t.Fatalf("psql %s: %v %s", q, err, out)
		}
		runCases(t, base, []queryCase{{"psql " + q, sql.Kind(), q, num(w)}})
	}
	// TLS modes against a server with a self-signed certificate.
	const ssl = "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
	for mode, w := range map[string]want{"disable": text("false"), "prefer": text("true"), "require": text("true"), "verify": failed("certificate")} {
		b := map[string]any{"tls": mode}
		for k, v := range base {
			if k != "tls" {
				b[k] = v
			}
		}
		runCases(t, b, []queryCase{{"tls " + mode, sql.StringKind(), ssl, w}})
	}
	failures(t, base, s, "SELECT pg_sleep(10)", true)
}

func TestMariaDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB: not in -short")
	}
	s := sqltest.StartMariaDB(t, "CREATE TABLE mon.jobs (id int, state varchar(20))",
		"INSERT INTO mon.jobs VALUES (1,'ok'),(2,'failed'),(3,'failed'),(4,'ok')")
	base := map[string]any{"driver": "mysql", "port": s.Port, "database": "mon", "user": "mon", "credential": "db-pw"}
	runCases(t, base, []queryCase{
		{"count", sql.Kind(), "SELECT count(*) FROM jobs WHERE state = 'failed'", num(2)},
		{"decimal", sql.Kind(), "SELECT 1.5", num(1.5)},
		{"double", sql.Kind(), "SELECT CAST(2.25 AS DOUBLE)", num(2.25)},
		{"negative bigint", sql.Kind(), "SELECT -9007199254740993", num(-9007199254740993)},
		{"several columns", sql.Kind(), "SELECT id, state FROM jobs ORDER BY id DESC", num(4)},
		{"text", sql.StringKind(), "SELECT state FROM jobs WHERE id = 2", text("failed")},
		{"version", sql.StringKind(), "SELECT SUBSTRING_INDEX(VERSION(), '-', -2) LIKE '%MariaDB%'", text("1")},
		{"text as number", sql.Kind(), "SELECT 'degraded'", itemErr("not a number")},
		{"null", sql.Kind(), "SELECT NULL", itemErr("NULL")},
		{"no rows", sql.Kind(), "SELECT 1 FROM DUAL WHERE FALSE", itemErr("no rows")},
		{"no such table", sql.Kind(), "SELECT count(*) FROM nope", failed("doesn't exist")},
	})
	// Differential: the mariadb client reads the same values.
	for _, q := range []string{"SELECT sum(id) * 1.25 FROM jobs", "SELECT count(*) FROM information_schema.columns", "SELECT 10 / 3"} {
		out, err := exec.Command("/usr/bin/mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", strconv.Itoa(s.Port), "-u", "mon",
			"-p"+sqltest.Password, "-D", "mon", "-N", "-B", "-e", q).CombinedOutput()
		w, perr := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil || perr != nil {
			t.Fatalf("mariadb %s: %v %s", q, err, out)
		}
		runCases(t, base, []queryCase{{"mariadb " + q, sql.Kind(), q, num(w)}})
	}
	failures(t, base, s, "SELECT SLEEP(10)", false)
}

// failures: a wrong password, TLS demanded of a server without it, a
// query slower than the timeout, a server that answers garbage and a
// stopped server all fail the check (→ unknown) within the timeout.
func failures(t *testing.T, base map[string]any, s *sqltest.Server, slow string, hasTLS bool) {
	t.Helper()
	with := func(k string, v any) map[string]any {
		p := map[string]any{"query": "SELECT 1"}
		for k2, v2 := range base {
			p[k2] = v2
		}
		p[k] = v
		return p
	}
	for name, c := range map[string]struct {
		p       map[string]any
		timeout time.Duration
	}{
		"wrong password": {with("credential", "db-wrong"), 5 * time.Second},
		"no password":    {with("credential", ""), 5 * time.Second},
		"slow query":     {with("query", slow), 1500 * time.Millisecond},
		"garbage server": {with("port", garbageServer(t)), 2 * time.Second},
	} {
		start := time.Now()
		r := check1(t, sql.Kind(), c.p, c.timeout)
		if r.Err == nil {
			t.Errorf("%s: %+v, want a failed check", name, r.Items)
		} else if name == "slow query" && !strings.Contains(r.Err.Error(), "timeout") {
			t.Errorf("slow query: %v, want it to say timeout", r.Err)
		}
		if d := time.Since(start); d > c.timeout+time.Second {
			t.Errorf("%s: took %v, timeout %v", name, d, c.timeout)
		}
		t.Logf("%s: %v", name, r.Err)
	}
	if r := check1(t, sql.Kind(), with("tls", "require"), 5*time.Second); !hasTLS && r.Err == nil {
		t.Errorf("TLS required of a server without TLS: %+v", r.Items)
	}
	s.Stop()
	if r := check1(t, sql.Kind(), with("query", "SELECT 1"), 3*time.Second); r.Err == nil {
		t.Errorf("stopped server: %+v", r.Items)
	}
}

// garbageServer accepts connections and answers with bytes that are
// neither protocol.
func garbageServer(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Write([]byte("\xff\xff\xff\x00R\x00\x00\x00\x08\x00\x00\x00\x09garbage garbage\r\n"))
				buf := make([]byte, 4096)
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
					_, _ = c.Write([]byte("E\x00\x00\x00\x04\xff"))
				}
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func TestSQLValidate(t *testing.T) {
	good := `"driver":"postgres","database":"app","user":"mon"`
	got, err := sql.Kind().New().Validate(json.RawMessage(`{` + good + `,"query":" SELECT 1; "}`))
	if err != nil || string(got) != `{"driver":"postgres","port":5432,"database":"app","user":"mon","tls":"prefer","query":"SELECT 1"}` {
		t.Errorf("defaults: %s %v", got, err)
	}
	for p, field := range map[string]string{
		`{"database":"a","user":"u","query":"SELECT 1"}`:       "driver",
		`{"driver":"oracle","database":"a","user":"u"}`:        "driver",
		`{` + good + `,"port":70000,"query":"SELECT 1"}`:       "port",
		`{"driver":"mysql","user":"u","query":"SELECT 1"}`:     "database",
		`{"driver":"mysql","database":"d","query":"SELECT 1"}`: "user",
		`{` + good + `,"tls":"maybe","query":"SELECT 1"}`:      "tls",
		`{` + good + `}`: "query",
		`{` + good + `,"query":"DELETE FROM jobs"}`:               "query",
		`{` + good + `,"query":"select 1; drop table jobs"}`:      "query",
		`{` + good + `,"query":"SELECT * INTO copy FROM jobs"}`:   "query",
		`{` + good + `,"query":"SELECT 1 INTO OUTFILE '/tmp/x'"}`: "query",
		`{` + good + `,"query":"UPDATE jobs SET state='ok'"}`:     "query",
		`{` + good + `,"query":"  -- comment\nDROP TABLE x"}`:     "query",
		`{` + good + `,"query":"SELECT 1","password":"inline"}`:   "password",
	} {
		if _, err := sql.Kind().New().Validate(json.RawMessage(p)); !errors.Is(err, check.ErrBadParams) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v; want ErrBadParams naming %s", p, err, field)
		}
	}
	// A word containing "into" is not SELECT … INTO.
	if _, err := sql.Kind().New().Validate(json.RawMessage(`{` + good + `,"query":"SELECT count(*) FROM intake"}`)); err != nil {
		t.Errorf("intake: %v", err)
	}
}
