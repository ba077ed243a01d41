package lambda_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/lambda"
	"github.com/coldbench/coldbench/drivers/lambda/lambdafake"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// sdk is a plain SDK client for the fake, to set up state as a user would.
func sdk(s *lambdafake.Server) *awslambda.Client {
	return awslambda.New(awslambda.Options{Region: s.Region(), BaseEndpoint: aws.String(s.URL), Credentials: s.Credentials()})
}

// lastVersion is the version the fake ran for the last invocation.
func lastVersion(s *lambdafake.Server) string {
	tr := s.Truth()
	return tr[len(tr)-1].Version
}

// TestConfigureDescribe walks memory and prewarm through Configure and
// checks the fake's state, Describe and where invocations land.
func TestConfigureDescribe(t *testing.T) {
	t.Parallel()
	s, cfg := fake(t, lambdafake.FunctionOptions{MemoryMB: 256})
	d := open(t, cfg)
	if err := d.Configure(ctx(t), drivers.Settings{MemoryMB: 512, Prewarm: 2}); err != nil {
		t.Fatal(err)
	}
	snap, _ := s.Function("fn")
	if snap.MemoryMB != 512 || snap.Aliases[lambda.AliasName].Version != "1" || snap.Provisioned[lambda.AliasName] != 2 {
		t.Errorf("after Configure(512, 2): %+v", snap)
	}
	desc, err := d.Describe(ctx(t))
	want := drivers.Description{Settings: drivers.Settings{MemoryMB: 512, Prewarm: 2}, Platform: "lambda", Instances: 2, Ready: true}
	if err != nil || desc != want {
		t.Errorf("Describe = %+v, %v; want %+v", desc, err, want)
	}
	// Provisioned instances are initialized beforehand: warm, no init.
	c, _ := invoke(t, d)
	if tr := s.Truth(); c.Temp != drivers.Warm || !tr[len(tr)-1].Provisioned || lastVersion(s) != "1" || c.MemoryMB != 512 {
		t.Errorf("first call on provisioned concurrency: %s, %d MB, truth %+v", c.Temp, c.MemoryMB, tr[len(tr)-1])
	}

	if err := d.Configure(ctx(t), drivers.Settings{MemoryMB: 1024}); err != nil {
		t.Fatal(err)
	}
	snap, _ = s.Function("fn")
	if snap.MemoryMB != 1024 || snap.Aliases[lambda.AliasName].Version != "2" || len(snap.Provisioned) != 0 {
		t.Errorf("after Configure(1024, 0): %+v", snap)
	}
	if c, _ := invoke(t, d); c.Temp != drivers.Cold || c.MemoryMB != 1024 || lastVersion(s) != "2" {
		t.Errorf("first call at 1024 MB without prewarm: %s, %d MB, version %s", c.Temp, c.MemoryMB, lastVersion(s))
	}

	// The same settings again change nothing and publish nothing new.
	if err := d.Configure(ctx(t), drivers.Settings{MemoryMB: 1024}); err != nil {
		t.Fatal(err)
	}
	if snap, _ := s.Function("fn"); len(snap.Versions) != 2 || s.Calls("UpdateFunctionConfiguration") != 2 {
		t.Errorf("idempotent Configure: versions %v, %d updates", snap.Versions, s.Calls("UpdateFunctionConfiguration"))
	}
	if c, _ := invoke(t, d); c.Temp != drivers.Warm {
		t.Errorf("after an idempotent Configure: %s, want warm", c.Temp)
	}
}

// TestForceCold: an environment change keeps the other variables and makes
// the next request cold, on $LATEST and through the coldbench alias.
func TestForceCold(t *testing.T) {
	t.Parallel()
	s, cfg := fake(t, lambdafake.FunctionOptions{Env: map[string]string{"KEEP": "me"}})
	d := open(t, cfg)
	invoke(t, d)
	if c, _ := invoke(t, d); c.Temp != drivers.Warm {
		t.Fatalf("second call: %s", c.Temp)
	}
	for round := range 2 {
		if err := d.ForceCold(ctx(t)); err != nil {
			t.Fatal(err)
		}
		snap, _ := s.Function("fn")
		if snap.Env["KEEP"] != "me" || snap.Env[lambda.ForceColdVar] == "" {
			t.Errorf("round %d: environment after ForceCold: %v", round, snap.Env)
		}
		if c, _ := invoke(t, d); c.Temp != drivers.Cold {
			t.Errorf("round %d: first call after ForceCold: %s", round, c.Temp)
		}
		if c, _ := invoke(t, d); c.Temp != drivers.Warm {
			t.Errorf("round %d: second call after ForceCold: %s", round, c.Temp)
		}
		// The second round goes through the alias.
		if err := d.Configure(ctx(t), drivers.Settings{MemoryMB: 256}); err != nil {
			t.Fatal(err)
		}
		invoke(t, d)
	}
	if v := lastVersion(s); v == "$LATEST" {
		t.Errorf("invocations still on $LATEST after Configure")
	}
}

