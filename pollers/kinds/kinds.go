// Package kinds is the list of monitor kinds: one line per folder under
// pollers/ (and, later, per agent-side kind). Nothing registers itself.
package kinds

import (
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/http"
	"github.com/mamori-ops/mamori/pollers/ping"
	"github.com/mamori-ops/mamori/pollers/tcp"
)

// All returns every monitor kind, in the order the console offers them.
func All() []check.Kind {
	return []check.Kind{
		// Each kind's package adds its line here: ping.Kind(), http.Kind(), …
		// net: ping, HTTP/HTTPS, TCP services
		ping.Kind(),
		http.Kind(),
		tcp.Kind(),
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
