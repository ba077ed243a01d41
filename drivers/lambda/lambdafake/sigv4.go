package lambdafake

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// SigError is why a request's SigV4 signature was refused, with the error
// code AWS answers in that case.
type SigError struct {
	Code    string // MissingAuthenticationTokenException, IncompleteSignatureException, UnrecognizedClientException, InvalidSignatureException
	Message string
}

func (e *SigError) Error() string { return e.Code + ": " + e.Message }

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	amzDateFmt   = "20060102T150405Z"
	maxSkew      = 15 * time.Minute // what AWS allows between X-Amz-Date and its clock
	maxBody      = 6 << 20          // Lambda's synchronous payload limit
)

// VerifySigV4 checks the AWS Signature Version 4 of r, whose body was read
// into body, against creds for region and service, as AWS does: it
// recomputes the canonical request from what arrived on the wire (the
// escaped path encoded once more, the sorted query, the signed headers
// named by the Authorization header, the SHA-256 of the body), derives the
// signing key from the secret and compares signatures. It is written
// independently of the SDK's signer, so a test that passes through it
// checks the signer's output rather than the signer against itself.
func VerifySigV4(r *http.Request, body []byte, creds aws.Credentials, region, service string, now time.Time) error {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return &SigError{"MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	rest, ok := strings.CutPrefix(auth, sigAlgorithm+" ")
	if !ok {
		return &SigError{"IncompleteSignatureException", "Authorization header requires the " + sigAlgorithm + " algorithm"}
	}
	parts := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		parts[k] = v
	}
	credential, signedHeaders, signature := parts["Credential"], parts["SignedHeaders"], parts["Signature"]
	if credential == "" || signedHeaders == "" || signature == "" {
		return &SigError{"IncompleteSignatureException", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters"}
	}
	scopeParts := strings.Split(credential, "/")
	if len(scopeParts) != 5 || scopeParts[4] != "aws4_request" {
		return &SigError{"IncompleteSignatureException", "Credential is malformed: " + credential}
	}
	if scopeParts[0] != creds.AccessKeyID {
		return &SigError{"UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	if scopeParts[2] != region {
		return &SigError{"InvalidSignatureException", fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", scopeParts[2])}
	}
	if scopeParts[3] != service {
		return &SigError{"InvalidSignatureException", fmt.Sprintf("Credential should be scoped to correct service: '%s'.", service)}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse(amzDateFmt, amzDate)
	if err != nil {
		return &SigError{"IncompleteSignatureException", "X-Amz-Date header is missing or malformed"}
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return &SigError{"InvalidSignatureException", fmt.Sprintf("Signature expired: %s is now earlier than %s", amzDate, now.Add(-maxSkew).UTC().Format(amzDateFmt))}
	}
	if scopeParts[1] != t.Format("20060102") {
		return &SigError{"InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP"}
	}
	names := strings.Split(signedHeaders, ";")
	if !sort.StringsAreSorted(names) || !contains(names, "host") || !contains(names, "x-amz-date") {
		return &SigError{"InvalidSignatureException", "SignedHeaders must be sorted and include host and x-amz-date"}
	}
	if creds.SessionToken != "" && (r.Header.Get("X-Amz-Security-Token") != creds.SessionToken || !contains(names, "x-amz-security-token")) {
		return &SigError{"UnrecognizedClientException", "The security token included in the request is invalid."}
	}

	payloadHash := sha256Hex(body)
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payloadHash {
		return &SigError{"InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}
	canonical := strings.Join([]string{
		r.Method,
		canonicalURI(r.URL),
		canonicalQuery(r.URL.Query()),
		canonicalHeaders(r, names),
		signedHeaders,
		payloadHash,
	}, "\n")
	scope := strings.Join(scopeParts[1:], "/")
	toSign := strings.Join([]string{sigAlgorithm, amzDate, scope, sha256Hex([]byte(canonical))}, "\n")
	key := hmacSHA256([]byte("AWS4"+creds.SecretAccessKey), scopeParts[1])
	for _, s := range scopeParts[2:] {
		key = hmacSHA256(key, s)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return &SigError{"InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	return nil
}

// RequireSigV4 wraps next so that it only sees requests signed with creds
// for region and service; others are answered 403 with the error AWS
// gives. The body is read (up to 6 MB, Lambda's payload limit) and handed
// on intact.
func RequireSigV4(next http.Handler, creds aws.Credentials, region, service string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, "InvalidRequestContentException", "could not read the request body: "+err.Error())
			return
		}
		if len(body) > maxBody {
			writeError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
			return
		}
		if err := VerifySigV4(r, body, creds, region, service, time.Now()); err != nil {
			se := err.(*SigError)
			writeError(w, http.StatusForbidden, se.Code, se.Message)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// canonicalURI is the escaped path as sent, URI-encoded once more: every
// AWS service but S3 signs the path double-encoded.
func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	return uriEncode(p, false)
}

// canonicalQuery sorts parameters by name, then value, each URI-encoded.
func canonicalQuery(q url.Values) string {
	var pairs []string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, uriEncode(k, true)+"="+uriEncode(v, true))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// canonicalHeaders lists the signed headers as name:value lines, values
// trimmed with inner runs of spaces collapsed, multiple values joined by
// commas.
func canonicalHeaders(r *http.Request, names []string) string {
	var b strings.Builder
	for _, n := range names {
		var vals []string
		switch n {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		default:
			vals = append([]string(nil), r.Header.Values(n)...)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(n + ":" + strings.Join(vals, ",") + "\n")
	}
	return b.String()
}

// uriEncode encodes every byte but the RFC 3986 unreserved characters (and
// '/' unless encodeSlash), as SigV4 specifies.
func uriEncode(s string, encodeSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
