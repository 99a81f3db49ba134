package backup

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/appliance/secrets"
	"github.com/mamori-ops/mamori/internal/fileutil"
)

// Names inside an archive.
const (
	DBName     = "db.sqlite"
	ConfigName = "mamori.yaml"
	pairName   = "pair.json"
)

// Names inside a data directory. A pending restore is the SQLite file
// RestoreDB and the checksums it must give, RestoreSums: `mamori serve`
// loads the first into a new single-voter store, checks the second, and
// only then removes both (so a failed or interrupted load is retried on
// the next start, from the start).
const (
	RestoreDB     = "restore.sqlite"
	RestoreSums   = "restore.json"
	RestoredConf  = "mamori.yaml.restored"
	identityDir   = "tls"
	lockFileName  = "mamori.lock"
	lostFoundName = "lost+found"
)

// identityFiles are the appliance's certificate files (pairing.Identity).
var identityFiles = []string{"ca.crt", "ca.key", "node.crt", "node.key"}

// ErrNotFresh: the data directory already holds an appliance.
var ErrNotFresh = errors.New("data directory holds a store: move it away or choose another --data-dir")

// Sources lists what a backup of dataDir takes besides the snapshot at
// dbPath: the identity, the secrets key, the pair state and the
// configuration file (configPath; "" when built-in defaults are used).
func Sources(dataDir, dbPath, configPath string) []Source {
	srcs := []Source{{DBName, dbPath}}
	for _, f := range identityFiles {
		srcs = append(srcs, Source{identityDir + "/" + f, filepath.Join(dataDir, identityDir, f)})
	}
	srcs = append(srcs, Source{secrets.KeyFile, filepath.Join(dataDir, secrets.KeyFile)})
	if _, err := os.Stat(filepath.Join(dataDir, pairName)); err == nil {
		srcs = append(srcs, Source{pairName, filepath.Join(dataDir, pairName)})
	}
	if configPath != "" {
		srcs = append(srcs, Source{ConfigName, configPath})
	}
	return srcs
}

// CheckFresh refuses a data directory that holds anything of an
// appliance (a store, an identity, a key, a pending restore).
func CheckFresh(dataDir string) error {
	ents, err := os.ReadDir(dataDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range ents {
		switch e.Name() {
		case lockFileName, lostFoundName:
			continue
		}
		return fmt.Errorf("%w (%s holds %s)", ErrNotFresh, dataDir, e.Name())
	}
	return nil
}

// Installed says what Install did.
type Installed struct {
	// Reissued: the node certificate was issued anew from the restored
	// CA, for this node's id and addresses (they differ from the backup's).
	Reissued bool
	// Config is where the backed-up configuration file was put ("" if none).
	Config string
}

// Install makes dataDir the first appliance of a new pair with the
// extracted archive in staged: the restored CA and keys, an unpaired pair
// state at an epoch above the backed-up one, and the store snapshot as a
// pending restore. staged must be on dataDir's file system; its files are
// moved.
func Install(dataDir, staged string, m Manifest, nodeID string, ips []net.IP, now time.Time) (Installed, error) {
	var out Installed
	read := func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(staged, filepath.FromSlash(name))) }
	var pem [4][]byte
	for i, f := range identityFiles {
		b, err := read(identityDir + "/" + f)
		if err != nil {
			return out, fmt.Errorf("%w: %s: %v", ErrDamaged, f, err)
		}
		pem[i] = b
	}
	id := pairing.Identity{Dir: filepath.Join(dataDir, identityDir)}
	if err := id.Install(pem[0], pem[1], pem[2], pem[3]); err != nil {
		return out, err
	}
	reissued, err := id.Bootstrap(nodeID, ips, now)
	if err != nil {
		return out, fmt.Errorf("node certificate for %s: %w", nodeID, err)
	}
	out.Reissued = reissued
	key, err := read(secrets.KeyFile)
	if err != nil {
		return out, fmt.Errorf("%w: %s: %v", ErrDamaged, secrets.KeyFile, err)
	}
	if err := fileutil.WriteAtomic(filepath.Join(dataDir, secrets.KeyFile), key, 0o600); err != nil {
		return out, err
	}
	members, err := ha.OpenMembers(dataDir)
	if err != nil {
		return out, err
	}
	if err := members.RaiseEpoch(m.Epoch + 1); err != nil {
		return out, err
	}
	if _, ok := m.file(ConfigName); ok {
		out.Config = filepath.Join(dataDir, RestoredConf)
		if err := os.Rename(filepath.Join(staged, ConfigName), out.Config); err != nil {
			return out, err
		}
	}
	// The checksums first, the database last: RestoreDB is the marker.
	if err := fileutil.WriteJSON(filepath.Join(dataDir, RestoreSums), m.Tables); err != nil {
		return out, err
	}
	return out, os.Rename(filepath.Join(staged, DBName), filepath.Join(dataDir, RestoreDB))
}

// Pending returns the path of a pending restore's database and the
// checksums it must give ("" when none is pending).
func Pending(dataDir string) (string, map[string]string, error) {
	db := filepath.Join(dataDir, RestoreDB)
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		return "", nil, nil
	}
	var sums map[string]string
	if err := fileutil.ReadJSON(filepath.Join(dataDir, RestoreSums), &sums); err != nil {
		return "", nil, fmt.Errorf("pending restore: %s: %w: run `mamori restore` again into an empty data directory", RestoreSums, err)
	}
	return db, sums, nil
}

// Done removes a pending restore once its store is loaded and checked.
func Done(dataDir string) error {
	if err := os.Remove(filepath.Join(dataDir, RestoreDB)); err != nil {
		return err
	}
	return os.Remove(filepath.Join(dataDir, RestoreSums))
}

// Diff lists the tables whose checksums differ between want and got.
func Diff(want, got map[string]string) []string {
	var out []string
	for t, w := range want {
		if got[t] != w {
			out = append(out, fmt.Sprintf("%s: backup %s, store %s", t, w, orNone(got[t])))
		}
	}
	for t, g := range got {
		if _, ok := want[t]; !ok {
			out = append(out, fmt.Sprintf("%s: not in the backup, store %s", t, g))
		}
	}
	slices.Sort(out)
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
