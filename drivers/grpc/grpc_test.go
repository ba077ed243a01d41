package grpcdriver_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/drivertest"
	grpcdriver "github.com/coldbench/coldbench/drivers/grpc"
)

// config is a plaintext config for Echo/Say at addr.
func config(addr string) *grpcdriver.Config {
	cfg := grpcdriver.DefaultConfig()
	cfg.Address = addr
	cfg.Method = sayMethod
	cfg.Request = `{"text": "{{.Phase}}", "seq": {{.Seq}}}`
	cfg.Plaintext = true
	cfg.Timeout = 5 * time.Second
	cfg.ColdMetadata = "x-cold-start"
	cfg.InstanceMetadata = "x-instance-id"
	return cfg
}

func open(t *testing.T, cfg *grpcdriver.Config) *grpcdriver.Driver {
	t.Helper()
	d, err := grpcdriver.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func invoke(d drivers.Driver, c *drivers.Call) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return d.Invoke(ctx, c)
}

func TestConformance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mode    reflectionMode
		descSet bool
	}{
		{"reflection", reflectBoth, false},            // grpc.reflection.v1
		{"reflection v1alpha", reflectV1Alpha, false}, // falls back from v1
		{"descriptor set", reflectNone, true},         // a --include_imports file, no reflection
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var set string
			if tt.descSet {
				set = writeDescriptorSet(t)
			}
			drivertest.RunConformanceTests(t, drivertest.HarnessFunc(func(t *testing.T) drivers.Driver {
				e := startEcho(t, tt.mode)
				cfg := config(e.addr)
				cfg.DescriptorSet = set
				d, err := grpcdriver.Open(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				return d
			}))
		})
	}
}

// TestStatusMapping has the server answer every gRPC code and checks the
// HTTP-equivalent status and the outcome class.
func TestStatusMapping(t *testing.T) {
	t.Parallel()
	e := startEcho(t, reflectBoth)
	d := open(t, config(e.addr))
	tests := []struct {
		code   codes.Code
		status int
		want   drivers.Outcome
	}{
		{codes.OK, 200, drivers.OK},                          // success
		{codes.Canceled, 499, drivers.ClientError},           // the server says the call was cancelled
		{codes.Unknown, 500, drivers.ServerError},            // an error the server did not class
		{codes.InvalidArgument, 400, drivers.ClientError},    // a bad request
		{codes.DeadlineExceeded, 504, drivers.Timeout},       // a timeout, whoever says it
		{codes.NotFound, 404, drivers.ClientError},           // no such entity
		{codes.AlreadyExists, 409, drivers.ClientError},      // conflict
		{codes.PermissionDenied, 403, drivers.ClientError},   // forbidden
		{codes.ResourceExhausted, 429, drivers.Throttled},    // quota or concurrency limit: throttled
		{codes.FailedPrecondition, 400, drivers.ClientError}, // state does not allow it
		{codes.Aborted, 409, drivers.ClientError},            // concurrency conflict
		{codes.OutOfRange, 400, drivers.ClientError},         // past the end
		{codes.Unimplemented, 501, drivers.ServerError},      // the server does not have it
		{codes.Internal, 500, drivers.ServerError},           // the function broke
		{codes.Unavailable, 503, drivers.ServerError},        // answered by the server: 503, not a connect error
		{codes.DataLoss, 500, drivers.ServerError},           // unrecoverable data loss
		{codes.Unauthenticated, 401, drivers.ClientError},    // no or bad credentials
	}
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			c := &drivers.Call{ID: "status", Phase: fmt.Sprintf("code:%d", tt.code)}
			err := invoke(d, c)
			if got := drivers.Classify(c, err); got != tt.want || c.Status != tt.status {
				t.Errorf("code %s: status %d outcome %s (err %v), want %d %s", tt.code, c.Status, got, err, tt.status, tt.want)
			}
			if tt.code == codes.DeadlineExceeded && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("DEADLINE_EXCEEDED: err %v does not wrap context.DeadlineExceeded", err)
			}
			if c.Temp == drivers.Unknown || c.InstanceID != "instance-1" {
				t.Errorf("code %s: temp %s instance %q: metadata not read from an error answer", tt.code, c.Temp, c.InstanceID)
			}
			if c.Sent.IsZero() {
				t.Errorf("code %s: Sent not set", tt.code)
			}
		})
	}
	if got := grpcdriver.HTTPStatus(codes.Code(99)); got != 500 {
		t.Errorf("HTTPStatus(99) = %d, want 500", got)
	}
}

