package drivers

import "strconv"

// ErrorCode is the platform's own code for a call of outcome o, kept beside
// the class so that a report can say which 5xx or which function error: the
// driver's Call.Code (gRPC's "UNAVAILABLE", Lambda's "Unhandled"), else the
// protocol status ("503"). Empty for a success, and for a failure with no
// answer to take a code from (a timeout, a refused connection).
func ErrorCode(c *Call, o Outcome) string {
	switch {
	case o == OK:
		return ""
	case c.Code != "":
		return c.Code
	case c.Status != 0:
		return strconv.Itoa(c.Status)
	}
	return ""
}
