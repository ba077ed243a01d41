package lambda

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/coldbench/coldbench/drivers"
)

// Invoke-only mode. Lambda emulators (the Runtime Interface Emulator,
// local stacks) serve the Invoke API and nothing else; an identity may be
// allowed to invoke and nothing more. A run needs only Invoke, so the
// driver goes on without the control plane, saying what is lost; tune and
// plan, which need it, ask ControlPlane first and refuse before sending.

// checkControl reads the function's configuration once, at Open: a wrong
// name, region or credentials fail here in one line. A missing control
// plane does not fail: the driver runs invoke-only, with a warning. With
// control: false no call is made.
func (d *Driver) checkControl(ctx context.Context, qual string) error {
	if d.cfg.Control != nil && !*d.cfg.Control {
		d.noControl = "is used without its Lambda control plane (the target says control: false)"
		return nil
	}
	_, err := d.api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &d.fn.id, Qualifier: optional(qual)})
	switch {
	case err == nil:
		return nil
	case !noControlPlane(err):
		return d.apiError("GetFunctionConfiguration", err)
	}
	d.noControl = "has no Lambda control plane for coldbench (GetFunctionConfiguration: " + describe(err) + ")"
	drivers.Warn(ctx, d.apiError("GetFunctionConfiguration", err).Error()+"; running invoke-only: "+
		"the function is not checked before the run, memory, prewarm and forced cold starts cannot be set (tune and plan refuse), "+
		"and billed duration and memory come only from a REPORT log tail, if the endpoint sends one; "+
		"set control: false in the target to skip this call")
	return nil
}

// ControlPlane implements drivers.ControlChecker: nil when the control
// plane answered at Open, else one sentence naming the function and the
// endpoint, why there is no control plane, and what would work.
func (d *Driver) ControlPlane() error {
	if d.noControl == "" {
		return nil
	}
	where := "the Lambda API"
	if d.cfg.Endpoint != "" {
		where = d.cfg.Endpoint
	}
	return fmt.Errorf("lambda %s at %s %s, so coldbench cannot set its memory or prewarm or force cold starts; "+
		"`coldbench run` works invoke-only, while tune and plan need a Lambda API that serves the configuration calls "+
		"(AWS itself, with the permissions in the lambda driver's README)", d.fn.name, where, d.noControl)
}

// isErrorPayload reports whether p is the Lambda runtime's report of an
// unhandled error: a JSON object with errorMessage and errorType and
// nothing else but a stack trace. Lambda flags such an answer with
// X-Amz-Function-Error; emulators (the Runtime Interface Emulator among
// them) send it with 200 and no flag, and no X-Amz-Executed-Version
// either, which is how Invoke tells them from Lambda before asking this.
func isErrorPayload(p []byte) bool {
	if len(p) == 0 || p[0] != '{' {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(p, &m) != nil {
		return false
	}
	_, msg := m["errorMessage"]
	_, typ := m["errorType"]
	if !msg || !typ {
		return false
	}
	for k := range m {
		switch k {
		case "errorMessage", "errorType", "stackTrace", "trace", "requestId":
		default:
			return false
		}
	}
	return true
}
