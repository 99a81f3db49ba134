package sql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mamori-ops/mamori/pollers/check"
)

// maxText bounds a text cell kept as an item (the raw text is bounded
// separately by check.MaxRaw).
const maxText = 4 << 10

func ms(d time.Duration) check.Item {
	return check.Num(QueryMS, float64(d.Microseconds())/1000, "ms")
}

// result turns the first cell into the value item and adds the time.
func (c checker) result(cell any, took time.Duration) check.Result {
	text, isNull := render(cell)
	raw := check.Clip(text)
	var it check.Item
	switch {
	case isNull:
		it, raw = check.Item{Key: Value, Err: "the first cell is NULL"}, "NULL"
	case !c.numeric:
		it = check.Str(Value, clipText(text))
	default:
		it = number(cell, text)
	}
	items := []check.Item{it}
	if c.numeric {
		items = append(items, ms(took))
	}
	return check.Result{Items: items, Raw: raw}
}

// render is the cell as text as the drivers hand it over: MySQL's text
// protocol gives []byte for most types, pgx gives Go values.
func render(cell any) (string, bool) {
	switch v := cell.(type) {
	case nil:
		return "", true
	case []byte:
		if utf8.Valid(v) {
			return string(v), false
		}
		return fmt.Sprintf("0x%x", v), false
	case string:
		return v, false
	case time.Time:
		return v.Format(time.RFC3339Nano), false
	case fmt.Stringer:
		return v.String(), false
	default:
		return fmt.Sprint(v), false
	}
}

// number reads a numeric, integer, float, boolean (1/0) or numeric-looking
// text cell; anything else is an item error naming the kind for text.
func number(cell any, text string) check.Item {
	var n float64
	var err error
	switch v := cell.(type) {
	case int64:
		n = float64(v)
	case float64:
		n = v
	case bool:
		if v {
			n = 1
		}
	default:
		n, err = strconv.ParseFloat(strings.TrimSpace(text), 64)
	}
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return check.Item{Key: Value, Err: fmt.Sprintf("the first cell %q is not a number: cast it in the query or use sql_string", clipText(text))}
	}
	return check.Num(Value, n, "")
}

func clipText(s string) string {
	if len(s) <= maxText {
		return s
	}
	s = s[:maxText]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
