package lambda_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/drivers/lambda"
	"github.com/coldbench/coldbench/drivers/lambda/lambdafake"
)

// TestRestore changes a function the way a 2 × 2 tuning run does
// (Configure and ForceCold at each setting), with a failure injected at
// some point, then checks that Restore puts memory, environment, aliases
// and provisioned concurrency back as they were, and that invocations go
// where they went before. Each case runs against a function without a
// coldbench alias and against one whose coldbench alias already existed.
func TestRestore(t *testing.T) {
	t.Parallel()
	tune := func(d *lambda.Driver) error {
		for _, s := range []drivers.Settings{{MemoryMB: 512, Prewarm: 0}, {MemoryMB: 512, Prewarm: 2}, {MemoryMB: 1024, Prewarm: 0}, {MemoryMB: 1024, Prewarm: 2}} {
			if err := d.Configure(context.Background(), s); err != nil {
				return err
			}
			if err := d.ForceCold(context.Background()); err != nil {
				return err
			}
		}
		return nil
	}
	tests := []struct {
		name    string
		inject  func(s *lambdafake.Server, existed bool)
		wantErr string // in the tuning run's error; "" for none
		// restoreFails is injected after the run: Restore fails once with
		// it, and a second Restore must finish the job.
		restoreFails func(*lambdafake.Server)
	}{
		// Everything works.
		{name: "clean run"},
		// The very first change is refused: nothing to put back but nothing broken.
		{name: "first update denied", inject: func(s *lambdafake.Server, _ bool) {
			s.FailCall("UpdateFunctionConfiguration", 1, lambdafake.AccessDenied)
		},
			wantErr: "UpdateFunctionConfiguration: access denied"},
		// Memory changed, then publishing fails.
		{name: "publish conflict", inject: func(s *lambdafake.Server, _ bool) { s.FailCall("PublishVersion", 1, lambdafake.UpdateConflict) },
			wantErr: "PublishVersion: conflict"},
		// Memory changed and a version published, then the alias is refused.
		{name: "alias denied", inject: func(s *lambdafake.Server, _ bool) {
			s.FailCall("CreateAlias", 1, lambdafake.AccessDenied)
			s.FailCall("UpdateAlias", 1, lambdafake.AccessDenied)
		}, wantErr: "Alias: access denied"},
		// Midway: the second setting's provisioned concurrency is refused.
		{name: "prewarm denied", inject: func(s *lambdafake.Server, _ bool) {
			s.FailCall("PutProvisionedConcurrencyConfig", 1, lambdafake.AccessDenied)
		},
			wantErr: "PutProvisionedConcurrencyConfig: access denied"},
		// Midway: the second setting's provisioned concurrency is accepted,
		// then FAILED. (Moving an alias that already has provisioned
		// concurrency allocates it too.)
		{name: "prewarm failed", inject: func(s *lambdafake.Server, existed bool) {
			s.FailProvisioning("fn", map[bool]int{false: 1, true: 2}[existed], "FUNCTION_ERROR_INIT_FAILURE")
		}, wantErr: "provisioned concurrency FAILED"},
		// Midway: the first ForceCold's update is accepted, then Failed.
		{name: "force cold update failed", inject: func(s *lambdafake.Server, _ bool) { s.FailUpdate("fn", 2, "KMS key disabled") },
			wantErr: "update failed (InternalError): KMS key disabled"},
		// Late: the third ForceCold is refused after two settings were applied.
		{name: "late force cold denied", inject: func(s *lambdafake.Server, _ bool) {
			s.FailCall("UpdateFunctionConfiguration", 5, lambdafake.AccessDenied)
		},
			wantErr: "UpdateFunctionConfiguration: access denied"},
		// Restore itself is refused once; a second Restore finishes.
		{name: "restore retried", restoreFails: func(s *lambdafake.Server) {
			s.FailCall("DeleteAlias", 1, lambdafake.AccessDenied)
			s.FailCall("UpdateAlias", 1, lambdafake.AccessDenied)
			s.FailCall("UpdateFunctionConfiguration", 1, lambdafake.AccessDenied)
		}},
	}
	for _, existed := range []bool{false, true} {
		for _, tt := range tests {
			name := tt.name
			if existed {
				name += "/alias existed"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s, cfg := fake(t, lambdafake.FunctionOptions{MemoryMB: 256, Env: map[string]string{"KEEP": "me", "MODE": "prod"}})
				if existed {
					aliasBefore(t, s)
				}
				before, _ := s.Function("fn")
				d := open(t, cfg)
				invoke(t, d)
				if tt.inject != nil {
					tt.inject(s, existed)
				}
				err := tune(d)
				switch {
				case tt.wantErr == "" && err != nil:
					t.Fatalf("tuning run: %v", err)
				case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "lambda fn: ")):
					t.Fatalf("tuning run: %v, want an error with %q", err, tt.wantErr)
				}
				if err == nil {
					// The run's last setting is in place, the alias on it alone.
					mid, _ := s.Function("fn")
					a := mid.Aliases[lambda.AliasName]
					if mid.MemoryMB != 1024 || len(a.Weights) != 0 || a.Version == "1" || mid.Provisioned[lambda.AliasName] != 2 || mid.Env[lambda.ForceColdVar] == "" {
						t.Errorf("after the run: %+v", mid)
					}
				}
				if tt.restoreFails != nil {
					tt.restoreFails(s)
					if err := d.Restore(context.Background()); err == nil || !strings.Contains(err.Error(), "access denied") {
						t.Fatalf("first Restore: %v, want an access denied", err)
					}
				}
				if err := d.Restore(context.Background()); err != nil {
					t.Fatalf("Restore: %v", err)
				}
				after, _ := s.Function("fn")
				sameState(t, after, before)
				if existed {
					waitPC(t, sdk(s), lambda.AliasName) // back and allocated, not just configured
				}
				if _, o := invoke(t, d); o != drivers.OK || lastVersion(s) != "$LATEST" {
					t.Errorf("after Restore: %s on version %s, want ok on $LATEST", o, lastVersion(s))
				}
				// Restore again is a no-op.
				calls := s.Calls("UpdateFunctionConfiguration") + s.Calls("DeleteAlias") + s.Calls("UpdateAlias")
				if err := d.Restore(context.Background()); err != nil || calls != s.Calls("UpdateFunctionConfiguration")+s.Calls("DeleteAlias")+s.Calls("UpdateAlias") {
					t.Errorf("second Restore: %v, or it changed something", err)
				}
			})
		}
	}
}

// TestRestoreNothing: Restore without a change does nothing.
func TestRestoreNothing(t *testing.T) {
	t.Parallel()
	s, cfg := fake(t, lambdafake.FunctionOptions{})
	d := open(t, cfg)
	if err := d.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := s.Calls("GetFunctionConfiguration"); n != 1 { // Open's check
		t.Errorf("%d calls to GetFunctionConfiguration", n)
	}
}

// TestRestoreEnvironmentNone: a function without environment variables
// gets none back, not an empty ForceCold leftover.
func TestRestoreEnvironmentNone(t *testing.T) {
	t.Parallel()
	s, cfg := fake(t, lambdafake.FunctionOptions{})
	d := open(t, cfg)
	if err := d.ForceCold(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := d.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := sdk(s)
	got, err := c.GetFunctionConfiguration(context.Background(), &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("fn")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Environment != nil && len(got.Environment.Variables) > 0 {
		t.Errorf("environment after Restore: %v", got.Environment.Variables)
	}
	if got.LastUpdateStatus != types.LastUpdateStatusSuccessful {
		t.Errorf("LastUpdateStatus %s", got.LastUpdateStatus)
	}
}
