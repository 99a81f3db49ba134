package api

import (
	"os"
	"strings"
	"time"
)

// applianceZone names this appliance's time zone, so that the console can
// show a time as the appliance's own logs show it (on hover, next to the
// browser's zone): the IANA name when it is known, else the zone's
// abbreviation; and the current offset from UTC in seconds.
func applianceZone(now time.Time) (name string, offsetSeconds int) {
	abbr, offset := now.In(time.Local).Zone()
	name = time.Local.String()
	if name == "Local" {
		// Loaded from /etc/localtime: its link target names the zone.
		name = abbr
		if target, err := os.Readlink("/etc/localtime"); err == nil {
			if _, zone, ok := strings.Cut(target, "zoneinfo/"); ok && zone != "" {
				name = zone
			}
		}
	}
	return name, offset
}
