package e2e

import (
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
)

// The cluster screen's planned switchover in Chromium against a pair of
// its own (the roles change): cancelled it changes nothing; from the
// active it hands the role to the standby, from the standby it takes it
// back (ui/tests/browser/switchover/), in English and Japanese. Both
// appliances end in their first roles, with one ha.switchover event per
// switch.
func TestConsoleSwitchover(t *testing.T) {
	skipShort(t)
	node, uiDir := consoleTools(t)
	a, b := consolePair(t, 10*time.Second)
	if a.Name != "a" {
		t.Fatalf("the browser test expects a to be the active; %s is", a.Name)
	}
	runBrowserTests(t, node, uiDir, map[string]string{
		"MAMORI_UI_URL":      "https://" + a.API,
		"MAMORI_UI_PEER_URL": "https://" + b.API,
		"MAMORI_UI_USER":     consoleUser,
		"MAMORI_UI_PASSWORD": consolePassword,
	}, "tests/browser/switchover/")
	a.WaitRole(ha.Active, 10*time.Second)
	b.WaitRole(ha.Standby, 10*time.Second)
	if evs := a.Events("ha.switchover"); len(evs) != 4 {
		t.Errorf("%d ha.switchover events, want 4: %+v", len(evs), evs)
	}
	sameData(t, a, b)
}
