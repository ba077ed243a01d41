package cloudrun

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

	"cloud.google.com/go/auth"
)

// The Admin API v2's JSON shapes (google.cloud.run.v2), only the fields the
// driver reads. Writes go through raw maps so that nothing else is lost.

// service is a google.cloud.run.v2.Service.
type service struct {
	Name                  string           `json:"name"`
	URI                   string           `json:"uri"`
	Generation            int64            `json:"generation,string"`
	ObservedGeneration    int64            `json:"observedGeneration,string"`
	Reconciling           bool             `json:"reconciling"`
	TerminalCondition     *condition       `json:"terminalCondition"`
	LatestReadyRevision   string           `json:"latestReadyRevision"`
	LatestCreatedRevision string           `json:"latestCreatedRevision"`
	Template              revisionTemplate `json:"template"`
}

// revisionTemplate is a google.cloud.run.v2.RevisionTemplate.
type revisionTemplate struct {
	Annotations map[string]string `json:"annotations"`
	Scaling     *revisionScaling  `json:"scaling"`
	Containers  []container       `json:"containers"`
}

// revisionScaling is a google.cloud.run.v2.RevisionScaling.
type revisionScaling struct {
	MinInstanceCount int `json:"minInstanceCount"`
	MaxInstanceCount int `json:"maxInstanceCount"`
}

// container is a google.cloud.run.v2.Container.
type container struct {
	Name      string                `json:"name"`
	Image     string                `json:"image"`
	Resources *resourceRequirements `json:"resources"`
}

// resourceRequirements is a google.cloud.run.v2.ResourceRequirements.
type resourceRequirements struct {
	Limits  map[string]string `json:"limits"`
	CPUIdle bool              `json:"cpuIdle"`
}

// condition is a google.cloud.run.v2.Condition.
type condition struct {
	Type    string `json:"type"`
	State   string `json:"state"` // CONDITION_SUCCEEDED, CONDITION_FAILED, CONDITION_PENDING, CONDITION_RECONCILING
	Message string `json:"message"`
	Reason  string `json:"reason"`
}

// operation is a google.longrunning.Operation.
type operation struct {
	Name  string  `json:"name"`
	Done  bool    `json:"done"`
	Error *status `json:"error"`
}

// status is a google.rpc.Status, in operations and in error answers.
type status struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"` // in error answers: PERMISSION_DENIED, NOT_FOUND, ...
}

// rpcCodes names google.rpc.Code values, for operation errors.
var rpcCodes = map[int]string{
	1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND",
	6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION",
	10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE",
	15: "DATA_LOSS", 16: "UNAUTHENTICATED",
}

// memoryMiB is the first container's memory limit in MiB; Cloud Run's
// default of 512 MiB when none is set.
func (s *service) memoryMiB() int {
	if len(s.Template.Containers) > 0 && s.Template.Containers[0].Resources != nil {
		if m, ok := s.Template.Containers[0].Resources.Limits["memory"]; ok {
			return quantityMiB(m)
		}
	}
	return 512
}

// minInstances is the template's minimum instance count.
func (s *service) minInstances() int {
	if s.Template.Scaling == nil {
		return 0
	}
	return s.Template.Scaling.MinInstanceCount
}

// ready reports whether the latest generation is rolled out and serving.
func (s *service) ready() bool {
	return !s.Reconciling && s.ObservedGeneration >= s.Generation && s.TerminalCondition != nil &&
		s.TerminalCondition.State == "CONDITION_SUCCEEDED" && s.LatestReadyRevision == s.LatestCreatedRevision
}

// APIError is a failed Admin API call. Its message is one line naming the
// service and the call, such as "cloudrun hello: PATCH
// /v2/projects/p/locations/us-central1/services/hello: 403 forbidden:
// PERMISSION_DENIED: Permission 'run.services.update' denied".
type APIError struct {
	Service string // the service's short name
	Call    string // method and path
	Code    int    // HTTP status; 0 when no answer came
	Status  string // the google.rpc status name, when the answer had one
	Msg     string
	Err     error // the transport or token error when no answer came
}

