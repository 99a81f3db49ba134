package sqlpage

import (
	"context"
	"strings"
	"testing"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/appliance/store/storetest"
)

func TestWrapCutsByBytes(t *testing.T) {
	st := storetest.New(t, nil)
	ctx := context.Background()
	stmts := []store.Statement{{SQL: `CREATE TABLE m (id INTEGER PRIMARY KEY, text TEXT NOT NULL)`}}
	for range 100 {
		stmts = append(stmts, store.Statement{SQL: `INSERT INTO m (text) VALUES (?)`, Args: []any{strings.Repeat("日", 1000)}}) // 3000 bytes
	}
	if _, err := st.Exec(ctx, stmts...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		order     string
		limit     int
		budget    int
		wantRows  int
		wantMore  bool
		wantFirst int64
	}{
		{"budget cuts", "id ASC", 1000, 10000, 4, true, 1}, // 3 rows are 9000 bytes; the 4th crosses the budget and is kept
		{"limit cuts", "id ASC", 2, 1 << 20, 2, true, 1},
		{"everything fits", "id ASC", 1000, 1 << 20, 100, false, 1},
		{"newest first", "id DESC", 1000, 6000, 2, true, 100},
		{"a row larger than the budget", "id ASC", 1000, 10, 1, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inner := `SELECT id, text, ` + Size("id, text") + ` AS _size FROM m ORDER BY ` + tc.order + ` LIMIT ?`
			rows, err := st.Query(ctx, store.Local, Wrap(inner, tc.order), tc.limit+1, tc.budget)
			if err != nil {
				t.Fatal(err)
			}
			got, more := Cut(rows.Values, tc.limit)
			if len(got) != tc.wantRows || more != tc.wantMore || len(got[0]) != 2 || got[0][0] != tc.wantFirst {
				t.Fatalf("%d rows (first %v, %d columns), more %v; want %d rows from %d, more %v", len(got), got[0][0], len(got[0]), more, tc.wantRows, tc.wantFirst, tc.wantMore)
			}
		})
	}
}
