// Package snmpnode turns a monitored node's SNMP settings (names of sealed
// credentials) into an agent the shared SNMP client can poll. The three
// SNMP kinds (snmp, snmp_resource, snmp_process) use it so that v2c, v3
// USM and the timeout split behave the same in all of them.
package snmpnode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mamori-ops/mamori/internal/snmp"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/internal/credential"
)

// ErrNoSettings: the node has no usable SNMP settings.
var ErrNoSettings = errors.New("node has no SNMP settings")

// defaultTimeout bounds a check whose runner set none (unit tests, a
// "test now" without a monitor timeout).
const defaultTimeout = 10 * time.Second

// Agent resolves t's SNMP settings, opening the community or USM keys
// from the sealed store through env.Secret.
func Agent(ctx context.Context, env check.Env, t check.Target) (snmp.Target, error) {
	s := t.SNMP
	if s == nil {
		return snmp.Target{}, fmt.Errorf("%w: node %s: set its SNMP version, port and credentials in the inventory", ErrNoSettings, t.NodeID)
	}
	a := snmp.Target{Address: t.Address, Port: s.Port, Version: s.Version, User: s.User, SecurityLevel: s.SecurityLevel,
		AuthProtocol: s.AuthProtocol, PrivProtocol: s.PrivProtocol}
	a.Timeout, a.Retries = split(ctx, env)
	var err error
	if a.Community, err = reveal(ctx, env, s.CommunityCredential); err != nil {
		return a, err
	}
	if a.AuthKey, err = reveal(ctx, env, s.AuthCredential); err != nil {
		return a, err
	}
	a.PrivKey, err = reveal(ctx, env, s.PrivCredential)
	return a, err
}

// split gives each request half of the check's time and one retry: UDP
// loses packets, and one lost datagram should not turn a check unknown.
func split(ctx context.Context, env check.Env) (time.Duration, int) {
	total := env.Timeout
	if d, ok := ctx.Deadline(); ok && (total <= 0 || time.Until(d) < total) {
		total = time.Until(d)
	}
	if total <= 0 {
		total = defaultTimeout
	}
	return max(total/2, 50*time.Millisecond), 1
}

func reveal(ctx context.Context, env check.Env, name string) (string, error) {
	return credential.Open(ctx, env, name, "add it under Credentials or fix the node's SNMP settings")
}
