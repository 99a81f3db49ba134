package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// LDAPConfig describes a directory whose users may log in. A user is
// found with a service bind and a search, proven by binding as that user
// with the given password, and gets the roles mapped from its groups; a
// user whose groups map to no role cannot log in.
type LDAPConfig struct {
	URL        string // ldap://host:389 or ldaps://host:636
	StartTLS   bool   // upgrade ldap:// with StartTLS
	CAFile     string // CA for ldaps/StartTLS; empty: system roots
	BindDN     string // service account for searches
	BindSecret func(context.Context) (string, error)
	UserBase   string
	UserFilter string // e.g. (uid=%s); %s is the escaped user name
	GroupBase  string
	// GroupFilter finds the user's groups; %s is the escaped user DN.
	GroupFilter string
	GroupRoles  map[string][]string // group cn → mamori roles
	Timeout     time.Duration
}

// directory authenticates against LDAP.
type directory struct{ cfg LDAPConfig }

var errNoLDAPRoles = errors.New("ldap: none of the user's groups maps to a mamori role")

// login returns the mamori roles of user if password is right.
func (d *directory) login(ctx context.Context, user, password string) ([]string, error) {
	if password == "" {
		return nil, ErrBadCredentials // an empty password would be an anonymous bind
	}
	conn, err := d.dial()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	secret, err := d.cfg.BindSecret(ctx)
	if err != nil {
		return nil, fmt.Errorf("ldap service account password: %w", err)
	}
	if err := conn.Bind(d.cfg.BindDN, secret); err != nil {
		return nil, fmt.Errorf("ldap service bind: %w", err)
	}
	res, err := conn.Search(ldap.NewSearchRequest(d.cfg.UserBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 10, false,
		fmt.Sprintf(d.cfg.UserFilter, ldap.EscapeFilter(user)), []string{"dn"}, nil))
	if err != nil {
		return nil, fmt.Errorf("ldap user search: %w", err)
	}
	if len(res.Entries) != 1 {
		return nil, ErrBadCredentials
	}
	dn := res.Entries[0].DN
	if err := conn.Bind(dn, password); err != nil {
		return nil, ErrBadCredentials
	}
	if err := conn.Bind(d.cfg.BindDN, secret); err != nil {
		return nil, fmt.Errorf("ldap service bind: %w", err)
	}
	groups, err := conn.Search(ldap.NewSearchRequest(d.cfg.GroupBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 10, false,
		fmt.Sprintf(d.cfg.GroupFilter, ldap.EscapeFilter(dn)), []string{"cn"}, nil))
	if err != nil {
		return nil, fmt.Errorf("ldap group search: %w", err)
	}
	var roles []string
	for _, g := range groups.Entries {
		for _, r := range d.cfg.GroupRoles[g.GetAttributeValue("cn")] {
			if !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
	}
	if len(roles) == 0 {
		return nil, errNoLDAPRoles
	}
	slices.Sort(roles)
	return roles, nil
}

func (d *directory) dial() (*ldap.Conn, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if d.cfg.CAFile != "" {
		pem, err := os.ReadFile(d.cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap CA: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		tc.RootCAs.AppendCertsFromPEM(pem)
	}
	timeout := d.cfg.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	conn, err := ldap.DialURL(d.cfg.URL, ldap.DialWithTLSConfig(tc), ldap.DialWithDialer(&net.Dialer{Timeout: timeout}))
	if err != nil {
		return nil, fmt.Errorf("ldap %s: %w", d.cfg.URL, err)
	}
	conn.SetTimeout(timeout)
	if d.cfg.StartTLS && strings.HasPrefix(d.cfg.URL, "ldap://") {
		if err := conn.StartTLS(tc); err != nil {
			conn.Close()
			return nil, fmt.Errorf("ldap StartTLS: %w", err)
		}
	}
	return conn, nil
}
