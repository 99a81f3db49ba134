package pairing

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mamori-ops/mamori/internal/fileutil"
)

// ErrNoCAKey: this node holds the CA certificate but not its key.
var ErrNoCAKey = errors.New("this appliance does not hold the CA key")

// Identity is one node's certificate files in a directory.
type Identity struct{ Dir string }

// CAFile is the CA certificate path.
func (id Identity) CAFile() string { return filepath.Join(id.Dir, "ca.crt") }

// CAKeyFile is the CA key path.
func (id Identity) CAKeyFile() string { return filepath.Join(id.Dir, "ca.key") }

// CertFile is the node certificate path.
func (id Identity) CertFile() string { return filepath.Join(id.Dir, "node.crt") }

// KeyFile is the node key path.
func (id Identity) KeyFile() string { return filepath.Join(id.Dir, "node.key") }

// Exists says whether the node certificate, key and CA certificate exist.
func (id Identity) Exists() bool {
	for _, f := range []string{id.CAFile(), id.CertFile(), id.KeyFile()} {
		if _, err := os.Stat(f); err != nil {
			return false
		}
	}
	return true
}

// LoadCA loads the CA with its key.
func (id Identity) LoadCA() (*CA, error) {
	c, err := os.ReadFile(id.CAFile())
	if err != nil {
		return nil, err
	}
	k, err := os.ReadFile(id.CAKeyFile())
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoCAKey
	}
	if err != nil {
		return nil, err
	}
	return ParseCA(c, k)
}

// CACert loads the CA certificate.
func (id Identity) CACert() (*x509.Certificate, error) { return readCert(id.CAFile()) }

// NodeCert loads the node certificate.
func (id Identity) NodeCert() (*x509.Certificate, error) { return readCert(id.CertFile()) }

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseCert(b)
}

func parseCert(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(blk.Bytes)
}

// Bootstrap makes a CA and node certificate on first start, and re-issues
// the node certificate when its id or addresses changed, or when it was
// issued before certificates carried their role (appliance).
func (id Identity) Bootstrap(nodeID string, ips []net.IP, now time.Time) (bool, error) {
	if !id.Exists() {
		ca, err := NewCA("mamori appliance CA "+nodeID, now)
		if err != nil {
			return false, err
		}
		caKey, err := ca.KeyPEM()
		if err != nil {
			return false, err
		}
		cert, key, err := issueNode(ca, nodeID, ips, now)
		if err != nil {
			return false, err
		}
		return true, id.Install(ca.CertPEM(), caKey, cert, key)
	}
	cert, err := id.NodeCert()
	if err != nil {
		return false, fmt.Errorf("node certificate %s: %w", id.CertFile(), err)
	}
	if cert.Subject.CommonName == nodeID && coversAll(cert, ips) && RoleOf(cert) == CertAppliance {
		return false, nil
	}
	ca, err := id.LoadCA()
	if errors.Is(err, ErrNoCAKey) && cert.Subject.CommonName == nodeID && coversAll(cert, ips) {
		return false, nil // a certificate from before roles, kept: it still counts as an appliance under its id
	}
	if err != nil {
		return false, fmt.Errorf("node certificate does not match node.id/node.address and cannot be re-issued: %w", err)
	}
	c, k, err := issueNode(ca, nodeID, ips, now)
	if err != nil {
		return false, err
	}
	if err := fileutil.WriteAtomic(id.KeyFile(), k, 0o600); err != nil {
		return false, err
	}
	return true, fileutil.WriteAtomic(id.CertFile(), c, 0o644)
}

func issueNode(ca *CA, nodeID string, ips []net.IP, now time.Time) (cert, key []byte, err error) {
	key, pub, err := NewKey()
	if err != nil {
		return nil, nil, err
	}
	cert, err = ca.Issue(pub, nodeID, CertAppliance, ips, nil, now, 20*365*24*time.Hour)
	return cert, key, err
}

func coversAll(cert *x509.Certificate, ips []net.IP) bool {
	for _, ip := range ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

// Install replaces the whole identity: the files are written to a new
// directory which is then renamed over the old one.
func (id Identity) Install(caCertPEM, caKeyPEM, nodeCertPEM, nodeKeyPEM []byte) error {
	parent := filepath.Dir(id.Dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".tls-new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	files := []struct {
		name string
		b    []byte
		mode os.FileMode
	}{{"ca.crt", caCertPEM, 0o644}, {"ca.key", caKeyPEM, 0o600}, {"node.crt", nodeCertPEM, 0o644}, {"node.key", nodeKeyPEM, 0o600}}
	for _, f := range files {
		if f.b == nil {
			continue
		}
		if err := fileutil.WriteAtomic(filepath.Join(tmp, f.name), f.b, f.mode); err != nil {
			return err
		}
	}
	old := id.Dir + ".old"
	_ = os.RemoveAll(old)
	if err := os.Rename(id.Dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("install identity: %w", err)
	}
	if err := os.Rename(tmp, id.Dir); err != nil {
		_ = os.Rename(old, id.Dir)
		return fmt.Errorf("install identity: %w", err)
	}
	_ = os.RemoveAll(old)
	return os.Chmod(id.Dir, 0o700)
}
