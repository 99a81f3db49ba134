package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/secrets"
	"github.com/mamori-ops/mamori/test/cluster"
)

// Credentials are sealed at rest on both appliances, with one key that
// pairing handed over, and the API never returns them in clear.
func TestSecretsAtRest(t *testing.T) {
	skipShort(t)
	a, b := newPair(t, cluster.Options{})
	ka, err1 := secrets.LoadKey(filepath.Join(a.Dir, "data"))
	kb, err2 := secrets.LoadKey(filepath.Join(b.Dir, "data"))
	if err1 != nil || err2 != nil || !bytes.Equal(ka, kb) {
		t.Fatalf("secrets keys: %v %v equal=%v", err1, err2, bytes.Equal(ka, kb))
	}
	a.CreateAdmin("admin", pw)
	tok := a.Login("admin", pw)
	plain := fmt.Sprintf("usm-priv-%d", time.Now().UnixNano())
	if code, err := a.DoAs(tok, http.MethodPost, "/api/v1/credentials", map[string]string{"name": "core-router", "kind": "snmpv3-priv", "username": "mamori", "secret": plain}, nil); code != 200 {
		t.Fatalf("store credential: HTTP %d %v", code, err)
	}
	var raw map[string]any
	if code, _ := b.DoAs(tok, http.MethodGet, "/api/v1/credentials", nil, &raw); code != 200 {
		t.Fatalf("list credentials on the standby: HTTP %d", code)
	}
	if s := fmt.Sprint(raw); strings.Contains(s, plain) || !strings.Contains(s, "core-router") {
		t.Fatalf("credential list: %s", s)
	}
	// Neither appliance's store files, nor the audit log, hold the secret.
	for _, n := range []*cluster.Node{a, b} {
		filepath.Walk(filepath.Join(n.Dir, "data", "store"), func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				if bs, _ := os.ReadFile(p); bytes.Contains(bs, []byte(plain)) {
					t.Errorf("%s: %s holds the secret in clear", n.Name, p)
				}
			}
			return nil
		})
	}
	if code, _ := a.DoAs(tok, http.MethodPost, "/api/v1/credentials", map[string]string{"name": "x", "kind": "nonsense", "secret": "s"}, nil); code != http.StatusBadRequest {
		t.Fatalf("credential of an unknown kind: HTTP %d", code)
	}
}
