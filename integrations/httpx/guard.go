package httpx

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pokor/pokor/session"
)

// PublicSite checks a tracker site that an organizer typed for one session (a Jira site, a
// self-managed GitLab): it must be https and resolve to public addresses, unless its host is
// in allowed (allowedVar names the setting that lists them, for the message). For a public
// site it returns an HTTP client that checks every address again when it dials, so a DNS
// answer that changes later (rebinding) cannot reach a private address either. For an allowed
// host it returns nil: the default client. A site that an organizer types must not turn the
// server into a proxy into its own network.
func PublicSite(provider, site string, allowed []string, allowedVar string) (*http.Client, error) {
	u, err := url.Parse(strings.TrimSpace(site))
	if err != nil || u.Host == "" {
		return nil, Errorf(provider, session.CodeInvalid, "the site %q is not a URL such as https://example.com", site)
	}
	host := u.Hostname()
	if slices.ContainsFunc(allowed, func(h string) bool { return strings.EqualFold(strings.TrimSpace(h), host) }) {
		return nil, nil
	}
	deny := func() error {
		return Errorf(provider, session.CodeInvalid,
			"the site %s is on a private network; the server admin can allow it by adding %s to %s", host, host, allowedVar)
	}
	if u.Scheme != "https" {
		return nil, Errorf(provider, session.CodeInvalid, "the site must use https:// (got %s)", u.Scheme)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, Errorf(provider, session.CodeInvalid, "the site %s cannot be found (DNS: %v)", host, err)
	}
	for _, a := range addrs {
		if !public(a) {
			return nil, deny()
		}
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !public(ap.Addr()) {
			return fmt.Errorf("refusing to connect to %s: not a public address", address)
		}
		return nil
	}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a proxy would hide the address actually reached
	tr.DialContext = dialer.DialContext
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}, nil
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598), private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// public reports whether a is an address on the public internet.
func public(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsGlobalUnicast() && !a.IsPrivate() && !cgnat.Contains(a)
}

// SameSite compares two site URLs the way a person would: case, a trailing slash and
// surrounding spaces do not matter.
func SameSite(a, b string) bool {
	norm := func(s string) string { return strings.TrimRight(strings.ToLower(strings.TrimSpace(s)), "/") }
	return norm(a) == norm(b)
}

// AllowedHosts splits a setting such as JIRA_ALLOWED_HOSTS ("jira.corp, jira2.corp") into hosts.
func AllowedHosts(setting string) []string {
	return strings.FieldsFunc(setting, func(r rune) bool { return r == ',' || r == ' ' })
}
