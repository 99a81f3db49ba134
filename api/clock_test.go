package api

import (
	"testing"
	"time"
)

// The zone named for the console is the appliance's: its offset is the
// local one, and its name, when an IANA name, loads to the same offset.
func TestApplianceZone(t *testing.T) {
	now := time.Now()
	name, offset := applianceZone(now)
	if _, want := now.Zone(); offset != want {
		t.Fatalf("offset %d s, want %d s", offset, want)
	}
	if name == "" {
		t.Fatal("no zone name")
	}
	if loc, err := time.LoadLocation(name); err == nil {
		if _, off := now.In(loc).Zone(); off != offset {
			t.Errorf("zone %q has offset %d s now, the appliance %d s", name, off, offset)
		}
	}
}
