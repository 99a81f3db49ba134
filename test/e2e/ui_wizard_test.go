package e2e

import (
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

// TestWizard runs the first-boot wizard's browser tests
// (ui/tests/browser/wizard/) against two fresh, running appliances: the
// browser alone sets up the first, pairs the second with it, and is
// refused a wrong setup token and a wrong pairing code on the way. Go only
// starts the appliances, reads their setup tokens as an installer would
// (`mamori setup-token`), and checks the pair afterwards.
func TestWizard(t *testing.T) {
	skipShort(t)
	node, uiDir := consoleTools(t)
	// As in TestConsole: Chromium's start-up must not look like a failure.
	o := consoleOptions(10 * time.Second)
	sub := cluster.Subnet()
	a := cluster.NewNode(t, "a", sub+".1", o)
	b := cluster.NewNode(t, "b", sub+".2", o)
	for _, n := range []*cluster.Node{a, b} {
		n.Start()
		n.WaitRole(ha.Active, 30*time.Second)
	}
	runBrowserTests(t, node, uiDir, map[string]string{
		"MAMORI_UI_URL":           "https://" + a.API,
		"MAMORI_UI_PEER_URL":      "https://" + b.API,
		"MAMORI_UI_USER":          "admin",
		"MAMORI_UI_PASSWORD":      "correct horse battery staple",
		"MAMORI_WIZARD_TOKEN_A":   setupToken(t, a),
		"MAMORI_WIZARD_TOKEN_B":   setupToken(t, b),
		"MAMORI_WIZARD_PEER_ADDR": a.AddressAPI(),
	}, "tests/browser/wizard/")

	// The pair the browser made: a active, b its standby, replicating.
	sa, sb := a.WaitRole(ha.Active, 10*time.Second), b.WaitRole(ha.Standby, 10*time.Second)
	if sa.Peer == nil || sa.Peer.ID != "b" || sb.Peer == nil || sb.Peer.ID != "a" || sb.ActiveID != "a" {
		t.Fatalf("after the wizard: a %+v, b %+v", sa, sb)
	}
	if ok, err := a.Write("after-the-wizard"); !ok {
		t.Fatalf("write on a: %v", err)
	}
	if !cluster.WaitFor(t.Context(), 10*time.Second, func() bool { return len(b.Events("test.write")) == 1 }) {
		t.Fatal("b does not replicate a's writes")
	}
}
