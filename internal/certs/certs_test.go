package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coldbench/coldbench/internal/certs"
)

// newPKI makes a CA in a temporary directory with certificates "agent" and
// "controller", and returns the directory.
func newPKI(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := certs.Init(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"agent", "controller"} {
		if _, _, err := certs.IssueFiles(dir, name, nil); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestInitAndIssue(t *testing.T) {
	t.Parallel()
	dir := newPKI(t)
	for f, perm := range map[string]os.FileMode{"ca.crt": 0o644, "ca.key": 0o600, "agent.crt": 0o644, "agent.key": 0o600} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != perm {
			t.Errorf("%s: mode %v, want %v", f, st.Mode().Perm(), perm)
		}
	}
	if err := certs.Init(dir); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second init: %v, want a refusal to replace the CA", err)
	}
	if _, _, err := certs.IssueFiles(dir, "agent", nil); err == nil {
		t.Error("issuing over an existing certificate succeeded")
	}
	if _, _, err := certs.IssueFiles(dir, "../evil", nil); err == nil {
		t.Error("a name with a path in it was accepted")
	}

	cert := readCert(t, filepath.Join(dir, "agent.crt"))
	if !slices.Contains(cert.DNSNames, "agent") || !slices.Contains(cert.DNSNames, "localhost") {
		t.Errorf("DNS SANs %v, want agent and localhost", cert.DNSNames)
	}
	if len(cert.IPAddresses) != 2 {
		t.Errorf("IP SANs %v, want 127.0.0.1 and ::1", cert.IPAddresses)
	}
	if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) || !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		t.Errorf("extended key usage %v, want server and client auth", cert.ExtKeyUsage)
	}
	ca := readCert(t, filepath.Join(dir, "ca.crt"))
	if err := cert.CheckSignatureFrom(ca); err != nil {
		t.Errorf("agent certificate not signed by the CA: %v", err)
	}
}

func TestIssueHosts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := certs.Init(dir); err != nil {
		t.Fatal(err)
	}
	crt, _, err := certs.IssueFiles(dir, "agents", []string{"agents.bench.svc", "10.0.0.7"})
	if err != nil {
		t.Fatal(err)
	}
	c := readCert(t, crt)
	if !slices.Equal(c.DNSNames, []string{"agents.bench.svc"}) || len(c.IPAddresses) != 1 || c.IPAddresses[0].String() != "10.0.0.7" {
		t.Errorf("SANs %v %v, want exactly the hosts given", c.DNSNames, c.IPAddresses)
	}
}

// TestMutualTLS: a server config accepts a client with a certificate from
// its CA and refuses one without a certificate or with another CA's.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	dir := newPKI(t)
	other := newPKI(t)
	p := func(d, f string) string { return filepath.Join(d, f) }
	server, err := certs.ServerConfig(p(dir, "ca.crt"), p(dir, "agent.crt"), p(dir, "agent.key"))
	if err != nil {
		t.Fatal(err)
	}
	good, err := certs.ClientConfig(p(dir, "ca.crt"), p(dir, "controller.crt"), p(dir, "controller.key"))
	if err != nil {
		t.Fatal(err)
	}
	// Trusts the agent's CA but presents a certificate from another.
	foreign, err := certs.ClientConfig(p(dir, "ca.crt"), p(other, "controller.crt"), p(other, "controller.key"))
	if err != nil {
		t.Fatal(err)
	}
	anonymous := good.Clone()
	anonymous.Certificates = nil

	tests := []struct {
		name   string
		client *tls.Config
		ok     bool
	}{
		{"same CA", good, true},                     // the normal case
		{"no client certificate", anonymous, false}, // refused by RequireAndVerifyClientCert
		{"certificate from another CA", foreign, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := handshake(t, server, tt.client)
			if tt.ok && err != nil {
				t.Errorf("handshake failed: %v", err)
			}
			if !tt.ok && err == nil {
				t.Error("handshake succeeded, want a refusal")
			}
		})
	}
}

// handshake runs a TLS handshake over loopback and returns the server's
// verdict (or the client's, when the client gave up first).
func handshake(t *testing.T, server, client *tls.Config) error {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	result := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			result <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		result <- c.(*tls.Conn).Handshake()
	}()
	cc := client.Clone()
	cc.ServerName = "localhost"
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), cc)
	if err == nil {
		// TLS 1.3 sends the client's certificate after the client's
		// handshake is done: read to learn the server's verdict.
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Read(make([]byte, 1))
		conn.Close()
	}
	if serr := <-result; serr != nil {
		return serr
	}
	return err
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
