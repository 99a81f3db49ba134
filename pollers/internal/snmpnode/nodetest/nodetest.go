// Package nodetest gives the SNMP kinds' tests a node pointing at a test
// snmpd, once over v2c and once over v3 authPriv, with its credentials
// behind Env.Secret as the runner would open them from the sealed store.
package nodetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/internal/snmp/snmptest"
	"github.com/mamori-ops/mamori/pollers/check"
)

// Node is a target and the environment that opens its credentials.
type Node struct {
	Target check.Target
	Env    check.Env
}

var secrets = map[string]string{"ro": snmptest.Community, "auth": snmptest.AuthKey, "priv": snmptest.PrivKey, "wrong": "not-the-key-123"}

func env() check.Env {
	return check.Env{Timeout: 3 * time.Second, Secret: func(_ context.Context, name string) (string, error) {
		if v, ok := secrets[name]; ok {
			return v, nil
		}
		return "", fmt.Errorf("no credential %q", name)
	}}
}

// Nodes are the agent as a v2c node and as a v3 authPriv node.
func Nodes(a *snmptest.Agent) map[string]Node {
	return map[string]Node{
		"v2c": {Target: check.Target{NodeID: "n-v2c", Address: a.IP, SNMP: &check.SNMP{Version: "2c", Port: a.Port, CommunityCredential: "ro"}}, Env: env()},
		"v3": {Target: check.Target{NodeID: "n-v3", Address: a.IP, SNMP: &check.SNMP{Version: "3", Port: a.Port, User: snmptest.User,
			SecurityLevel: "authPriv", AuthProtocol: "SHA-256", AuthCredential: "auth", PrivProtocol: "AES", PrivCredential: "priv"}}, Env: env()},
	}
}

// WrongKey is the v3 node with the wrong privacy key.
func WrongKey(a *snmptest.Agent) Node {
	n := Nodes(a)["v3"]
	s := *n.Target.SNMP
	s.PrivCredential = "wrong"
	n.Target.SNMP = &s
	return n
}

// Run validates params for kind k and checks n once within its timeout.
func Run(t testing.TB, k check.Kind, n Node, params string) check.Result {
	t.Helper()
	c := k.New()
	norm, err := c.Validate(json.RawMessage(params))
	if err != nil {
		t.Fatalf("validate %s: %v", params, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.Env.Timeout)
	defer cancel()
	return c.Check(ctx, n.Env, n.Target, norm)
}
