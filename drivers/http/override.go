package http

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/coldbench/coldbench/drivers"
)

// override is the method and URL of a call that carries its own request
// (trace and request-log replay): its path and query replace the target
// URL's, on the target's scheme and host. Without a path of its own the
// call shares the target URL, read-only.
func (d *Driver) override(r *drivers.Request) (method string, u *url.URL, err error) {
	method, u = d.cfg.Method, d.u
	if r.Method != "" {
		method = r.Method
	}
	if r.Path != "" {
		ref, err := url.Parse(r.Path)
		if err != nil {
			return "", nil, fmt.Errorf("request path %q: %w", r.Path, err)
		}
		nu := *d.u
		nu.Path, nu.RawPath, nu.RawQuery, nu.Fragment = ref.Path, ref.RawPath, ref.RawQuery, ""
		u = &nu
	}
	return method, u, nil
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
