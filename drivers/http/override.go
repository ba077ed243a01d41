package http

import (
	"net/http"
	"strings"

	"github.com/coldbench/coldbench/drivers"
)

// override is the method and URL of a call that carries its own request
// (trace and request-log replay): its path and query replace the target
// URL's, on the target's scheme and host.
func (d *Driver) override(r *drivers.Request) (method, url string) {
	method, url = d.cfg.Method, d.url
	if r.Method != "" {
		method = r.Method
	}
	if r.Path != "" {
		url = origin(d.url) + r.Path
	}
	return method, url
}

// origin is a URL's scheme and host: "https://h:8080/a?b" → "https://h:8080".
func origin(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return u
	}
	if j := strings.IndexAny(u[i+3:], "/?#"); j >= 0 {
		return u[:i+3+j]
	}
	return u
}

// setHeaders adds a call's own headers after the configured ones, so that
// where both name a header the call's wins. A Host header is left out: the
// request goes to the target's host, which routes on it (Knative, gateways).
func setHeaders(req *http.Request, r *drivers.Request) {
	for k, v := range r.Header {
		if strings.EqualFold(k, "Host") {
			continue
		}
		req.Header.Set(k, v)
	}
}
