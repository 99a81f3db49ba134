package pairing

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

var (
	// ErrPinMismatch: the server's CA is not the one the pairing code names.
	ErrPinMismatch = errors.New("the appliance's CA does not match the pairing code")
	// ErrNoPeerCert: the connection carries no verified client certificate.
	ErrNoPeerCert = errors.New("no verified client certificate")
)

// cipherSuites are the TLS 1.2 suites allowed: ECDHE with AEAD only.
// (TLS 1.3 suites are not configurable and are all strong.)
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

func (id Identity) pool() (*x509.CertPool, error) {
	b, err := os.ReadFile(id.CAFile())
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no certificate", id.CAFile())
	}
	return p, nil
}

// keyPair loads the node certificate with the CA certificate appended,
// so a pinned joiner sees the CA in the chain.
func (id Identity) keyPair() (tls.Certificate, error) {
	cert, err := os.ReadFile(id.CertFile())
	if err != nil {
		return tls.Certificate{}, err
	}
	ca, err := os.ReadFile(id.CAFile())
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := os.ReadFile(id.KeyFile())
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(append(append(bytes.TrimSpace(cert), '\n'), ca...), key)
}

// ServerConfig is the TLS configuration of every listener.
func (id Identity) ServerConfig(clientAuth tls.ClientAuthType) (*tls.Config, error) {
	kp, err := id.keyPair()
	if err != nil {
		return nil, fmt.Errorf("node certificate: %w", err)
	}
	pool, err := id.pool()
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: cipherSuites, Certificates: []tls.Certificate{kp},
		ClientCAs: pool, ClientAuth: clientAuth}, nil
}

// ClientConfig is the TLS configuration for dialing another node.
func (id Identity) ClientConfig() (*tls.Config, error) {
	kp, err := id.keyPair()
	if err != nil {
		return nil, fmt.Errorf("node certificate: %w", err)
	}
	pool, err := id.pool()
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: cipherSuites, Certificates: []tls.Certificate{kp}, RootCAs: pool}, nil
}

// PairingServerName is the server name a joiner sends, so an appliance
// that serves the operator's certificate to browsers shows it the
// appliance certificate the code pins.
const PairingServerName = "mamori-pairing"

// WithOperatorCert makes cfg serve the operator's certificate to every
// client except those naming this node (peers, the CLI) or pairing.
func WithOperatorCert(cfg *tls.Config, nodeID, certFile, keyFile string) (*tls.Config, error) {
	op, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("operator certificate: %w", err)
	}
	node := cfg.Certificates[0]
	out := cfg.Clone()
	out.Certificates = nil
	out.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if hello.ServerName == nodeID || hello.ServerName == PairingServerName {
			return &node, nil
		}
		return &op, nil
	}
	return out, nil
}

// PinnedClientConfig accepts a server only if its chain holds a CA whose
// fingerprint starts with pin and the leaf verifies against that CA. It
// fails the handshake, before any request is sent, otherwise.
func PinnedClientConfig(pin [16]byte) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: cipherSuites, InsecureSkipVerify: true, ServerName: PairingServerName,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error { return verifyPinned(raw, pin) }}
}

func verifyPinned(raw [][]byte, pin [16]byte) error {
	if len(raw) < 2 {
		return ErrPinMismatch
	}
	leaf, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return err
	}
	for _, r := range raw[1:] {
		ca, err := x509.ParseCertificate(r)
		if err != nil {
			continue
		}
		fp := sha256Sum(ca.Raw)
		if !ca.IsCA || !bytes.Equal(fp[:16], pin[:]) {
			continue
		}
		roots := x509.NewCertPool()
		roots.AddCert(ca)
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			return fmt.Errorf("%w: %v", ErrPinMismatch, err)
		}
		return nil
	}
	return ErrPinMismatch
}
