package pairing

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/mamori-ops/mamori/appliance/ha"
)

// CertRole is what a certificate of the pair CA was issued for. It is
// written into the certificate as a URI SAN (mamori:role/<role>), so a
// certificate carries its role wherever it is presented: a witness
// certificate never passes for an appliance, whatever its id.
type CertRole string

// Certificate roles.
const (
	// CertLegacy: a certificate issued before roles existed. It counts
	// as an appliance only under the id of this appliance or its peer.
	CertLegacy CertRole = ""
	// CertAppliance: one of the two appliances of the pair.
	CertAppliance CertRole = "appliance"
	// CertWitness: a `mamori witness` host (a lease arbiter, nothing else).
	CertWitness CertRole = "witness"
)

// ErrNotMember: a certificate of this CA that is not one of the pair's
// appliances (a witness, a former peer).
var ErrNotMember = errors.New("not an appliance of this pair")

const roleURIPrefix = "mamori:role/"

func roleURI(r CertRole) (*url.URL, error) {
	return url.Parse(roleURIPrefix + string(r))
}

// RoleOf reads the role a certificate was issued for.
func RoleOf(cert *x509.Certificate) CertRole {
	for _, u := range cert.URIs {
		if s := u.String(); strings.HasPrefix(s, roleURIPrefix) {
			return CertRole(strings.TrimPrefix(s, roleURIPrefix))
		}
	}
	return CertLegacy
}

// Peer is who is on the other end of a mutual TLS connection.
type Peer struct {
	ID   string
	Role CertRole
}

// PeerOf is the id and role of a connection's verified client certificate.
func PeerOf(cs *tls.ConnectionState) (Peer, error) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return Peer{}, ErrNoPeerCert
	}
	leaf := cs.VerifiedChains[0][0]
	return Peer{ID: leaf.Subject.CommonName, Role: RoleOf(leaf)}, nil
}

// Members says who the pair's appliances are now: this one (selfID) and
// the peer its membership names. It is the one membership rule of every
// node link (API node routes, the cluster port).
type Members struct {
	SelfID string
	Pair   *ha.Members
}

// Appliance says whether p is an appliance of this pair: a certificate
// issued for the appliance role (or before roles existed) under the id of
// this appliance or of its current peer.
func (m Members) Appliance(p Peer) bool {
	if p.Role != CertAppliance && p.Role != CertLegacy {
		return false
	}
	if p.ID == m.SelfID {
		return true
	}
	if m.Pair == nil {
		return false
	}
	peer := m.Pair.Get().Peer
	return peer != nil && peer.ID == p.ID
}

// VerifyConnection is a tls.Config.VerifyConnection that refuses every
// client but the pair's appliances (for the cluster port: a witness
// certificate is of the same CA and must not reach the store).
func (m Members) VerifyConnection(cs tls.ConnectionState) error {
	p, err := PeerOf(&cs)
	if err != nil {
		return err
	}
	if !m.Appliance(p) {
		return fmt.Errorf("certificate %q (role %q): %w", p.ID, p.Role, ErrNotMember)
	}
	return nil
}