// TestControlErrors: API failures and bad waits reach the user as one line
// naming the function and the call.
func TestControlErrors(t *testing.T) {
	t.Parallel()
	configure := func(s drivers.Settings) func(*lambda.Driver) error {
		return func(d *lambda.Driver) error { return d.Configure(context.Background(), s) }
	}
	tests := []struct {
		name   string
		opts   lambdafake.Options
		inject func(*lambdafake.Server)
		call   func(*lambda.Driver) error
		want   string
	}{
		// The identity may not change the configuration.
		{"access denied", lambdafake.Options{}, func(s *lambdafake.Server) { s.FailCall("UpdateFunctionConfiguration", 1, lambdafake.AccessDenied) },
			configure(drivers.Settings{MemoryMB: 512}),
			"lambda fn: UpdateFunctionConfiguration: access denied: User: arn:aws:iam::123456789012:user/coldbench is not authorized"},
		// Someone else's update got in between.
		{"conflict", lambdafake.Options{}, func(s *lambdafake.Server) { s.FailCall("PublishVersion", 1, lambdafake.UpdateConflict) },
			configure(drivers.Settings{MemoryMB: 512}),
			"lambda fn: PublishVersion: conflict, an update may be in progress: The operation cannot be performed at this time."},
		// The alias vanished between two calls.
		{"not found", lambdafake.Options{}, func(s *lambdafake.Server) {
			s.FailCall("GetAlias", 1, lambdafake.NotFound)
			s.FailCall("CreateAlias", 1, lambdafake.NotFound)
		},
			configure(drivers.Settings{MemoryMB: 512}),
			"lambda fn: CreateAlias: not found: Function not found"},
		// The update never finishes within ready_timeout.
		{"timeout", lambdafake.Options{UpdateDelay: time.Hour}, nil,
			configure(drivers.Settings{MemoryMB: 512}),
			"lambda fn: UpdateFunctionConfiguration: timed out after 300ms waiting for the function update to finish (still LastUpdateStatus InProgress)"},
		// Lambda accepts the update and then fails it.
		{"update failed", lambdafake.Options{}, func(s *lambdafake.Server) { s.FailUpdate("fn", 1, "ENI limit reached") },
			func(d *lambda.Driver) error { return d.ForceCold(context.Background()) },
			"lambda fn: UpdateFunctionConfiguration: update failed (InternalError): ENI limit reached"},
		// Provisioned concurrency cannot be allocated.
		{"provisioning failed", lambdafake.Options{}, func(s *lambdafake.Server) { s.FailProvisioning("fn", 1, "FUNCTION_ERROR_INIT_FAILURE") },
			configure(drivers.Settings{MemoryMB: 512, Prewarm: 3}),
			"lambda fn: PutProvisionedConcurrencyConfig: provisioned concurrency FAILED: FUNCTION_ERROR_INIT_FAILURE"},
		// A memory size Lambda does not take, refused before any call.
		{"bad memory", lambdafake.Options{}, nil,
			configure(drivers.Settings{MemoryMB: 64}),
			"lambda fn: UpdateFunctionConfiguration: memory 64 MB: Lambda takes 128 to 10240 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := lambdafake.New(t, tt.opts)
			s.AddFunction("fn", lambdafake.FunctionOptions{})
			cfg := lambda.DefaultConfig()
			cfg.Function, cfg.Region, cfg.Endpoint, cfg.Credentials = "fn", s.Region(), s.URL, s.Credentials()
			cfg.ReadyTimeout = 300 * time.Millisecond
			d := open(t, cfg)
			if tt.inject != nil {
				tt.inject(s)
			}
			err := tt.call(d)
			var le *lambda.Error
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") || !errors.As(err, &le) {
				t.Errorf("got  %v\nwant one *lambda.Error line starting %q", err, tt.want)
			}
		})
	}
}

