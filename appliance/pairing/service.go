package pairing

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/secrets"
)

// ErrBadRequest: the join request is malformed.
var ErrBadRequest = errors.New("bad join request")

// Roles a joiner can ask for.
const (
	RoleAppliance = ""        // the second appliance of the pair
	RoleWitness   = "witness" // a `mamori witness` host: a certificate, nothing else
)

// JoinRequest is what a joining appliance sends with its code.
type JoinRequest struct {
	Role         string      `json:"role,omitempty"`
	Secret       string      `json:"secret"` // hex of the code's secret part
	Node         ha.NodeInfo `json:"node"`
	PublicKeyPEM string      `json:"public_key_pem"`
}

// JoinResponse gives the joiner its identity under this pair's CA.
type JoinResponse struct {
	CACertPEM   string      `json:"ca_cert_pem"`
	CAKeyPEM    string      `json:"ca_key_pem"`
	NodeCertPEM string      `json:"node_cert_pem"`
	Peer        ha.NodeInfo `json:"peer"`
	Epoch       uint64      `json:"epoch"`
	// SecretsKey is the key credentials are sealed with, so they open on
	// both appliances (never given to a witness).
	SecretsKey []byte `json:"secrets_key,omitempty"`
}

// Service is the founder's side of pairing: it issues codes and admits
// the joiner.
type Service struct {
	dataDir string
	id      Identity
	members *ha.Members
	self    ha.NodeInfo
	log     *slog.Logger
	mu      sync.Mutex // one redeem at a time; the code book file is shared with nobody else
}

// NewService returns the pairing service; it does no I/O.
func NewService(dataDir string, id Identity, members *ha.Members, self ha.NodeInfo, logger *slog.Logger) *Service {
	return &Service{dataDir: dataDir, id: id, members: members, self: self, log: logger.With("component", "pairing")}
}

func (s *Service) book() (*CodeBook, error) {
	return OpenCodeBook(filepath.Join(s.dataDir, "pairing-codes.json"))
}

