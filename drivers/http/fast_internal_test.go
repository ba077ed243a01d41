package http

import "testing"

// TestClientDefault: unset, the client is fasthttp unless http2 or sigv4
// needs net/http; named, it is the one named.
func TestClientDefault(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		fast bool
	}{
		// the default for an HTTP/1.1 target, http:// or https://
		{"unset", func(*Config) {}, true},
		{"unset https", func(c *Config) { c.URL = "https://127.0.0.1:1/" }, true},
		// net/http chosen for what only it does, without an error
		{"http2", func(c *Config) { c.HTTP2 = true }, false},
		{"sigv4", func(c *Config) { c.SigV4 = &SigV4Config{Region: "eu-west-1"} }, false},
		// named
		{"net/http", func(c *Config) { c.Client = ClientNetHTTP }, false},
		{"fasthttp", func(c *Config) { c.Client = ClientFast }, true},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		cfg.URL = "http://127.0.0.1:1/"
		tt.edit(cfg)
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := cfg.fast(); got != tt.fast {
			t.Errorf("%s: fasthttp %v, want %v", tt.name, got, tt.fast)
		}
	}
	cfg := DefaultConfig()
	cfg.URL = "http://127.0.0.1:1/"
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.fast == nil {
		t.Error("New with the client unset: net/http, want fasthttp")
	}
}
