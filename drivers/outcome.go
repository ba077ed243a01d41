package drivers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"os"
)

// Outcome classes a finished call. Errors are counted per class and kept out
// of success latency.
type Outcome uint8

const (
	OK            Outcome = iota
	Timeout               // no response within the target's timeout
	Connect               // could not connect: refused, reset, DNS, TLS
	Throttled             // 429 or the platform's throttling error
	ServerError           // 5xx
	ClientError           // other 4xx
	FunctionError         // the platform says the function failed
	Other                 // anything else: a malformed response, a body read error
	// Redirect is a 3xx status: drivers do not follow redirects (a load
	// generator must not send its load elsewhere), so the function was
	// not run and the request is not a success. Appended last so that the
	// numbers of the others, on the wire and on disk, stay as they were.
	Redirect
)

// NumOutcomes is the number of Outcome values, for arrays indexed by outcome.
const NumOutcomes = 9

var outcomeNames = [NumOutcomes]string{"ok", "timeout", "connect", "throttled", "5xx", "4xx", "function_error", "other", "redirect"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "other"
}

// ParseOutcome is the inverse of Outcome.String.
func ParseOutcome(s string) (Outcome, bool) {
	for i, n := range outcomeNames {
		if n == s {
			return Outcome(i), true
		}
	}
	return Other, false
}

// Classify decides the outcome of a call from what the driver filled in and
// the error Invoke returned.
func Classify(c *Call, err error) Outcome {
	if err != nil {
		var ne net.Error
		switch {
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
			return Timeout
		case errors.As(err, &ne) && ne.Timeout():
			return Timeout
		case isConnectError(err):
			return Connect
		}
		return Other
	}
	switch {
	case c.Throttled || c.Status == 429:
		return Throttled
	case c.FunctionError:
		return FunctionError
	case c.Status >= 500:
		return ServerError
	case c.Status >= 400:
		return ClientError
	case c.Status >= 300:
		return Redirect
	}
	return OK
}

func isConnectError(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &dns) || isTLSError(err) {
		return true
	}
	if errors.As(err, &op) {
		return op.Op == "dial" || op.Op == "read" || op.Op == "write"
	}
	return false
}

// isTLSError reports a failed TLS handshake: a certificate that does not
// verify, a peer that does not speak TLS, or an alert. The tls package
// returns these bare, not inside a net.OpError, except for alerts; net/http
// turns a plaintext answer to a handshake into ErrSchemeMismatch.
func isTLSError(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
		alert    tls.AlertError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		op       *net.OpError
	)
	return errors.Is(err, http.ErrSchemeMismatch) || errors.As(err, &verify) || errors.As(err, &record) || errors.As(err, &alert) ||
		errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &op) && (op.Op == "remote error" || op.Op == "local error")
}
