package lambda

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/coldbench/coldbench/drivers"
)

// ForceColdVar is the environment variable ForceCold sets to a new value
// each time: any configuration change makes Lambda start new instances.
const ForceColdVar = "COLDBENCH_FORCE_COLD"

// aliasDescription marks the alias as coldbench's.
const aliasDescription = "managed by coldbench: moved by tuning runs, restored or deleted when they end"

// Configure implements drivers.Configurer. It sets the memory of $LATEST
// (UpdateFunctionConfiguration, then waits until LastUpdateStatus is
// Successful), publishes a version, points the coldbench alias at it
// (creating it if need be), and sets provisioned concurrency on the alias
// to s.Prewarm, waiting until it is READY (0 deletes it). Invocations go to
// the alias from then on. A zero MemoryMB leaves memory as it is.
//
// The first call remembers the function's state for Restore.
func (d *Driver) Configure(ctx context.Context, s drivers.Settings) error {
	if s.MemoryMB != 0 && (s.MemoryMB < 128 || s.MemoryMB > 10240) {
		return d.failure("UpdateFunctionConfiguration", fmt.Sprintf("memory %d MB: Lambda takes 128 to 10240 MB", s.MemoryMB))
	}
	if s.Prewarm < 0 {
		return d.failure("PutProvisionedConcurrencyConfig", fmt.Sprintf("prewarm %d: must not be negative", s.Prewarm))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, err := d.begin(ctx, "Configure")
	if err != nil {
		return err
	}
	if s.MemoryMB != 0 && aws.ToInt32(cur.MemorySize) != int32(s.MemoryMB) {
		_, err := d.api.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: &d.fn.id, MemorySize: aws.Int32(int32(s.MemoryMB)), RevisionId: cur.RevisionId,
		})
		if err != nil {
			return d.apiError("UpdateFunctionConfiguration", err)
		}
		if _, err := d.waitUpdated(ctx, "UpdateFunctionConfiguration", true); err != nil {
			return err
		}
	}
	if err := d.moveAlias(ctx); err != nil {
		return err
	}
	alias := AliasName
	d.qual.Store(&alias)
	return d.setPrewarm(ctx, s.Prewarm)
}

// ForceCold implements drivers.ColdForcer the way published cold-start
// benchmarks do: it sets ForceColdVar to a new value in $LATEST's
// environment (keeping the other variables) and waits for the update.
// When invocations go to the coldbench alias, it then publishes the
// changed $LATEST and moves the alias to it, waiting for the alias's
// provisioned concurrency, if any, to be READY again; the next request
// then lands on a new instance, which is a cold start unless provisioned
// concurrency initialized it beforehand.
func (d *Driver) ForceCold(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, err := d.begin(ctx, "ForceCold")
	if err != nil {
		return err
	}
	vars := map[string]string{}
	if env := cur.Environment; env != nil {
		if env.Error != nil {
			return d.failure("GetFunctionConfiguration", fmt.Sprintf("cannot read the environment variables (%s: %s), so ForceCold will not rewrite them",
				aws.ToString(env.Error.ErrorCode), aws.ToString(env.Error.Message)))
		}
		maps.Copy(vars, env.Variables)
	}
	vars[ForceColdVar] = strconv.FormatInt(time.Now().UnixNano(), 36)
	_, err = d.api.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: &d.fn.id, Environment: &types.Environment{Variables: vars}, RevisionId: cur.RevisionId,
	})
	if err != nil {
		return d.apiError("UpdateFunctionConfiguration", err)
	}
	if _, err := d.waitUpdated(ctx, "UpdateFunctionConfiguration", true); err != nil {
		return err
	}
	if *d.qual.Load() != AliasName {
		return nil
	}
	if err := d.moveAlias(ctx); err != nil {
		return err
	}
	if _, err := d.getPC(ctx, AliasName); err != nil {
		if isCode(err, codeNotFound...) {
			return nil
		}
		return d.apiError("GetProvisionedConcurrencyConfig", err)
	}
	return d.waitPC(ctx, "UpdateAlias")
}