// NewCode issues a one-time code valid for ttl.
func (s *Service) NewCode(ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 || ttl > 24*time.Hour {
		return "", time.Time{}, fmt.Errorf("%w: ttl must be between 1s and 24h", ErrBadRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ca, err := s.id.LoadCA()
	if err != nil {
		return "", time.Time{}, err
	}
	b, err := s.book()
	if err != nil {
		return "", time.Time{}, err
	}
	now := time.Now()
	c, err := b.Issue(ca, ttl, now)
	if err != nil {
		return "", time.Time{}, err
	}
	s.log.Info("pairing code issued", "expires", now.Add(ttl))
	return c.String(), now.Add(ttl), nil
}

// Fingerprint is this pair's CA fingerprint.
func (s *Service) Fingerprint() string {
	ca, err := s.id.CACert()
	if err != nil {
		return ""
	}
	return FormatFingerprint(sha256Sum(ca.Raw))
}

// Join admits the joiner if its code is valid, unused and unexpired.
// Nothing changes on a refusal: the code is redeemed only after the request
// itself checked out, and the peer is recorded only after the redeem.
func (s *Service) Join(ctx context.Context, req JoinRequest) (JoinResponse, error) {
	pub, ips, secret, err := s.check(req)
	if err != nil {
		s.log.Debug("pairing refused", "node", req.Node.ID, "err", err)
		return JoinResponse{}, err
	}
	if req.Role != RoleAppliance && req.Role != RoleWitness {
		return JoinResponse{}, fmt.Errorf("%w: unknown role %q", ErrBadRequest, req.Role)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.members.Get()
	switch {
	case req.Role == RoleAppliance && m.Peer != nil && m.Peer.ID != req.Node.ID:
		return JoinResponse{}, fmt.Errorf("%w with %s: this appliance takes one peer", ha.ErrPaired, m.Peer.ID)
	case req.Role == RoleWitness && m.Peer != nil && m.Peer.ID == req.Node.ID:
		// A witness certificate under an appliance's id would make it
		// that appliance to anyone who trusts the id alone.
		return JoinResponse{}, fmt.Errorf("%w: %q is the id of this pair's appliance %s: give the witness another --id", ErrBadRequest, req.Node.ID, m.Peer.ID)
	}
	b, err := s.book()
	if err != nil {
		return JoinResponse{}, err
	}
	if err := b.Redeem(secret, time.Now()); err != nil {
		s.log.Debug("pairing refused", "node", req.Node.ID, "err", err) // audited by the API, aggregated
		return JoinResponse{}, err
	}
	ca, err := s.id.LoadCA()
	if err != nil {
		return JoinResponse{}, err
	}
	role := CertAppliance
	if req.Role == RoleWitness {
		role = CertWitness
	}
	certPEM, err := ca.Issue(pub, req.Node.ID, role, ips, nil, time.Now(), 20*365*24*time.Hour)
	if err != nil {
		return JoinResponse{}, err
	}
	if req.Role == RoleWitness {
		s.log.Info("witness certified", "witness", req.Node.ID, "addr", req.Node.APIAddrs)
		return JoinResponse{CACertPEM: string(ca.CertPEM()), NodeCertPEM: string(certPEM), Peer: s.self}, nil
	}
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		return JoinResponse{}, err
	}
	skey, err := secrets.LoadKey(s.dataDir)
	if err != nil {
		return JoinResponse{}, err
	}
	if err := s.members.SetPeer(req.Node); err != nil {
		return JoinResponse{}, err
	}
	s.log.Info("appliance paired", "peer", req.Node.ID, "cluster", req.Node.ClusterAddr)
	return JoinResponse{CACertPEM: string(ca.CertPEM()), CAKeyPEM: string(keyPEM), NodeCertPEM: string(certPEM),
		Peer: s.self, Epoch: s.members.Get().Epoch, SecretsKey: skey}, nil
}

func (s *Service) check(req JoinRequest) (any, []net.IP, [10]byte, error) {
	var secret [10]byte
	raw, err := hex.DecodeString(req.Secret)
	if err != nil || len(raw) != len(secret) {
		return nil, nil, secret, fmt.Errorf("%w: secret must be %d hex bytes", ErrBadRequest, len(secret))
	}
	copy(secret[:], raw)
	n := req.Node
	if n.ID == "" || len(n.ID) > 64 {
		return nil, nil, secret, fmt.Errorf("%w: node id must be 1..64 characters", ErrBadRequest)
	}
	if n.ID == s.self.ID {
		return nil, nil, secret, fmt.Errorf("%w: the joiner has this appliance's node id %q: give it another node.id", ErrBadRequest, n.ID)
	}
	ips, err := nodeIPs(n)
	if err != nil {
		return nil, nil, secret, err
	}
	pub, err := ParsePublicKeyPEM([]byte(req.PublicKeyPEM))
	if err != nil {
		return nil, nil, secret, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	return pub, ips, secret, nil
}

// nodeIPs are the IP SANs the joiner's certificate needs: the hosts of
// its cluster address and API addresses.
func nodeIPs(n ha.NodeInfo) ([]net.IP, error) {
	if len(n.APIAddrs) > 8 {
		return nil, fmt.Errorf("%w: 1 to 8 API addresses", ErrBadRequest)
	}
	var ips []net.IP
	for _, a := range append([]string{n.ClusterAddr}, n.APIAddrs...) {
		h, _, err := net.SplitHostPort(a)
		ip := net.ParseIP(h)
		if err != nil || ip == nil {
			return nil, fmt.Errorf("%w: %q is not ip:port", ErrBadRequest, a)
		}
		ips = append(ips, ip)
	}
	if len(n.APIAddrs) == 0 {
		return nil, fmt.Errorf("%w: no API address", ErrBadRequest)
	}
	return ips, nil
}

// IsPairAppliance says whether a verified client certificate is one of
// this pair's appliances (see Members.Appliance).
func (s *Service) IsPairAppliance(p Peer) bool {
	return Members{SelfID: s.self.ID, Pair: s.members}.Appliance(p)
}

// SelfID is this appliance's node id.
func (s *Service) SelfID() string { return s.self.ID }
