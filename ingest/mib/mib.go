// Package mib names OIDs from MIB modules, so traps and their varbinds
// show as IF-MIB::linkDown and ifDescr.7 rather than digits. It loads a
// few base modules carried in the binary (Debian does not ship the IETF
// ones) and every module found in the configured directories.
package mib

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sleepinggenius2/gosmi"
	"github.com/sleepinggenius2/gosmi/types"
)

//go:embed base
var base embed.FS

// Names resolves OIDs; safe for concurrent use. gosmi keeps global state,
// so a process has one Names.
type Names struct {
	mu     sync.Mutex
	cache  map[string]string
	Loaded []string // modules loaded
	Failed []string // files that did not load as a module
}

var (
	once   sync.Once
	global *Names
)

// Load loads the base modules and the modules of dirs (once per process;
// later calls return the first result).
func Load(dirs []string) *Names {
	once.Do(func() {
		global = &Names{cache: map[string]string{}}
		gosmi.Init()
		sub, _ := fs.Sub(base, "base")
		gosmi.SetPath("")
		gosmi.SetFS(gosmi.NamedFS("mamori", sub.(fs.ReadDirFS)))
		for _, d := range dirs {
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				gosmi.AppendPath(d)
			}
		}
		for _, m := range []string{"SNMPv2-SMI", "SNMPv2-MIB", "IF-MIB"} {
			global.load(m)
		}
		for _, d := range dirs {
			ents, err := os.ReadDir(d)
			if err != nil {
				continue
			}
			for _, e := range ents {
				if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
					continue
				}
				global.load(strings.TrimSuffix(strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())), ".my"))
			}
		}
	})
	return global
}

func (n *Names) load(module string) {
	if gosmi.IsLoaded(module) {
		return
	}
	if name, err := gosmi.LoadModule(module); err != nil || name == "" {
		n.Failed = append(n.Failed, module)
		return
	}
	n.Loaded = append(n.Loaded, module)
}

// Name returns MODULE::name with the instance suffix (ifDescr.7 is
// IF-MIB::ifDescr.7), or "" when no loaded module names the OID.
func (n *Names) Name(oid string) string {
	if n == nil || oid == "" {
		return ""
	}
	oid = strings.TrimPrefix(oid, ".")
	n.mu.Lock()
	defer n.mu.Unlock()
	if s, ok := n.cache[oid]; ok {
		return s
	}
	s := n.resolve(oid)
	if len(n.cache) > 100000 {
		clear(n.cache)
	}
	n.cache[oid] = s
	return s
}

func (n *Names) resolve(oid string) string {
	o, err := types.OidFromString(oid)
	if err != nil {
		return ""
	}
	node, err := gosmi.GetNodeByOID(o)
	if err != nil || node.Name == "" || len(node.Oid) < 4 {
		return "" // nothing more specific than iso.org.dod
	}
	mod := node.GetModule().Name
	if mod == "" || strings.HasPrefix(mod, "<") {
		return ""
	}
	s := mod + "::" + node.Name
	if rest := o[len(node.Oid):]; len(rest) > 0 {
		s += "." + rest.String()
	}
	return s
}
