package e2e

import (
	"net/http"
	"testing"
	"time"
)

// TestConsoleMaintenance runs the calendar and maintenance screens'
// browser tests (ui/tests/browser/maintenance/) on a real pair, then reads
// through the API what the forms made: a window of each kind, the mute
// ended, the calendar still there (a window follows it).
func TestConsoleMaintenance(t *testing.T) {
	skipShort(t)
	node, uiDir := consoleTools(t)
	active, _ := consolePair(t, 10*time.Second)
	admin := active.Login(consoleUser, consolePassword)
	if code, err := active.DoAs(admin, http.MethodPost, "/api/v1/nodes", map[string]any{"id": "web1", "address": "10.9.0.1", "scope": "A"}, nil); code != 200 {
		t.Fatalf("node: HTTP %d %v", code, err)
	}
	runBrowserTests(t, node, uiDir, map[string]string{
		"MAMORI_UI_URL":      "https://" + active.API,
		"MAMORI_UI_USER":     consoleUser,
		"MAMORI_UI_PASSWORD": consolePassword,
	}, "tests/browser/maintenance/")

	var list struct {
		Windows []struct {
			ID, Kind, Status, Calendar, TimeZone string
			Nodes                                []string
		}
	}
	if code, err := active.DoAs(admin, http.MethodGet, "/api/v1/maintenance", nil, &list); code != 200 {
		t.Fatalf("list: HTTP %d %v", code, err)
	}
	kinds := map[string]string{}
	mutes := 0
	for _, w := range list.Windows {
		kinds[w.ID] = w.Kind
		if len(w.ID) > 5 && w.ID[:5] == "mute-" {
			mutes++
			if w.Status != "past" || w.Kind != "once" {
				t.Errorf("the mute the browser ended is %s (%s)", w.Status, w.Kind)
			}
		}
	}
	if kinds["upgrade"] != "once" || kinds["backup"] != "weekly" || kinds["nights"] != "calendar" || mutes != 1 {
		t.Fatalf("windows made by the forms: %+v", list.Windows)
	}
	if code, _ := active.DoAs(admin, http.MethodGet, "/api/v1/calendars/office", nil, nil); code != 200 {
		t.Fatalf("calendar office: HTTP %d", code)
	}
}