// Describe implements drivers.Describer: memory from the configuration of
// what invocations go to, prewarm from its provisioned concurrency, and
// Ready when $LATEST's last update succeeded, the version is active and
// provisioned concurrency, if any, is READY. Instances is the allocated
// provisioned concurrency: Lambda does not count on-demand instances.
func (d *Driver) Describe(ctx context.Context) (drivers.Description, error) {
	if err := d.ControlPlane(); err != nil {
		return drivers.Description{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	q := *d.qual.Load()
	latest, err := d.api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &d.fn.id})
	if err != nil {
		return drivers.Description{}, d.apiError("GetFunctionConfiguration", err)
	}
	cfg := latest
	if q != "" && q != "$LATEST" {
		if cfg, err = d.api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &d.fn.id, Qualifier: &q}); err != nil {
			return drivers.Description{}, d.apiError("GetFunctionConfiguration", err)
		}
	}
	desc := drivers.Description{
		Settings: drivers.Settings{MemoryMB: int(aws.ToInt32(cfg.MemorySize))},
		Platform: "lambda",
		Ready: (latest.LastUpdateStatus == "" || latest.LastUpdateStatus == types.LastUpdateStatusSuccessful) &&
			(cfg.State == "" || cfg.State == types.StateActive),
	}
	if q != "" && q != "$LATEST" {
		pc, err := d.getPC(ctx, q)
		switch {
		case isCode(err, codeNotFound...):
		case err != nil:
			return drivers.Description{}, d.apiError("GetProvisionedConcurrencyConfig", err)
		default:
			desc.Prewarm = int(aws.ToInt32(pc.RequestedProvisionedConcurrentExecutions))
			desc.Instances = int(aws.ToInt32(pc.AllocatedProvisionedConcurrentExecutions))
			desc.Ready = desc.Ready && pc.Status == types.ProvisionedConcurrencyStatusEnumReady
		}
	}
	return desc, nil
}

// begin is how Configure and ForceCold (op) start, with d.mu held: they
// need the control plane and a $LATEST or coldbench-alias target, the first
// change remembers the function for Restore, and they act on $LATEST's
// configuration once no update is in progress, which begin returns.
func (d *Driver) begin(ctx context.Context, op string) (*lambda.GetFunctionConfigurationOutput, error) {
	if err := d.ControlPlane(); err != nil {
		return nil, err
	}
	if err := d.manageable(op); err != nil {
		return nil, err
	}
	if err := d.remember(ctx); err != nil {
		return nil, err
	}
	return d.waitUpdated(ctx, "UpdateFunctionConfiguration", false)
}

// manageable checks that Configure and ForceCold can act on what
// invocations go to: they change $LATEST and the coldbench alias only.
func (d *Driver) manageable(op string) error {
	if q := *d.qual.Load(); q != "" && q != "$LATEST" && q != AliasName {
		return d.failure(op, fmt.Sprintf("qualifier %q: tuning changes $LATEST and the %s alias, not another version or alias; leave qualifier empty to tune", q, AliasName))
	}
	return nil
}

// waitUpdated polls $LATEST's configuration until no update is in
// progress and returns it. With strict (after an update of ours), an
// update that ended Failed is an error naming op, with Lambda's reason.
func (d *Driver) waitUpdated(ctx context.Context, op string, strict bool) (*lambda.GetFunctionConfigurationOutput, error) {
	var out *lambda.GetFunctionConfigurationOutput
	err := d.poll(ctx, op, "the function update to finish", func(ctx context.Context) (bool, string, error) {
		o, err := d.api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &d.fn.id})
		if err != nil {
			return false, "", d.apiError("GetFunctionConfiguration", err)
		}
		out = o
		if o.State == types.StatePending || o.LastUpdateStatus == types.LastUpdateStatusInProgress {
			return false, "LastUpdateStatus " + string(o.LastUpdateStatus), nil
		}
		return true, "", nil
	})
	if err != nil {
		return nil, err
	}
	if strict && out.LastUpdateStatus == types.LastUpdateStatusFailed {
		return nil, d.failure(op, fmt.Sprintf("update failed (%s): %s", out.LastUpdateStatusReasonCode, aws.ToString(out.LastUpdateStatusReason)))
	}
	if strict && out.State == types.StateFailed {
		return nil, d.failure(op, fmt.Sprintf("function state Failed (%s): %s", out.StateReasonCode, aws.ToString(out.StateReason)))
	}
	return out, nil
}

// publish publishes $LATEST as a version (Lambda returns the last one when
// nothing changed since) and waits until the version is active: with
// SnapStart a new version is Pending while its snapshot is taken.
func (d *Driver) publish(ctx context.Context) (string, error) {
	v, err := d.api.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: &d.fn.id, Description: aws.String("published by coldbench")})
	if err != nil {
		return "", d.apiError("PublishVersion", err)
	}
	ver := aws.ToString(v.Version)
	if v.State == "" || v.State == types.StateActive {
		return ver, nil
	}
	err = d.poll(ctx, "PublishVersion", "version "+ver+" to become active", func(ctx context.Context) (bool, string, error) {
		o, err := d.api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &d.fn.id, Qualifier: &ver})
		switch {
		case err != nil:
			return false, "", d.apiError("GetFunctionConfiguration", err)
		case o.State == types.StateFailed:
			return false, "", d.failure("PublishVersion", fmt.Sprintf("version %s failed (%s): %s", ver, o.StateReasonCode, aws.ToString(o.StateReason)))
		}
		return o.State == types.StateActive, "State " + string(o.State), nil
	})
	return ver, err
}

