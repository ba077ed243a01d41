package lambda

import (
	"context"
	"errors"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// original is the function's state before the driver first changed it.
type original struct {
	memory      int32
	env         map[string]string // $LATEST's variables; nil when it has none
	envReadable bool              // false: encrypted with a key we may not use; ForceCold refuses, Restore leaves it
	target      string            // the qualifier invocations went to

	aliasExisted bool // the coldbench alias was there already; then:
	aliasVersion string
	aliasDesc    string
	aliasWeights map[string]float64
	prewarm      int32 // its provisioned concurrency, 0 for none
}

// remember records the function's state before the first change, once.
// Called with mu held.
func (d *Driver) remember(ctx context.Context) error {
	if d.orig != nil {
		return nil
	}
	cur, err := d.waitUpdated(ctx, "GetFunctionConfiguration", false)
	if err != nil {
		return err
	}
	o := &original{memory: aws.ToInt32(cur.MemorySize), envReadable: true, target: *d.qual.Load()}
	if env := cur.Environment; env != nil {
		o.env = maps.Clone(env.Variables)
		o.envReadable = env.Error == nil
	}
	name := AliasName
	a, err := d.api.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: &d.fn.id, Name: &name})
	switch {
	case isCode(err, codeNotFound...):
	case err != nil:
		return d.apiError("GetAlias", err)
	default:
		o.aliasExisted = true
		o.aliasVersion, o.aliasDesc = aws.ToString(a.FunctionVersion), aws.ToString(a.Description)
		if a.RoutingConfig != nil {
			o.aliasWeights = maps.Clone(a.RoutingConfig.AdditionalVersionWeights)
		}
		pc, err := d.getPC(ctx, AliasName)
		switch {
		case isCode(err, codeNotFound...):
		case err != nil:
			return d.apiError("GetProvisionedConcurrencyConfig", err)
		default:
			o.prewarm = aws.ToInt32(pc.RequestedProvisionedConcurrentExecutions)
		}
	}
	d.orig = o
	return nil
}

// Restore implements drivers.Restorer. It puts back what Configure and
// ForceCold changed since the first of them ran:
//
//   - the coldbench alias: deleted with its provisioned concurrency if the
//     driver created it; otherwise pointed back at its version, with its
//     description and routing, and its provisioned concurrency set back
//     (waiting until READY) or deleted;
//   - $LATEST's memory and environment variables (ForceColdVar goes),
//     waiting for the update;
//   - the qualifier invocations go to.
//
// The versions published meanwhile stay: they are immutable, cost nothing
// idle, and deleting versions is not a permission a benchmark should need.
// Every step is tried; the errors are joined. After a failed Restore the
// driver still remembers the original state, so Restore can be retried.
func (d *Driver) Restore(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	o := d.orig
	if o == nil {
		return nil
	}
	errs := []error{d.restoreAlias(ctx, o), d.restoreLatest(ctx, o)}
	target := o.target
	d.qual.Store(&target)
	err := errors.Join(errs...)
	if err == nil {
		d.orig = nil
	}
	return err
}

// restoreAlias puts the coldbench alias back as it was.
func (d *Driver) restoreAlias(ctx context.Context, o *original) error {
	name := AliasName
	if !o.aliasExisted {
		if err := d.deletePC(ctx, AliasName); err != nil {
			return err
		}
		_, err := d.api.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: &d.fn.id, Name: &name})
		if err != nil && !isCode(err, codeNotFound...) {
			return d.apiError("DeleteAlias", err)
		}
		return nil
	}
	routing := &types.AliasRoutingConfiguration{AdditionalVersionWeights: maps.Clone(o.aliasWeights)}
	if routing.AdditionalVersionWeights == nil {
		routing.AdditionalVersionWeights = map[string]float64{}
	}
	a, err := d.api.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: &d.fn.id, Name: &name})
	switch {
	case isCode(err, codeNotFound...):
		_, err = d.api.CreateAlias(ctx, &lambda.CreateAliasInput{
			FunctionName: &d.fn.id, Name: &name, FunctionVersion: &o.aliasVersion, Description: &o.aliasDesc, RoutingConfig: routing,
		})
		if err != nil {
			return d.apiError("CreateAlias", err)
		}
	case err != nil:
		return d.apiError("GetAlias", err)
	default:
		var weights map[string]float64
		if a.RoutingConfig != nil {
			weights = a.RoutingConfig.AdditionalVersionWeights
		}
		if aws.ToString(a.FunctionVersion) != o.aliasVersion || aws.ToString(a.Description) != o.aliasDesc || !maps.Equal(weights, o.aliasWeights) {
			_, err = d.api.UpdateAlias(ctx, &lambda.UpdateAliasInput{
				FunctionName: &d.fn.id, Name: &name, FunctionVersion: &o.aliasVersion, Description: &o.aliasDesc, RoutingConfig: routing,
			})
			if err != nil {
				return d.apiError("UpdateAlias", err)
			}
		}
	}
	return d.setPrewarm(ctx, int(o.prewarm))
}

// restoreLatest puts $LATEST's memory and environment back.
func (d *Driver) restoreLatest(ctx context.Context, o *original) error {
	cur, err := d.waitUpdated(ctx, "UpdateFunctionConfiguration", false)
	if err != nil {
		return err
	}
	in := &lambda.UpdateFunctionConfigurationInput{FunctionName: &d.fn.id}
	if aws.ToInt32(cur.MemorySize) != o.memory {
		in.MemorySize = aws.Int32(o.memory)
	}
	var vars map[string]string
	if cur.Environment != nil {
		vars = cur.Environment.Variables
	}
	if o.envReadable && !maps.Equal(vars, o.env) {
		env := maps.Clone(o.env)
		if env == nil {
			env = map[string]string{} // an empty map removes every variable
		}
		in.Environment = &types.Environment{Variables: env}
	}
	if in.MemorySize == nil && in.Environment == nil {
		return nil
	}
	if _, err := d.api.UpdateFunctionConfiguration(ctx, in); err != nil {
		return d.apiError("UpdateFunctionConfiguration", err)
	}
	_, err = d.waitUpdated(ctx, "UpdateFunctionConfiguration", true)
	return err
}
