package httpx

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// PublicClient returns an HTTP client that connects only to public addresses, checked when it
// dials (so a DNS answer that changes after a check cannot reach a private address), through no
// proxy, and follows no redirect (a redirect could point anywhere). For URLs that someone other
// than the administrator typed: an organizer's webhook.
func PublicClient(timeout time.Duration) *http.Client {
	return &http.Client{Transport: publicTransport(), Timeout: timeout, CheckRedirect: noRedirect}
}

// publicTransport dials public addresses only, checking each address as it connects, and
// through no proxy (a proxy would hide the address actually reached).
func publicTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !public(ap.Addr()) {
			return fmt.Errorf("refusing to connect to %s: not a public address", address)
		}
		return nil
	}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = dialer.DialContext
	return tr
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// ResolvesPublic reports whether every address host resolves to is public.
func ResolvesPublic(ctx context.Context, host string) (bool, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return public(a), nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		if !public(a) {
			return false, nil
		}
	}
	return len(addrs) > 0, nil
}
