package openfaas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// The gateway's JSON shapes, as github.com/openfaas/faas-provider/types
// defines them. Only the fields coldbench reads or must send back are here;
// an update sends every field a FunctionDeployment has, so nothing the
// function was deployed with is lost.

// functionStatus is the answer of GET /system/function/{name}.
type functionStatus struct {
	Name string `json:"name"`
	functionSpec
	Replicas          uint64 `json:"replicas,omitempty"`
	AvailableReplicas uint64 `json:"availableReplicas,omitempty"`
}

// functionDeployment is the body of PUT /system/functions.
type functionDeployment struct {
	Service string `json:"service"`
	functionSpec
}

// functionSpec is what a function is deployed with: the fields a status
// and a deployment share, under the same JSON names (embedded, so they
// stay at the top level of both bodies).
type functionSpec struct {
	Image                  string             `json:"image"`
	Namespace              string             `json:"namespace,omitempty"`
	EnvProcess             string             `json:"envProcess,omitempty"`
	EnvVars                map[string]string  `json:"envVars,omitempty"`
	Constraints            []string           `json:"constraints,omitempty"`
	Secrets                []string           `json:"secrets,omitempty"`
	Labels                 *map[string]string `json:"labels,omitempty"`
	Annotations            *map[string]string `json:"annotations,omitempty"`
	Limits                 *functionResources `json:"limits,omitempty"`
	Requests               *functionResources `json:"requests,omitempty"`
	ReadOnlyRootFilesystem bool               `json:"readOnlyRootFilesystem,omitempty"`
}

// functionResources are a function's memory and CPU, in Kubernetes
// quantity notation ("128Mi", "500m").
type functionResources struct {
	Memory string `json:"memory,omitempty"`
	CPU    string `json:"cpu,omitempty"`
}

// scaleServiceRequest is the body of POST /system/scale-function/{name}.
type scaleServiceRequest struct {
	ServiceName string `json:"serviceName"`
	Replicas    uint64 `json:"replicas"`
	Namespace   string `json:"namespace,omitempty"`
}

// deployment turns a status into the update that redeploys it unchanged,
// with copies of its maps so that the caller may edit them.
func (s *functionStatus) deployment() functionDeployment {
	d := functionDeployment{Service: s.Name, functionSpec: s.functionSpec}
	if s.Labels != nil {
		m := copyMap(*s.Labels)
		d.Labels = &m
	}
	if s.Annotations != nil {
		m := copyMap(*s.Annotations)
		d.Annotations = &m
	}
	if s.Limits != nil {
		l := *s.Limits
		d.Limits = &l
	}
	if s.Requests != nil {
		r := *s.Requests
		d.Requests = &r
	}
	return d
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// memoryMB reads the memory limit in MiB; 0 when none is set.
func (s *functionStatus) memoryMB() int {
	if s.Limits == nil || s.Limits.Memory == "" {
		return 0
	}
	return quantityMiB(s.Limits.Memory)
}

// minScale reads the min-scale label; 0 when absent or not a number.
func (s *functionStatus) minScale() int {
	if s.Labels == nil {
		return 0
	}
	n, err := strconv.Atoi((*s.Labels)[LabelMinScale])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// quantityMiB reads a Kubernetes quantity ("512Mi", "1G") as MiB, rounded;
// 0 when it does not parse.
func quantityMiB(s string) int {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0
	}
	return int((q.Value() + 1<<19) >> 20)
}

// APIError is a failed call to the gateway's API. Its message is one line
// naming the function and the call, such as
// "openfaas fn-echo: PUT /system/functions: 401 unauthorized".
type APIError struct {
	Function string // name or name.namespace
	Call     string // method and path, such as "PUT /system/functions"
	Status   int    // HTTP status; 0 when no response came
	Msg      string // the gateway's message, first line
	Err      error  // the transport error when no response came
}

func (e *APIError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("openfaas %s: %s: %v", e.Function, e.Call, e.Err)
	}
	s := fmt.Sprintf("openfaas %s: %s: %d %s", e.Function, e.Call, e.Status, strings.ToLower(http.StatusText(e.Status)))
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

func (e *APIError) Unwrap() error { return e.Err }

// gateway calls the gateway's /system API for one function.
type gateway struct {
	base      string
	function  string
	namespace string
	user      string
	pass      string
	auth      bool
	client    *http.Client
}

// do sends one API call and decodes a JSON answer into out when out is not
// nil. Statuses other than 2xx become an *APIError.
func (g *gateway) do(ctx context.Context, method, path string, in, out any) error {
	call := method + " " + path
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("openfaas %s: %s: %w", g.name(), call, err)
		}
		body = bytes.NewReader(b)
	}
	u := g.base + path
	if g.namespace != "" && method != http.MethodPut {
		u += "?namespace=" + url.QueryEscape(g.namespace)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return &APIError{Function: g.name(), Call: call, Err: err}
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if g.auth {
		req.SetBasicAuth(g.user, g.pass)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return &APIError{Function: g.name(), Call: call, Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &APIError{Function: g.name(), Call: call, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &APIError{Function: g.name(), Call: call, Status: resp.StatusCode, Msg: firstLine(b)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return &APIError{Function: g.name(), Call: call, Status: resp.StatusCode, Err: fmt.Errorf("decode answer: %w", err)}
		}
	}
	return nil
}

// name is the function as messages name it.
func (g *gateway) name() string {
	if g.namespace == "" {
		return g.function
	}
	return g.function + "." + g.namespace
}

// status reads GET /system/function/{name}.
func (g *gateway) status(ctx context.Context) (*functionStatus, error) {
	var s functionStatus
	if err := g.do(ctx, http.MethodGet, "/system/function/"+url.PathEscape(g.function), nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// update sends PUT /system/functions.
func (g *gateway) update(ctx context.Context, d functionDeployment) error {
	d.Namespace = g.namespace
	return g.do(ctx, http.MethodPut, "/system/functions", d, nil)
}

// scale sends POST /system/scale-function/{name}.
func (g *gateway) scale(ctx context.Context, replicas int) error {
	req := scaleServiceRequest{ServiceName: g.function, Replicas: uint64(replicas), Namespace: g.namespace}
	return g.do(ctx, http.MethodPost, "/system/scale-function/"+url.PathEscape(g.function), req, nil)
}

// firstLine is the first non-empty line of an error body, capped, for a
// one-line message.
func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// isAuthError reports whether err is the gateway refusing the credentials.
func isAuthError(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden)
}

// waitError is a wait that ran out of time, as one line.
func waitError(fn, what string, waited time.Duration, last string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("openfaas %s: waiting for %s: not done after %v (last seen: %s)", fn, what, waited, last)
	}
	return fmt.Errorf("openfaas %s: waiting for %s: %w", fn, what, err)
}
