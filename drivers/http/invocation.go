package http

import (
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// Invocation is how a platform driver that invokes over HTTP (cloudrun,
// knative, openfaas) shapes each request. Those drivers embed it inline
// in their configuration, so that method, body, headers and timeout mean
// the same under every target, and open their invoker from it (HTTP).
type Invocation struct {
	// Method, Body and Headers shape each invocation; Body is a
	// text/template executed per request with .Seq, .ID and .Phase, as in
	// the http driver.
	Method  string            `yaml:"method"`
	Body    string            `yaml:"body"`
	Headers map[string]string `yaml:"headers"`
	// Timeout bounds one invocation and one API call.
	Timeout time.Duration `yaml:"timeout"`

	coldHeaders    []string
	instanceHeader string
	coldBody       drivers.BodyMarkers
}

// SetColdHeaders implements drivers.ColdHeaderSetter: a header the function
// sets is a stronger signal than these platforms' own.
func (i *Invocation) SetColdHeaders(cold []string, instance string) {
	i.coldHeaders, i.instanceHeader = cold, instance
}

// SetColdBody implements drivers.ColdBodySetter: the function's response
// body markers, read by the http driver underneath.
func (i *Invocation) SetColdBody(m drivers.BodyMarkers) { i.coldBody = m }

// Check reports every bad setting as a *drivers.FieldError, for the
// embedding driver's Validate.
func (i *Invocation) Check() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &drivers.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if i.Method == "" || strings.ContainsAny(i.Method, " \t\r\n") {
		bad("method", "%q is not an HTTP method", i.Method)
	}
	if _, err := template.New("body").Parse(i.Body); err != nil {
		bad("body", "%v", err)
	}
	if i.Timeout <= 0 {
		bad("timeout", "must be positive")
	}
	return errs
}

// HTTP is the http driver's configuration that invokes url as i says,
// validated.
func (i *Invocation) HTTP(url string) (*Config, error) {
	hc := DefaultConfig()
	hc.URL = url
	hc.Method = i.Method
	hc.Body = i.Body
	hc.Headers = i.Headers
	hc.Timeout = i.Timeout
	hc.ColdHeaders, hc.InstanceHeader = i.coldHeaders, i.instanceHeader
	hc.ColdBody = i.coldBody
	if err := hc.Validate(); err != nil {
		return nil, err
	}
	return hc, nil
}
