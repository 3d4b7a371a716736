package alerts

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// errNotPublic is the dial error of an address PublicOnlyClient refuses.
var errNotPublic = errors.New("refusing to connect to a non-public address")

// PublicOnlyClient returns an HTTP client for URLs that a tenant chooses:
// it connects only to public unicast addresses. The check runs on the
// address actually dialled, after DNS, for every connection (redirects
// included), so a name that resolves to 127.0.0.1 or a public receiver
// that redirects to 169.254.169.254 is refused as well. It uses no proxy
// from the environment (a proxy would dial on its behalf, unchecked).
func PublicOnlyClient(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, Control: publicOnly}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Timeout: timeout, Transport: t}
}

// publicOnly is a net.Dialer Control that refuses non-public addresses.
func publicOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w %s", errNotPublic, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !isPublic(ip) {
		return fmt.Errorf("%w %s", errNotPublic, address)
	}
	return nil
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598), not
// covered by netip's IsPrivate.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// isPublic reports whether ip is a global unicast address outside the
// private, loopback, link-local and shared ranges.
func isPublic(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() &&
		!ip.IsLinkLocalUnicast() && !cgnat.Contains(ip)
}
