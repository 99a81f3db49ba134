// Package kinds is the list of monitor kinds: one line per folder under
// pollers/ (and, later, per agent-side kind). Nothing registers itself.
package kinds

import (
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/command"
	"github.com/mamori-ops/mamori/pollers/http"
	"github.com/mamori-ops/mamori/pollers/ping"
	"github.com/mamori-ops/mamori/pollers/prometheus"
	"github.com/mamori-ops/mamori/pollers/snmp"
	"github.com/mamori-ops/mamori/pollers/snmpprocess"
	"github.com/mamori-ops/mamori/pollers/snmpresource"
	"github.com/mamori-ops/mamori/pollers/sql"
	"github.com/mamori-ops/mamori/pollers/tcp"
)

// All returns every monitor kind, in the order the console offers them.
func All() []check.Kind {
	return []check.Kind{
		// net: ping, HTTP/HTTPS, TCP services
		ping.Kind(),
		http.Kind(),
		tcp.Kind(),
		// data kinds (issue 12 "data" part):
		snmp.Kind(), snmp.StringKind(), snmpresource.Kind(), snmpprocess.Kind(),
		sql.Kind(), sql.StringKind(), command.Kind(), prometheus.Kind(),
	}
}

// ByName returns the kind called name.
func ByName(name string) (check.Kind, bool) {
	for _, k := range All() {
		if k.Name == name {
			return k, true
		}
	}
	return check.Kind{}, false
}
