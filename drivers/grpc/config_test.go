package grpcdriver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/coldbench/coldbench/drivers"
	grpcdriver "github.com/coldbench/coldbench/drivers/grpc"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and echo.test,
// good for server and client auth, and returns it with its file paths.
func selfSigned(t *testing.T) (cert tls.Certificate, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "echo.test"},
		DNSNames:              []string{"echo.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if cert, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	return cert, certFile, keyFile
}

// TestTLS calls a server that requires mutual TLS, and one the driver
// does not trust.
func TestTLS(t *testing.T) {
	t.Parallel()
	cert, certFile, keyFile := selfSigned(t)
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	e := startEcho(t, reflectBoth, grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	})))

	cfg := config(e.addr)
	cfg.Plaintext = false
	cfg.TLS = grpcdriver.TLSConfig{CAFile: certFile, CertFile: certFile, KeyFile: keyFile, ServerName: "echo.test"}
	d := open(t, cfg)
	c := &drivers.Call{ID: "tls", Phase: "tls"}
	if err := invoke(d, c); err != nil || c.Status != 200 {
		t.Fatalf("status %d err %v", c.Status, err)
	}
	if !c.Net.NewConn || c.Net.TLS <= 0 || c.Net.Connect <= 0 {
		t.Errorf("first call over TLS: %+v, want a new connection with connect and TLS times", c.Net)
	}

	cfg.TLS = grpcdriver.TLSConfig{} // the system roots do not know the test CA
	if d, err := grpcdriver.Open(t.Context(), cfg); err == nil {
		d.Close()
		t.Error("Open trusted an unknown CA")
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %q does not say what was wrong with the certificate", err)
	}
}

// TestScenarioColdBlock checks that a scenario's cold: block applies to
// response metadata when the target names no keys of its own.
func TestScenarioColdBlock(t *testing.T) {
	t.Parallel()
	e := startEcho(t, reflectBoth)
	cfg := config(e.addr)
	cfg.ColdMetadata, cfg.InstanceMetadata = "", ""
	var _ drivers.ColdHeaderSetter = cfg
	cfg.SetColdHeaders([]string{"X-Cold-Start"}, "X-Instance-Id")
	d := open(t, cfg)
	for i, want := range []drivers.Temperature{drivers.Cold, drivers.Warm} {
		c := &drivers.Call{Seq: uint64(i), ID: "cold-block"}
		if err := invoke(d, c); err != nil {
			t.Fatal(err)
		}
		if c.Temp != want || c.Source != drivers.SourceHeader || c.InstanceID != "instance-1" {
			t.Errorf("call %d: %s from %s on %q, want %s from header on instance-1", i, c.Temp, c.Source, c.InstanceID, want)
		}
	}
}

func TestSetURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in        string
		address   string
		plaintext bool
		wantErr   string
	}{
		{"localhost:50051", "localhost:50051", false, ""},                 // bare host:port keeps the TLS choice
		{"grpc://10.0.0.1:8080", "10.0.0.1:8080", true, ""},               // grpc:// is plaintext
		{"grpcs://api.example.com:443", "api.example.com:443", false, ""}, // grpcs:// is TLS
		{"[::1]:9000", "[::1]:9000", false, ""},                           // IPv6
		{"http://x:1", "", false, "scheme"},                               // not a gRPC scheme
		{"grpc://x:1/svc", "", false, "path"},                             // a path means nothing to gRPC
		{"localhost", "", false, "host:port"},                             // no port
	}
	var _ drivers.URLSetter = grpcdriver.DefaultConfig()
	for _, tt := range tests {
		cfg := grpcdriver.DefaultConfig()
		err := cfg.SetURL(tt.in)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SetURL(%q) = %v, want an error about %s", tt.in, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("SetURL(%q): %v", tt.in, err)
		case cfg.Address != tt.address || cfg.Plaintext != tt.plaintext:
			t.Errorf("SetURL(%q): address %q plaintext %v, want %q %v", tt.in, cfg.Address, cfg.Plaintext, tt.address, tt.plaintext)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(c *grpcdriver.Config)
		field  string // the field the error names; "" for valid
	}{
		{"defaults with address and method", func(c *grpcdriver.Config) {}, ""},
		{"leading slash", func(c *grpcdriver.Config) { c.Method = "/pkg.Svc/M" }, ""},
		{"no method", func(c *grpcdriver.Config) { c.Method = "" }, "method"},
		{"dotted method", func(c *grpcdriver.Config) { c.Method = "pkg.Svc.M" }, "method"},
		{"two slashes", func(c *grpcdriver.Config) { c.Method = "pkg.Svc/M/N" }, "method"},
		{"bad template", func(c *grpcdriver.Config) { c.Request = `{"a": {{.Seq}` }, "request"},
		{"upper-case metadata key", func(c *grpcdriver.Config) { c.Metadata = map[string]string{"X-Team": "a"} }, ""},
		{"metadata key with a space", func(c *grpcdriver.Config) { c.Metadata = map[string]string{"x team": "a"} }, "metadata.x team"},
		{"metadata value with a newline", func(c *grpcdriver.Config) { c.Metadata = map[string]string{"x": "a\nb"} }, "metadata.x"},
		{"binary metadata", func(c *grpcdriver.Config) { c.Metadata = map[string]string{"x-bin": "\x00\x01"} }, ""},
		{"reserved cold key", func(c *grpcdriver.Config) { c.ColdMetadata = "grpc-status" }, "cold_metadata"},
		{"too many connections", func(c *grpcdriver.Config) { c.Connections = 1000 }, "connections"},
		{"cert without key", func(c *grpcdriver.Config) { c.TLS.CertFile = "/etc/hostname" }, "tls.cert_file"},
		{"missing descriptor set", func(c *grpcdriver.Config) { c.DescriptorSet = "/nonexistent.protoset" }, "descriptor_set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := grpcdriver.DefaultConfig()
			cfg.Address, cfg.Method = "localhost:50051", "pkg.Svc/M"
			tt.change(cfg)
			err := cfg.Validate()
			if tt.field == "" {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.field+":") {
				t.Errorf("Validate = %v, want an error at %s", err, tt.field)
			}
		})
	}
}
