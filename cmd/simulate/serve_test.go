package main

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeRefuses: serve listens on loopback unless --public says
// otherwise, and bad bounds or addresses are bad input.
func TestServeRefuses(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--addr", ":8080"}, `--addr ":8080" is not a loopback address: others could run simulations on this machine; add --public to allow that`},
		{[]string{"serve", "--addr", "0.0.0.0:8080"}, `--addr "0.0.0.0:8080" is not a loopback address`},
		{[]string{"serve", "--addr", "8080"}, `--addr "8080": use HOST:PORT, such as 127.0.0.1:8080`},
		{[]string{"serve", "--max-wall", "0s"}, "--max-wall: use a value above zero"},
		{[]string{"serve", "--max-runs", "0"}, "--max-runs: use a value above zero"},
		{[]string{"serve", "--cache", "-1"}, "--cache -1: use MiB from 0 (keep no pages) to 1048576"},
		{[]string{"serve", "--cache", "64GiB"}, `--cache: "64GiB" is not a value it takes`},
		{[]string{"serve", "extra"}, "serve takes no arguments"},
	}
	for _, tt := range tests {
		badInput(t, tt.want, tt.args...)
	}
	// A port already taken: the listen error, as bad input.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	badInput(t, "--addr "+ln.Addr().String()+": listen tcp", "serve", "--addr", ln.Addr().String())
}

func TestCheckAddr(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:8080", "localhost:80", "[::1]:8080", "127.0.0.2:1"} {
		assert.NoError(t, checkAddr(addr, false), addr)
	}
	for _, addr := range []string{":8080", "0.0.0.0:8080", "192.168.1.2:8080", "example.com:80", "[::]:8080"} {
		assert.Error(t, checkAddr(addr, false), addr)
		assert.NoError(t, checkAddr(addr, true), addr)
	}
}

// TestCheckListener: what counts is the address listened on, whatever
// the name given resolved to.
func TestCheckListener(t *testing.T) {
	tests := []struct {
		ip     string
		public bool
		ok     bool
	}{
		{"127.0.0.1", false, true},
		{"::1", false, true},
		{"192.168.1.2", false, false},
		{"0.0.0.0", false, false},
		{"192.168.1.2", true, true},
	}
	for _, tt := range tests {
		err := checkListener(&net.TCPAddr{IP: net.ParseIP(tt.ip), Port: 8080}, "localhost:8080", tt.public)
		if tt.ok {
			assert.NoError(t, err, tt.ip)
		} else {
			assert.ErrorContains(t, err, `--addr "localhost:8080 (`+net.JoinHostPort(tt.ip, "8080")+`)" is not a loopback address`, tt.ip)
		}
	}
}
