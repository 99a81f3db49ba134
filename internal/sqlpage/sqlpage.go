// Package sqlpage bounds a list query's answer in bytes. The cut is made
// in SQL, by a running sum of the rows' sizes, so rows beyond the budget
// never reach the appliance's memory; the caller answers with a cursor
// for the rest. (A LIMIT alone bounds rows, not bytes: 100,000 rows of
// 64 KiB each are 6 GiB.)
package sqlpage

import "strings"

// Wrap returns a query that runs inner and keeps its rows, in order,
// until their sizes add up past a budget (the row that crosses it is
// kept, so a page is never empty). inner must select its columns and
// then one column named _size (the row's size in bytes, e.g. from Size),
// be ordered by order (such as "id ASC") and end in a LIMIT. The query
// takes inner's arguments and then the budget; its rows have three more
// columns, which Cut removes.
func Wrap(inner, order string) string {
	return `SELECT * FROM (SELECT *, SUM(_size) OVER (ORDER BY ` + order + ` ROWS UNBOUNDED PRECEDING) AS _cum, COUNT(*) OVER () AS _n FROM (` +
		inner + `)) WHERE _cum - _size < ? ORDER BY ` + order
}

// Size is an SQL expression for the size in bytes of columns, a comma
// separated list of column names.
func Size(columns string) string {
	var parts []string
	for _, c := range strings.Split(columns, ",") {
		parts = append(parts, "COALESCE(length(CAST("+strings.TrimSpace(c)+" AS BLOB)), 0)")
	}
	return "(" + strings.Join(parts, " + ") + ")"
}

// Cut takes the rows of a Wrap query whose inner LIMIT was limit+1: it
// returns at most limit rows without the extra columns, and whether more
// rows remain after them (cut by the budget or by the limit).
func Cut(rows [][]any, limit int) ([][]any, bool) {
	if len(rows) == 0 {
		return rows, false
	}
	w := len(rows[0])
	n, _ := rows[0][w-1].(int64)
	more := int(n) > len(rows) || len(rows) > limit
	rows = rows[:min(len(rows), limit)]
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = r[:w-3]
	}
	return out, more
}
