package pairing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/secrets"
)

// JoinPath is the founder's pairing endpoint.
const JoinPath = "/api/v1/pair/join"

// JoinOptions describe the joining appliance.
type JoinOptions struct {
	DataDir string
	Peer    string // founder's API host:port
	Code    string
	Self    ha.NodeInfo
	IPs     []net.IP
	// Role is RoleAppliance or RoleWitness; a witness gets a certificate
	// only (no CA key, no membership, no store).
	Role string
}

// JoinResult is what the joiner learned.
type JoinResult struct {
	Peer        ha.NodeInfo
	Fingerprint string
}

// JoinPeer runs the joiner's side of pairing: it verifies the founder's CA
// against the code's pin before sending anything, redeems the code, and
// only then installs the new identity and membership (the old store is set
// aside, not deleted). On any error this appliance is left as it was.
func JoinPeer(ctx context.Context, o JoinOptions) (JoinResult, error) {
	j, err := Exchange(ctx, o)
	if err != nil {
		return JoinResult{}, err
	}
	return j.Result(), j.Install()
}

// Joined is a completed exchange with the founder whose answer is not
// installed yet: a running appliance installs it only after it has
// stopped its store (see DESIGN.md, "Online pairing").
type Joined struct {
	dataDir string
	role    string
	keyPEM  []byte
	resp    JoinResponse
	fp      string
}

// Result is what the joiner learned.
func (j *Joined) Result() JoinResult { return JoinResult{Peer: j.resp.Peer, Fingerprint: j.fp} }

// Exchange checks that this appliance has no peer, sends the code to the
// founder (pinned: nothing is sent to a server whose CA does not match the
// code) and checks its answer. It writes nothing here; the founder has
// recorded this appliance as its peer once it returns without error.
func Exchange(ctx context.Context, o JoinOptions) (*Joined, error) {
	code, err := ParseCode(o.Code)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, err
	}
	members, err := ha.OpenMembers(o.DataDir)
	if err != nil {
		return nil, err
	}
	if m := members.Get(); m.Peer != nil {
		return nil, fmt.Errorf("%w with %s already", ha.ErrPaired, m.Peer.ID)
	}
	keyPEM, pub, err := NewKey()
	if err != nil {
		return nil, err
	}
	pubPEM, err := PublicKeyPEM(pub)
	if err != nil {
		return nil, err
	}
	resp, err := postJoin(ctx, o.Peer, code, JoinRequest{Role: o.Role, Secret: hex.EncodeToString(code.Secret[:]), Node: o.Self, PublicKeyPEM: string(pubPEM)})
	if err != nil {
		return nil, err
	}
	fp, err := checkResponse(resp, code)
	if err != nil {
		return nil, err
	}
	return &Joined{dataDir: o.DataDir, role: o.Role, keyPEM: keyPEM, resp: resp, fp: fp}, nil
}

// Install writes the identity, the secrets key and the membership the
// founder gave, setting the old store aside. The store must not be open.
func (j *Joined) Install() error {
	if err := os.MkdirAll(j.dataDir, 0o700); err != nil {
		return err
	}
	id := Identity{Dir: filepath.Join(j.dataDir, "tls")}
	resp := j.resp
	if j.role == RoleWitness {
		return id.Install([]byte(resp.CACertPEM), nil, []byte(resp.NodeCertPEM), j.keyPEM)
	}
	members, err := ha.OpenMembers(j.dataDir)
	if err != nil {
		return err
	}
	if err := secrets.InstallKey(j.dataDir, resp.SecretsKey); err != nil {
		return fmt.Errorf("secrets key from the peer: %w", err)
	}
	if err := setAside(filepath.Join(j.dataDir, "store")); err != nil {
		return err
	}
	if err := id.Install([]byte(resp.CACertPEM), []byte(resp.CAKeyPEM), []byte(resp.NodeCertPEM), j.keyPEM); err != nil {
		return err
	}
	return members.Update(func(m *ha.Membership) error {
		*m = ha.Membership{Peer: &resp.Peer, Joiner: true, Epoch: resp.Epoch}
		return nil
	})
}

// ErrPreview: the peer's certificate could not be read.
var ErrPreview = errors.New("cannot read the peer's certificate")

// PeerFingerprint connects to peer and returns the fingerprint of the CA
// its certificate chain carries, and whether it matches code's pin. It
// sends nothing but a TLS handshake: this is what an operator confirms
// before the code is sent.
func PeerFingerprint(ctx context.Context, peer, code string) (fp string, matches bool, err error) {
	c, err := ParseCode(code)
	if err != nil {
		return "", false, err
	}
	d := tls.Dialer{Config: &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true, ServerName: PairingServerName}}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", peer)
	if err != nil {
		return "", false, fmt.Errorf("%w: %s does not answer (%v): check the address (host:port of the first appliance's API)", ErrPreview, peer, err)
	}
	defer conn.Close()
	for i, cert := range conn.(*tls.Conn).ConnectionState().PeerCertificates {
		if i == 0 || !cert.IsCA {
			continue
		}
		sum := sha256Sum(cert.Raw)
		return FormatFingerprint(sum), bytes.Equal(sum[:len(c.Pin)], c.Pin[:]), nil
	}
	return "", false, fmt.Errorf("%w: %s presents no CA certificate: is it a mamori appliance?", ErrPreview, peer)
}

func postJoin(ctx context.Context, peer string, code Code, req JoinRequest) (JoinResponse, error) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: PinnedClientConfig(code.Pin)}}
	body, _ := json.Marshal(req)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+peer+JoinPath, bytes.NewReader(body))
	if err != nil {
		return JoinResponse{}, err
	}
	hr.Header.Set("Content-Type", "application/json")
	r, err := client.Do(hr)
	if err != nil {
		return JoinResponse{}, fmt.Errorf("cannot reach %s or its certificate does not match the code (%v): check the address and copy the code again", peer, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if r.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return JoinResponse{}, &RefusedError{Peer: peer, Status: r.StatusCode, Reason: e.Error}
	}
	var resp JoinResponse
	if err := json.Unmarshal(b, &resp); err != nil {
		return JoinResponse{}, fmt.Errorf("pairing answer: %w", err)
	}
	return resp, nil
}

// RefusedError: the founder answered and refused the join (a wrong,
// used or expired code; already paired): nothing changed on either side.
type RefusedError struct {
	Peer   string
	Status int // the founder's HTTP status
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s refused the pairing: %s", e.Peer, e.Reason)
}

// checkResponse verifies, again, that the CA we got is the pinned one and
// that the certificate we got chains to it.
func checkResponse(resp JoinResponse, code Code) (string, error) {
	ca, err := parseCert([]byte(resp.CACertPEM))
	if err != nil {
		return "", err
	}
	fp := sha256Sum(ca.Raw)
	if !bytes.Equal(fp[:len(code.Pin)], code.Pin[:]) {
		return "", ErrPinMismatch
	}
	leaf, err := parseCert([]byte(resp.NodeCertPEM))
	if err != nil {
		return "", err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return "", fmt.Errorf("issued certificate does not verify: %w", err)
	}
	return FormatFingerprint(fp), nil
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// setAside keeps a previous single-appliance store instead of deleting it.
func setAside(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	dst := dir + ".before-pairing-" + time.Now().UTC().Format("20060102T150405")
	if err := os.Rename(dir, dst); err != nil {
		return fmt.Errorf("set aside the old store: %w", err)
	}
	return nil
}
