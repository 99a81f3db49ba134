package pairing

import (
	"bytes"
	"context"
	"crypto/sha256"
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
	code, err := ParseCode(o.Code)
	if err != nil {
		return JoinResult{}, err
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return JoinResult{}, err
	}
	members, err := ha.OpenMembers(o.DataDir)
	if err != nil {
		return JoinResult{}, err
	}
	if m := members.Get(); m.Peer != nil {
		return JoinResult{}, fmt.Errorf("%w with %s already", ha.ErrPaired, m.Peer.ID)
	}
	keyPEM, pub, err := NewKey()
	if err != nil {
		return JoinResult{}, err
	}
	pubPEM, err := PublicKeyPEM(pub)
	if err != nil {
		return JoinResult{}, err
	}
	resp, err := postJoin(ctx, o.Peer, code, JoinRequest{Role: o.Role, Secret: hex.EncodeToString(code.Secret[:]), Node: o.Self, PublicKeyPEM: string(pubPEM)})
	if err != nil {
		return JoinResult{}, err
	}
	fp, err := checkResponse(resp, code)
	if err != nil {
		return JoinResult{}, err
	}
	id := Identity{Dir: filepath.Join(o.DataDir, "tls")}
	if o.Role == RoleWitness {
		return JoinResult{Peer: resp.Peer, Fingerprint: fp}, id.Install([]byte(resp.CACertPEM), nil, []byte(resp.NodeCertPEM), keyPEM)
	}
	if err := secrets.InstallKey(o.DataDir, resp.SecretsKey); err != nil {
		return JoinResult{}, fmt.Errorf("secrets key from the peer: %w", err)
	}
	if err := setAside(filepath.Join(o.DataDir, "store")); err != nil {
		return JoinResult{}, err
	}
	if err := id.Install([]byte(resp.CACertPEM), []byte(resp.CAKeyPEM), []byte(resp.NodeCertPEM), keyPEM); err != nil {
		return JoinResult{}, err
	}
	err = members.Update(func(m *ha.Membership) error {
		*m = ha.Membership{Peer: &resp.Peer, Joiner: true, Epoch: resp.Epoch}
		return nil
	})
	return JoinResult{Peer: resp.Peer, Fingerprint: fp}, err
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
		return JoinResponse{}, fmt.Errorf("%s refused the pairing: %s", peer, e.Error)
	}
	var resp JoinResponse
	if err := json.Unmarshal(b, &resp); err != nil {
		return JoinResponse{}, fmt.Errorf("pairing answer: %w", err)
	}
	return resp, nil
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
