package lambda

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/smithy-go"
)

// Error is a failed Lambda API call, or a wait on one that did not end
// well. It reads as one line naming the function and the call:
//
//	lambda my-fn: UpdateFunctionConfiguration: access denied: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: lambda:UpdateFunctionConfiguration on resource: ...
type Error struct {
	Function string // the function's name
	Op       string // the API call: "UpdateFunctionConfiguration", "PutProvisionedConcurrencyConfig", ...
	Msg      string // what went wrong, for people
	Err      error  // the SDK's error, when there is one
}

func (e *Error) Error() string { return "lambda " + e.Function + ": " + e.Op + ": " + e.Msg }

// Unwrap gives the SDK's error, for errors.As with smithy.APIError or the
// types of service/lambda/types.
func (e *Error) Unwrap() error { return e.Err }

// Error codes grouped by what they mean to a user.
var (
	codeAccessDenied = []string{"AccessDeniedException", "AccessDenied", "KMSAccessDeniedException"}
	codeNotFound     = []string{"ResourceNotFoundException", "ProvisionedConcurrencyConfigNotFoundException"}
)

// kinds names error codes in words; the message AWS sent follows.
var kinds = map[string]string{
	"AccessDeniedException":                         "access denied",
	"AccessDenied":                                  "access denied",
	"KMSAccessDeniedException":                      "access denied by KMS",
	"ResourceNotFoundException":                     "not found",
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
	return &Error{Function: d.fn.name, Op: op, Msg: describe(err), Err: err}
}

// failure is an *Error without an SDK error: a wait that timed out, an
// update that failed, a setting the platform cannot take.
func (d *Driver) failure(op, msg string) error {
	return &Error{Function: d.fn.name, Op: op, Msg: oneLine(msg)}
}

// describe says what went wrong in one line: the kind of error and AWS's
// message, without the SDK's framing (operation name, request id, status
// code), which the Error line already carries or nobody needs.
func describe(err error) string {
	var ae smithy.APIError
	switch {
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
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	return oneLine(err.Error())
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
