package lambda

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Error is a failed Lambda API call, or a wait on one that did not end
// well. It reads as one line naming the function and the call:
//
//	lambda my-fn: UpdateFunctionConfiguration: access denied: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: lambda:UpdateFunctionConfiguration on resource: ...
//
// With an endpoint: setting, the line ends with it, as configured (http or
// https), so that an emulator's answer is not taken for AWS's.
type Error struct {
	Function string // the function's name
	Endpoint string // the endpoint: setting, or "" for AWS's own
	Op       string // the API call: "UpdateFunctionConfiguration", "PutProvisionedConcurrencyConfig", ...
	Msg      string // what went wrong, for people
	Err      error  // the SDK's error, when there is one
}

func (e *Error) Error() string {
	s := "lambda " + e.Function + ": " + e.Op + ": " + e.Msg
	if e.Endpoint != "" {
		s += " (endpoint " + e.Endpoint + ")"
	}
	return s
}

// Unwrap gives the SDK's error, for errors.As with smithy.APIError or the
// types of service/lambda/types.
func (e *Error) Unwrap() error { return e.Err }

// Error codes grouped by what they mean to a user.
var (
	codeAccessDenied = []string{"AccessDeniedException", "AccessDenied", "KMSAccessDeniedException"}
	codeNotFound     = []string{"ResourceNotFoundException", "ProvisionedConcurrencyConfigNotFoundException"}
	codeUnknownOp    = []string{"UnknownOperationException", "UnknownOperation", "InvalidAction", "NotImplemented", "NotImplementedException"}
)

// kinds names error codes in words; the message AWS sent follows.
var kinds = map[string]string{
	"AccessDeniedException":                         "access denied",
	"AccessDenied":                                  "access denied",
	"KMSAccessDeniedException":                      "access denied by KMS",
	"ResourceNotFoundException":                     "not found",
	"UnknownOperationException":                     "unknown operation",
	"ProvisionedConcurrencyConfigNotFoundException": "no provisioned concurrency",
	"TooManyRequestsException":                      "throttled",
	"ThrottlingException":                           "throttled",
	"ResourceConflictException":                     "conflict, an update may be in progress",
	"ResourceInUseException":                        "resource in use",
	"PreconditionFailedException":                   "changed by someone else meanwhile",
	"InvalidParameterValueException":                "invalid parameter",
	"UnrecognizedClientException":                   "credentials rejected",
	"InvalidSignatureException":                     "credentials rejected",
	"IncompleteSignatureException":                  "credentials rejected",
	"MissingAuthenticationTokenException":           "credentials rejected",
	"ExpiredTokenException":                         "credentials expired",
	"ServiceException":                              "Lambda service error",
}

// apiError wraps an SDK error as an *Error for the function.
func (d *Driver) apiError(op string, err error) error {
	return &Error{Function: d.fn.name, Endpoint: d.cfg.Endpoint, Op: op, Msg: describe(err), Err: err}
}

// failure is an *Error without an SDK error: a wait that timed out, an
// update that failed, a setting the platform cannot take.
func (d *Driver) failure(op, msg string) error {
	return &Error{Function: d.fn.name, Endpoint: d.cfg.Endpoint, Op: op, Msg: oneLine(msg)}
}

// describe says what went wrong in one line: the kind of error and AWS's
// message, without the SDK's framing (operation name, request id, status
// code), which the Error line already carries or nobody needs.
func describe(err error) string {
	var ae smithy.APIError
	switch {
	case notLambda(err):
		// The SDK's words for this ("https response error StatusCode:
		// 404, ... deserialization failed, ...") name the wrong scheme for
		// an http endpoint and say nothing a person can act on.
		code := status(err)
		return fmt.Sprintf("HTTP %d %s, not a Lambda API error", code, http.StatusText(code))
	case errors.As(err, &ae):
		kind, ok := kinds[ae.ErrorCode()]
		if !ok {
			kind = ae.ErrorCode()
		}
		if msg := oneLine(ae.ErrorMessage()); msg != "" && msg != ae.ErrorCode() {
			return kind + ": " + msg
		}
		return kind
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// No answer at all (refused, reset, DNS): the network's words,
		// without the SDK's framing, which says "https" whatever the
		// endpoint's scheme.
		return "no answer: " + oneLine(ue.Err.Error())
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	return oneLine(err.Error())
}

// status is the HTTP status of an error response, 0 for an error without
// one.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// notLambda reports whether err is an error response that carries no
// Lambda error type: a 404 page, an empty body, a body that is not a
// Lambda error document. Emulators that serve only the Invoke API answer
// the other calls this way.
func notLambda(err error) bool {
	if status(err) == 0 {
		return false
	}
	var ae smithy.APIError
	return !errors.As(err, &ae) || ae.ErrorCode() == "" || ae.ErrorCode() == "UnknownError"
}

// noControlPlane reports whether err says that the endpoint has no Lambda
// control plane for us (or not for this identity): a call it does not
// know (404 without a Lambda error type, an unknown operation, not
// implemented) or one it refuses (access denied). A ResourceNotFound
// error is Lambda saying the function does not exist, not this.
func noControlPlane(err error) bool {
	switch {
	case isCode(err, codeAccessDenied...), isCode(err, codeUnknownOp...):
		return true
	case isCode(err, codeNotFound...):
		return false
	}
	switch status(err) {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true // whatever the body says: the call itself is not served
	}
	return false
}

// isCode reports whether err is an API error with one of the codes.
func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
