// Package credential opens a named credential of the sealed store for a
// check, through check.Env.Secret, with an error that says where to fix a
// missing one.
package credential

import (
	"context"
	"fmt"

	"github.com/mamori-ops/mamori/pollers/check"
)

// Open reveals credential name ("" → "", no credential). fix says what
// to do when it cannot be opened ("add it under Credentials, kind
// database").
func Open(ctx context.Context, env check.Env, name, fix string) (string, error) {
	if name == "" {
		return "", nil
	}
	if env.Secret == nil {
		return "", fmt.Errorf("credential %q: no credential store in this context", name)
	}
	v, err := env.Secret(ctx, name)
	if err != nil {
		return "", fmt.Errorf("credential %q: %w (%s)", name, err, fix)
	}
	return v, nil
}
