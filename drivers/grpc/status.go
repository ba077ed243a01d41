package grpcdriver

import (
	"context"
	"fmt"
	"net"
	"strings"
	"unicode"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/coldbench/coldbench/drivers"
)

// httpStatus maps a gRPC status code to the HTTP status that means the
// same, so that drivers.Classify classes a gRPC answer like an HTTP one.
// The mapping is google.rpc.Code's (google/rpc/code.proto), the one
// grpc-gateway uses, with 499 for CANCELLED as there.
var httpStatus = [...]int{
	codes.OK:                 200,
	codes.Canceled:           499, // client closed request
	codes.Unknown:            500,
	codes.InvalidArgument:    400,
	codes.DeadlineExceeded:   504, // and Invoke returns a timeout error
	codes.NotFound:           404,
	codes.AlreadyExists:      409,
	codes.PermissionDenied:   403,
	codes.ResourceExhausted:  429, // and Call.Throttled
	codes.FailedPrecondition: 400,
	codes.Aborted:            409,
	codes.OutOfRange:         400,
	codes.Unimplemented:      501,
	codes.Internal:           500,
	codes.Unavailable:        503,
	codes.DataLoss:           500,
	codes.Unauthenticated:    401,
}

// HTTPStatus returns the HTTP-equivalent status of a gRPC code: 200 for
// OK, 4xx for the caller's faults, 5xx for the server's, 500 for a code
// gRPC does not define.
func HTTPStatus(code codes.Code) int {
	if int(code) < len(httpStatus) {
		return httpStatus[code]
	}
	return 500
}

// outcome turns the result of a call into the driver contract: a status
// the server answered is data in c (Call.Status, Call.Throttled) with a nil
// error, except DEADLINE_EXCEEDED, which is a timeout whoever said it. A
// status gRPC made on this side, because no answer came, becomes an error
// drivers.Classify understands: the context's error for a deadline or a
// cancellation, a *net.OpError for a connection that could not be made or
// was lost, and the status error itself otherwise (class "other").
//
// answered tells the two apart: the server's status always arrives in a
// trailer, and the stats handler saw one.
func outcome(ctx context.Context, c *drivers.Call, err error, answered bool) error {
	if err == nil {
		c.Status = 200
		return nil
	}
	st := status.Convert(err)
	c.Code = CodeName(st.Code())
	if !answered {
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("grpc %s: %w", st.Code(), cerr)
		}
		switch st.Code() {
		case codes.DeadlineExceeded:
			return fmt.Errorf("grpc %s: %s: %w", st.Code(), st.Message(), context.DeadlineExceeded)
		case codes.Unavailable:
			// No connection when the call was made, or it broke before the
			// answer: the connect class, as for HTTP.
			op := "dial"
			if !c.Sent.IsZero() {
				op = "read"
			}
			return &net.OpError{Op: op, Net: "tcp", Err: err}
		}
		return err
	}
	c.Status = HTTPStatus(st.Code())
	switch st.Code() {
	case codes.ResourceExhausted:
		c.Throttled = true
	case codes.DeadlineExceeded:
		return fmt.Errorf("the server answered %s: %s: %w", st.Code(), st.Message(), context.DeadlineExceeded)
	}
	return nil
}

// CodeName is a gRPC code as the gRPC specification and its tools write
// it: "UNAVAILABLE", "RESOURCE_EXHAUSTED" (codes.Code.String gives
// "Unavailable").
func CodeName(c codes.Code) string {
	s := c.String()
	if c == codes.OK {
		return "OK"
	}
	if strings.HasPrefix(s, "Code(") {
		return "CODE(" + s[len("Code("):]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
