package monitor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/judge"
)

// CheckTarget is the check's view of a node.
func CheckTarget(n inventory.Node) check.Target {
	t := check.Target{NodeID: n.ID, Name: n.Name, Address: n.Address}
	if s := n.SNMP; s != nil {
		t.SNMP = &check.SNMP{Version: s.Version, Port: s.Port, User: s.User, SecurityLevel: s.SecurityLevel, AuthProtocol: s.AuthProtocol,
			AuthCredential: s.AuthCredential, PrivProtocol: s.PrivProtocol, PrivCredential: s.PrivCredential, CommunityCredential: s.CommunityCredential}
	}
	return t
}

// Run runs m's check once on n, bounded by m's timeout, and never
// panics whatever the kind does (a panic is the check's failure).
func Run(ctx context.Context, c check.Checker, m Monitor, n inventory.Node, secret func(context.Context, string) (string, error)) (res check.Result, took time.Duration) {
	to := m.TimeoutD()
	ctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	start := time.Now()
	defer func() {
		took = time.Since(start)
		if p := recover(); p != nil {
			res = check.Failed(fmt.Errorf("the %s check failed unexpectedly: %v", m.Kind, p), "")
		}
	}()
	res = c.Check(ctx, check.Env{Secret: secret, Timeout: to}, CheckTarget(n), m.Params)
	if res.Err == nil && ctx.Err() != nil && len(res.Items) == 0 {
		res.Err = fmt.Errorf("no answer within the timeout %s", to)
	}
	return res, time.Since(start)
}

// ErrAgentKind: the kind runs in an agent, not on the appliance.
var ErrAgentKind = errors.New("this kind runs in the node's agent, not on the appliance")

// Checker returns a checker of m's kind.
func Checker(kinds Kinds, m Monitor) (check.Kind, check.Checker, error) {
	k, ok := kinds(m.Kind)
	if !ok {
		return k, nil, fmt.Errorf("%w: kind: %q is not a monitor kind", ErrInvalid, m.Kind)
	}
	if k.New == nil {
		return k, nil, ErrAgentKind
	}
	return k, k.New(), nil
}

// Judge compiles m's judgement.
func Judge(m Monitor) (*judge.Judge, error) { return judge.Compile(m.Judgement) }
