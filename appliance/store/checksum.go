package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rqlite/rqlite/v8/command/proto"
	rdb "github.com/rqlite/rqlite/v8/db"
)

// ErrDamaged: a SQLite file is incomplete or corrupt.
var ErrDamaged = errors.New("damaged database file")

// Checksums returns, for every table of this node's local copy, its row
// count and a SHA-256 over its rows in rowid order, as "rows=N sha256=…".
// Comparing the two appliances' answers shows whether their data is identical.
func (s *Store) Checksums(ctx context.Context) (map[string]string, error) {
	return checksums(func(q string) (Rows, error) { return s.Query(ctx, Local, q) })
}

// FileChecksums computes the same checksums over a SQLite file (a
// snapshot written by WriteSnapshot), reading it through rqlite's own
// database layer so every value is typed exactly as the live store's
// answers are: a backup's checksums equal the restored store's.
func FileChecksums(path string) (map[string]string, error) {
	db, err := rdb.Open(path, false, false)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	res, err := db.QueryStringStmt(`PRAGMA quick_check`)
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", path, err)
	}
	if r, err := oneResult(res); err != nil || len(r.Values) != 1 || r.Values[0][0] != "ok" {
		return nil, fmt.Errorf("%w: %s fails SQLite's quick_check (%v %v)", ErrDamaged, path, r.Values, err)
	}
	return checksums(func(q string) (Rows, error) {
		res, err := db.QueryStringStmt(q)
		if err != nil {
			return Rows{}, err
		}
		return oneResult(res)
	})
}

// oneResult converts rqlite's answer to one query.
func oneResult(res []*proto.QueryRows) (Rows, error) {
	if len(res) != 1 {
		return Rows{}, fmt.Errorf("query: %d result sets", len(res))
	}
	if res[0].Error != "" {
		return Rows{}, fmt.Errorf("query: %s", res[0].Error)
	}
	rows := Rows{Columns: res[0].Columns, Values: make([][]any, len(res[0].Values))}
	for i, v := range res[0].Values {
		rows.Values[i] = fromParams(v.Parameters)
	}
	return rows, nil
}

func checksums(query func(string) (Rows, error)) (map[string]string, error) {
	tables, err := query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(tables.Values))
	for _, v := range tables.Values {
		name, _ := v[0].(string)
		rows, err := query(fmt.Sprintf(`SELECT * FROM %q ORDER BY rowid`, name))
		if err != nil {
			return nil, fmt.Errorf("checksum %s: %w", name, err)
		}
		h := sha256.New()
		enc := json.NewEncoder(h)
		for _, r := range rows.Values {
			_ = enc.Encode(r)
		}
		out[name] = fmt.Sprintf("rows=%d sha256=%s", len(rows.Values), hex.EncodeToString(h.Sum(nil)))
	}
	return out, nil
}