// TestQualifierNotTunable: a run pinned to another alias cannot be tuned,
// and says why.
func TestQualifierNotTunable(t *testing.T) {
	t.Parallel()
	s, cfg := fake(t, lambdafake.FunctionOptions{})
	c := sdk(s)
	if _, err := c.PublishVersion(ctx(t), &awslambda.PublishVersionInput{FunctionName: aws.String("fn")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAlias(ctx(t), &awslambda.CreateAliasInput{FunctionName: aws.String("fn"), Name: aws.String("prod"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	cfg.Function = "fn:prod"
	d := open(t, cfg)
	if _, o := invoke(t, d); o != drivers.OK || lastVersion(s) != "1" {
		t.Errorf("invoke fn:prod: %s on version %s", o, lastVersion(s))
	}
	err := d.Configure(ctx(t), drivers.Settings{MemoryMB: 512})
	if err == nil || !strings.Contains(err.Error(), `lambda fn: Configure: qualifier "prod"`) {
		t.Errorf("Configure with qualifier prod: %v", err)
	}
	if n := s.Calls("UpdateFunctionConfiguration"); n != 0 {
		t.Errorf("%d updates made", n)
	}
}

// waitPC polls the fake until a qualifier's provisioned concurrency is READY.
func waitPC(t *testing.T, c *awslambda.Client, q string) {
	t.Helper()
	for range 200 {
		pc, err := c.GetProvisionedConcurrencyConfig(ctx(t), &awslambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String("fn"), Qualifier: &q})
		if err == nil && pc.Status == types.ProvisionedConcurrencyStatusEnumReady {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("provisioned concurrency on %s never READY", q)
}

// waitUpdate polls the fake until $LATEST has no update in progress.
func waitUpdate(t *testing.T, s *lambdafake.Server) {
	t.Helper()
	for range 200 {
		if snap, _ := s.Function("fn"); snap.LastUpdateStatus != "InProgress" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("update never finished")
}

// aliasBefore gives the function a coldbench alias of its own before the
// test: on version 1 with 25% routed to version 2, a description, and
// provisioned concurrency 1.
func aliasBefore(t *testing.T, s *lambdafake.Server) {
	c := sdk(s)
	fn := aws.String("fn")
	if _, err := c.PublishVersion(ctx(t), &awslambda.PublishVersionInput{FunctionName: fn}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateFunctionConfiguration(ctx(t), &awslambda.UpdateFunctionConfigurationInput{FunctionName: fn, MemorySize: aws.Int32(192)}); err != nil {
		t.Fatal(err)
	}
	waitUpdate(t, s)
	if _, err := c.PublishVersion(ctx(t), &awslambda.PublishVersionInput{FunctionName: fn}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateAlias(ctx(t), &awslambda.CreateAliasInput{
		FunctionName: fn, Name: aws.String(lambda.AliasName), FunctionVersion: aws.String("1"), Description: aws.String("theirs"),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.25}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutProvisionedConcurrencyConfig(ctx(t), &awslambda.PutProvisionedConcurrencyConfigInput{FunctionName: fn, Qualifier: aws.String(lambda.AliasName), ProvisionedConcurrentExecutions: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	waitPC(t, c, lambda.AliasName)
}

// sameState compares what Restore must put back: memory, environment,
// aliases and provisioned concurrency. Published versions may remain.
func sameState(t *testing.T, got, want lambdafake.Snapshot) {
	t.Helper()
	if got.MemoryMB != want.MemoryMB || !maps.Equal(got.Env, want.Env) || len(got.Versions) < len(want.Versions) ||
		!maps.EqualFunc(got.Aliases, want.Aliases, func(a, b lambdafake.AliasSnapshot) bool {
			return a.Version == b.Version && a.Description == b.Description && maps.Equal(a.Weights, b.Weights)
		}) || !maps.Equal(got.Provisioned, want.Provisioned) {
		t.Errorf("after Restore:\n got %+v\nwant %+v", got, want)
	}
}