// moveAlias publishes $LATEST and makes the coldbench alias point at that
// version alone, creating the alias if it does not exist and dropping any
// weighted routing to other versions.
func (d *Driver) moveAlias(ctx context.Context) error {
	ver, err := d.publish(ctx)
	if err != nil {
		return err
	}
	name := AliasName
	a, err := d.api.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: &d.fn.id, Name: &name})
	switch {
	case isCode(err, codeNotFound...):
		_, err = d.api.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: &d.fn.id, Name: &name, FunctionVersion: &ver, Description: aws.String(aliasDescription)})
		if err != nil {
			return d.apiError("CreateAlias", err)
		}
	case err != nil:
		return d.apiError("GetAlias", err)
	case aws.ToString(a.FunctionVersion) != ver || (a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0):
		_, err = d.api.UpdateAlias(ctx, &lambda.UpdateAliasInput{
			FunctionName: &d.fn.id, Name: &name, FunctionVersion: &ver,
			RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}},
		})
		if err != nil {
			return d.apiError("UpdateAlias", err)
		}
	}
	return nil
}

// setPrewarm sets the coldbench alias's provisioned concurrency to n and
// waits until it is READY; 0 deletes it.
func (d *Driver) setPrewarm(ctx context.Context, n int) error {
	if n == 0 {
		return d.deletePC(ctx, AliasName)
	}
	cur, err := d.getPC(ctx, AliasName)
	if err != nil && !isCode(err, codeNotFound...) {
		return d.apiError("GetProvisionedConcurrencyConfig", err)
	}
	if err != nil || aws.ToInt32(cur.RequestedProvisionedConcurrentExecutions) != int32(n) || cur.Status == types.ProvisionedConcurrencyStatusEnumFailed {
		name := AliasName
		_, err := d.api.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{
			FunctionName: &d.fn.id, Qualifier: &name, ProvisionedConcurrentExecutions: aws.Int32(int32(n)),
		})
		if err != nil {
			return d.apiError("PutProvisionedConcurrencyConfig", err)
		}
	}
	return d.waitPC(ctx, "PutProvisionedConcurrencyConfig")
}

// waitPC polls the coldbench alias's provisioned concurrency until it is
// READY; FAILED is an error naming op, with Lambda's reason.
func (d *Driver) waitPC(ctx context.Context, op string) error {
	return d.poll(ctx, op, "provisioned concurrency to be READY", func(ctx context.Context) (bool, string, error) {
		pc, err := d.getPC(ctx, AliasName)
		switch {
		case err != nil:
			return false, "", d.apiError("GetProvisionedConcurrencyConfig", err)
		case pc.Status == types.ProvisionedConcurrencyStatusEnumFailed:
			return false, "", d.failure(op, "provisioned concurrency FAILED: "+aws.ToString(pc.StatusReason))
		}
		return pc.Status == types.ProvisionedConcurrencyStatusEnumReady, "Status " + string(pc.Status), nil
	})
}

func (d *Driver) getPC(ctx context.Context, q string) (*lambda.GetProvisionedConcurrencyConfigOutput, error) {
	return d.api.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: &d.fn.id, Qualifier: &q})
}

// deletePC deletes a qualifier's provisioned concurrency; none is fine.
func (d *Driver) deletePC(ctx context.Context, q string) error {
	_, err := d.api.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: &d.fn.id, Qualifier: &q})
	if err != nil && !isCode(err, codeNotFound...) {
		return d.apiError("DeleteProvisionedConcurrencyConfig", err)
	}
	return nil
}

// poll calls check until it reports done, backing off from 25 ms to 2 s
// between calls, for at most ReadyTimeout. state says what check last saw,
// for the timeout message.
func (d *Driver) poll(ctx context.Context, op, what string, check func(context.Context) (done bool, state string, err error)) error {
	wctx, cancel := context.WithTimeout(ctx, d.cfg.ReadyTimeout)
	defer cancel()
	wait := 25 * time.Millisecond
	timer := time.NewTimer(0)
	defer timer.Stop()
	state := "not started"
	for {
		select {
		case <-wctx.Done():
			if err := ctx.Err(); err != nil {
				return &Error{Function: d.fn.name, Endpoint: d.cfg.Endpoint, Op: op, Msg: "cancelled while waiting for " + what, Err: err}
			}
			return d.failure(op, fmt.Sprintf("timed out after %v waiting for %s (still %s)", d.cfg.ReadyTimeout, what, state))
		case <-timer.C:
		}
		done, st, err := check(wctx)
		if err != nil {
			if wctx.Err() != nil && ctx.Err() == nil {
				return d.failure(op, fmt.Sprintf("timed out after %v waiting for %s (still %s)", d.cfg.ReadyTimeout, what, state))
			}
			return err
		}
		if done {
			return nil
		}
		state = st
		timer.Reset(wait)
		wait = min(2*wait, 2*time.Second)
	}
}