// TestNoAnswer checks the errors for calls the server never answered: a
// deadline passing, and a server gone.
func TestNoAnswer(t *testing.T) {
	t.Parallel()
	t.Run("deadline", func(t *testing.T) {
		e := startEcho(t, reflectBoth)
		cfg := config(e.addr)
		cfg.Timeout = 300 * time.Millisecond
		cfg.Request = `{"text": "sleep"}`
		d := open(t, cfg)
		c := &drivers.Call{ID: "slow"}
		err := invoke(d, c)
		if o := drivers.Classify(c, err); o != drivers.Timeout || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("outcome %s, err %v; want timeout wrapping context.DeadlineExceeded", o, err)
		}
	})
	t.Run("server gone", func(t *testing.T) {
		e := startEcho(t, reflectBoth)
		d := open(t, config(e.addr))
		if err := invoke(d, &drivers.Call{ID: "first"}); err != nil {
			t.Fatal(err)
		}
		e.srv.Stop()
		c := &drivers.Call{ID: "after-stop"}
		err := invoke(d, c)
		if o := drivers.Classify(c, err); o != drivers.Connect {
			t.Errorf("outcome %s (status %d, err %v), want connect", o, c.Status, err)
		}
	})
}

// TestMetadataAndTimings checks what the driver sends and records: the
// configured metadata, the request id, a message built from the template,
// and the connection phases on the first call only.
func TestMetadataAndTimings(t *testing.T) {
	t.Parallel()
	e := startEcho(t, reflectBoth)
	cfg := config(e.addr)
	cfg.Metadata = map[string]string{"X-Team": "bench", "authorization": "Bearer t0ken"}
	cfg.Request = `{"text": "hello {{.Phase}}", "seq": {{.Seq}}, "sent": "2024-01-02T03:04:05Z"}`
	d := open(t, cfg)
	if d.Method() != "/"+sayMethod {
		t.Errorf("Method() = %q", d.Method())
	}
	for i := range 3 {
		c := &drivers.Call{Seq: uint64(40 + i), ID: fmt.Sprintf("req-%d", i), Phase: "warm"}
		if err := invoke(d, c); err != nil || c.Status != 200 {
			t.Fatalf("call %d: status %d err %v", i, c.Status, err)
		}
		if c.BytesIn == 0 {
			t.Errorf("call %d: BytesIn 0", i)
		}
		if first := i == 0; c.Net.NewConn != first || (first && c.Net.Connect <= 0) {
			t.Errorf("call %d: NewConn %v connect %v; want a new connection on the first call only", i, c.Net.NewConn, c.Net.Connect)
		}
		if c.Net.FirstByte <= 0 {
			t.Errorf("call %d: FirstByte %v", i, c.Net.FirstByte)
		}
		want := map[bool]drivers.Temperature{true: drivers.Cold, false: drivers.Warm}[i == 0]
		if c.Temp != want || c.Source != drivers.SourceHeader || c.InstanceID != "instance-1" {
			t.Errorf("call %d: %s from %s on %q, want %s from header on instance-1", i, c.Temp, c.Source, c.InstanceID, want)
		}
	}
	seqs, texts, ids := e.seen()
	if seqs[40] != 1 || seqs[42] != 1 || texts["hello warm"] != 3 || ids["req-0"] != 1 || len(ids) != 3 {
		t.Errorf("server saw seqs %v texts %v ids %v", seqs, texts, ids)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lastMD.Get("x-team")[0] != "bench" || len(e.lastMD.Get("authorization")) != 1 || !e.sentTimestamp {
		t.Errorf("server saw metadata %v, timestamp %v", e.lastMD, e.sentTimestamp)
	}
}

// TestOpenErrors checks that Open fails with a clear message, naming the
// setting, for what cannot work.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	e := startEcho(t, reflectBoth)
	bare := startEcho(t, reflectNone)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := lis.Addr().String()
	lis.Close()

	tests := []struct {
		name   string
		change func(c *grpcdriver.Config)
		want   []string // substrings of the error
	}{
		{"unknown method", func(c *grpcdriver.Config) { c.Method = echoService + "/Shout" }, // lists the methods
			[]string{"method:", "no method Shout", "Say"}},
		{"unknown service", func(c *grpcdriver.Config) { c.Method = "coldbench.test.v1.Nope/Say" }, // lists the services
			[]string{"method:", "no service coldbench.test.v1.Nope", echoService}},
		{"streaming method", func(c *grpcdriver.Config) { c.Method = echoService + "/Chat" },
			[]string{"method:", "streaming"}},
		{"unknown method in descriptor set", func(c *grpcdriver.Config) {
			c.Method, c.DescriptorSet = echoService+"/Shout", writeDescriptorSet(t)
		}, []string{"method:", "no method Shout"}},
		{"unreachable server", func(c *grpcdriver.Config) { c.Address = unreachable },
			[]string{"cannot reach " + unreachable, "connection refused"}},
		{"unreachable server with a descriptor set", func(c *grpcdriver.Config) {
			c.Address, c.DescriptorSet = unreachable, writeDescriptorSet(t)
		}, []string{"cannot reach " + unreachable, "connection refused"}},
		{"TLS to a plaintext server", func(c *grpcdriver.Config) { c.Plaintext = false },
			[]string{"cannot reach", "handshake"}},
		{"unknown field", func(c *grpcdriver.Config) { c.Request = `{"txt": "hi"}` }, // names the field
			[]string{"request:", `unknown field "txt"`, "coldbench.test.v1.SayRequest"}},
		{"wrong type", func(c *grpcdriver.Config) { c.Request = `{"seq": "many"}` },
			[]string{"request:", "seq"}},
		{"not JSON", func(c *grpcdriver.Config) { c.Request = `{"text": {{.Phase}}}` },
			[]string{"request:", `{"text": check}`}},
		{"no reflection", func(c *grpcdriver.Config) { c.Address = bare.addr },
			[]string{"does not offer reflection", "descriptor_set"}},
		{"descriptor set without an import", func(c *grpcdriver.Config) {
			// Well-known types linked into coldbench fill in for missing
			// imports; other files cannot.
			f := echoFileProto()
			f.Dependency = append(f.Dependency, "acme/common/v1/common.proto")
			c.DescriptorSet = writeSet(t, f)
		}, []string{"descriptor_set:", "acme/common/v1/common.proto", "--include_imports"}},
		{"not a descriptor set", func(c *grpcdriver.Config) {
			c.DescriptorSet = writeSet(t)
		}, []string{"descriptor_set:", "holds no files"}},
		{"invalid config", func(c *grpcdriver.Config) { c.Method = "Say" },
			[]string{"method:", "package.Service/Method"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(e.addr)
			tt.change(cfg)
			start := time.Now()
			d, err := grpcdriver.Open(context.Background(), cfg)
			if err == nil {
				d.Close()
				t.Fatal("Open succeeded")
			}
			t.Logf("%v", err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if time.Since(start) > 4*time.Second {
				t.Errorf("Open took %v to fail", time.Since(start))
			}
		})
	}
}
