package http

import "testing"

func TestRegionFromURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"https://abcdefghij0123456789abcdefghij01.lambda-url.eu-west-1.on.aws/", "eu-west-1"}, // a function URL
		{"https://abc.lambda-url.us-gov-west-1.on.aws/path?q=1", "us-gov-west-1"},              // with path and query
		{"https://api.example.com/", ""},                                                       // anything else
		{"https://abc.execute-api.eu-west-1.amazonaws.com/prod", ""},                           // API Gateway: give the region
		{"://bad", ""}, // not a URL
	}
	for _, tt := range tests {
		if got := regionFromURL(tt.url); got != tt.want {
			t.Errorf("regionFromURL(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}
