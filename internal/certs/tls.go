package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ServerConfig is the TLS configuration of an agent: it presents
// certFile/keyFile and requires every client to present a certificate that
// caFile's CA signed.
func ServerConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	pool, cert, err := load(caFile, certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return ServerConfigFrom(pool, cert), nil
}

// ServerConfigFrom is ServerConfig from loaded material.
func ServerConfigFrom(pool *x509.CertPool, cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}
}

// ClientConfig is the TLS configuration of a controller: it presents
// certFile/keyFile and trusts only agents whose certificate caFile's CA
// signed. The server name is set per agent by the caller.
func ClientConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	pool, cert, err := load(caFile, certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return ClientConfigFrom(pool, cert), nil
}

// ClientConfigFrom is ClientConfig from loaded material.
func ClientConfigFrom(pool *x509.CertPool, cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
	}
}

// Pool makes a certificate pool of PEM certificates.
func Pool(caPEM []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no PEM certificate found")
	}
	return pool, nil
}

func load(caFile, certFile, keyFile string) (*x509.CertPool, tls.Certificate, error) {
	if caFile == "" || certFile == "" || keyFile == "" {
		return nil, tls.Certificate{}, errors.New("mutual TLS needs a CA, a certificate and a key (--ca, --cert, --key)")
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("read CA: %w", err)
	}
	pool, err := Pool(caPEM)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("CA %s: %w", caFile, err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("load certificate %s: %w", certFile, err)
	}
	return pool, cert, nil
}
