package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/rules"
)

// ErrRuleNotFound: no rule with that id.
var ErrRuleNotFound = errors.New("no such rule")

// ListRules returns the rules of the given scopes (nil: all), in order.
func ListRules(ctx context.Context, st Store, scopes []string) ([]rules.Rule, error) {
	q, args := `SELECT def, owner_role FROM monitor_rules`, []any{}
	if scopes != nil {
		b, _ := json.Marshal(scopes)
		q += ` WHERE scope IN (SELECT value FROM json_each(?))`
		args = append(args, string(b))
	}
	rows, err := st.Query(ctx, store.Local, q+` ORDER BY position, id`, args...)
	if err != nil {
		return nil, err
	}
	out := make([]rules.Rule, 0, len(rows.Values))
	for _, v := range rows.Values {
		var r rules.Rule
		def, _ := v[0].(string)
		if err := json.Unmarshal([]byte(def), &r); err != nil {
			return nil, fmt.Errorf("rule row: %w", err)
		}
		r.OwnerRole, _ = v[1].(string)
		out = append(out, r)
	}
	return out, nil
}

// GetRule returns one rule.
func GetRule(ctx context.Context, st Store, id string) (rules.Rule, error) {
	rows, err := st.Query(ctx, store.Local, `SELECT def, owner_role FROM monitor_rules WHERE id = ?`, id)
	if err != nil {
		return rules.Rule{}, err
	}
	if len(rows.Values) != 1 {
		return rules.Rule{}, ErrRuleNotFound
	}
	var r rules.Rule
	def, _ := rows.Values[0][0].(string)
	err = json.Unmarshal([]byte(def), &r)
	r.OwnerRole, _ = rows.Values[0][1].(string)
	return r, err
}

// PutRule creates or replaces a rule (validated).
func PutRule(ctx context.Context, st Store, r rules.Rule) error {
	if r.ID == "" {
		return fmt.Errorf("%w: id: required", rules.ErrInvalid)
	}
	if err := rules.Validate(r); err != nil {
		return err
	}
	def, _ := json.Marshal(r)
	_, err := st.Exec(ctx, store.Statement{SQL: `INSERT INTO monitor_rules (id, scope, position, def, owner_role) VALUES (?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET scope = excluded.scope, position = excluded.position, def = excluded.def, owner_role = excluded.owner_role`,
		Args: []any{r.ID, r.Scope, r.Position, string(def), r.OwnerRole}})
	return err
}

// DeleteRule removes a rule.
func DeleteRule(ctx context.Context, st Store, id string) error {
	_, err := st.Exec(ctx, store.Statement{SQL: `DELETE FROM monitor_rules WHERE id = ?`, Args: []any{id}})
	return err
}
