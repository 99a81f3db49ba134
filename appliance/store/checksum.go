package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Checksums returns, for every table of this node's local copy, its row
// count and a SHA-256 over its rows in rowid order, as "rows=N sha256=…".
// Comparing the two appliances' answers shows whether their data is identical.
func (s *Store) Checksums(ctx context.Context) (map[string]string, error) {
	tables, err := s.Query(ctx, Local, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(tables.Values))
	for _, v := range tables.Values {
		name, _ := v[0].(string)
		rows, err := s.Query(ctx, Local, fmt.Sprintf(`SELECT * FROM %q ORDER BY rowid`, name))
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
