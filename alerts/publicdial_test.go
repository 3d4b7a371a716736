package alerts

import (
	"errors"
	"testing"
)

func TestPublicOnlyDial(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"93.184.216.34:443", true},
		{"[2606:4700::1111]:443", true},
		{"127.0.0.1:80", false},
		{"[::1]:80", false},
		{"10.1.2.3:80", false},
		{"172.16.0.1:80", false},
		{"192.168.1.1:80", false},
		{"169.254.169.254:80", false},
		{"100.64.0.1:80", false},
		{"0.0.0.0:80", false},
		{"[fd00::1]:80", false},
		{"[fe80::1]:80", false},
		{"[::ffff:127.0.0.1]:80", false},
		{"224.0.0.1:80", false},
		{"example.com:80", false},
	} {
		err := publicOnly("tcp", tc.addr, nil)
		if tc.ok != (err == nil) {
			t.Errorf("%s: %v, want ok=%v", tc.addr, err, tc.ok)
		}
		if err != nil && !errors.Is(err, errNotPublic) {
			t.Errorf("%s: %v is not errNotPublic", tc.addr, err)
		}
	}
}