func (e *APIError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("cloudrun %s: %s: %v", e.Service, e.Call, e.Err)
	}
	s := fmt.Sprintf("cloudrun %s: %s: %d %s", e.Service, e.Call, e.Code, strings.ToLower(http.StatusText(e.Code)))
	if e.Status != "" {
		s += ": " + e.Status
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

func (e *APIError) Unwrap() error { return e.Err }

// admin calls the Admin API v2 for one service.
type admin struct {
	endpoint string // without a trailing slash
	name     string // projects/{p}/locations/{l}/services/{s}
	short    string // {s}, for messages
	tokens   auth.TokenProvider
	client   *http.Client
	every    time.Duration
}

// do sends one call to path (below the endpoint) and decodes the answer
// into out.
func (a *admin) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	call := method + " " + path
	fail := func(err error) error { return &APIError{Service: a.short, Call: call, Err: err} }
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fail(err)
		}
		body = bytes.NewReader(b)
	}
	u := a.endpoint + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fail(err)
	}
	tok, err := a.tokens.Token(ctx)
	if err != nil {
		return fail(fmt.Errorf("access token: %w", err))
	}
	req.Header.Set("Authorization", "Bearer "+tok.Value)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Error status `json:"error"`
		}
		ae := &APIError{Service: a.short, Call: call, Code: resp.StatusCode}
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			ae.Status, ae.Msg = e.Error.Status, oneLine(e.Error.Message)
		} else {
			ae.Msg = oneLine(string(b))
		}
		return ae
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fail(fmt.Errorf("decode answer: %w", err))
		}
	}
	return nil
}

// get reads the service, typed and raw.
func (a *admin) get(ctx context.Context) (*service, map[string]any, error) {
	var raw json.RawMessage
	if err := a.do(ctx, http.MethodGet, "/v2/"+a.name, nil, nil, &raw); err != nil {
		return nil, nil, err
	}
	var s service
	var m map[string]any
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, nil, &APIError{Service: a.short, Call: "GET /v2/" + a.name, Err: fmt.Errorf("decode service: %w", err)}
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, &APIError{Service: a.short, Call: "GET /v2/" + a.name, Err: fmt.Errorf("decode service: %w", err)}
	}
	return &s, m, nil
}

// patch updates the fields in mask (camelCase paths) from body and waits
// for the long-running operation, then for the service to report itself
// ready. It returns the service as it then is.
func (a *admin) patch(ctx context.Context, body map[string]any, mask ...string) (*service, error) {
	var op operation
	q := url.Values{"updateMask": {strings.Join(mask, ",")}}
	if err := a.do(ctx, http.MethodPatch, "/v2/"+a.name, q, body, &op); err != nil {
		return nil, err
	}
	if err := a.wait(ctx, op); err != nil {
		return nil, err
	}
	s, _, err := a.get(ctx)
	if err != nil {
		return nil, err
	}
	if c := s.TerminalCondition; c != nil && c.State == "CONDITION_FAILED" {
		return nil, fmt.Errorf("cloudrun %s: revision %s not ready: %s", a.short, lastSegment(s.LatestCreatedRevision), oneLine(c.Message))
	}
	return s, nil
}

// wait polls an operation until it is done, and returns its error.
func (a *admin) wait(ctx context.Context, op operation) error {
	start := time.Now()
	name := op.Name
	stopped := func() error {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("cloudrun %s: waiting for operation %s: not done after %v", a.short, lastSegment(name), time.Since(start).Round(time.Millisecond))
		}
		return fmt.Errorf("cloudrun %s: waiting for operation %s: %w", a.short, lastSegment(name), ctx.Err())
	}
	for !op.Done {
		select {
		case <-ctx.Done():
			return stopped()
		case <-time.After(a.every):
		}
		if err := a.do(ctx, http.MethodGet, "/v2/"+name, nil, nil, &op); err != nil {
			var ae *APIError
			switch {
			case ctx.Err() != nil:
				return stopped()
			case errors.As(err, &ae) && (ae.Code == http.StatusTooManyRequests || ae.Code >= 500 || ae.Code == 0):
				op = operation{Name: name} // transient: keep polling
				continue
			}
			return err
		}
	}
	if e := op.Error; e != nil {
		code := rpcCodes[e.Code]
		if code == "" {
			code = strconv.Itoa(e.Code)
		}
		return fmt.Errorf("cloudrun %s: operation %s failed: %s: %s", a.short, lastSegment(op.Name), code, oneLine(e.Message))
	}
	return nil
}

func lastSegment(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// oneLine keeps an error message to one line of reasonable length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
