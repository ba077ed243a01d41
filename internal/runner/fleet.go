package runner

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/internal/fleet"
)

// startFleet readies the run's agents and starts the controller on them:
// one agent served in this process for a local run (with cfg's Driver and
// Observer), or the agents of cfg.Agents. It returns once every agent has
// accepted its share; close releases the agents.
func startFleet(ctx context.Context, cfg Config) (ctl *fleet.Controller, close func(), err error) {
	var eps []*fleet.Endpoint
	local := len(cfg.Agents) == 0
	if local {
		// The in-process agent's driver warnings go where the caller's
		// context sends them (the command prints them).
		opts := []fleet.AgentOption{fleet.WithVersion(cfg.Version), fleet.WithWarn(func(msg string) { drivers.Warn(ctx, msg) })}
		if cfg.Driver != nil {
			opts = append(opts, fleet.WithDriver(cfg.Driver))
		}
		if cfg.Observer != nil {
			opts = append(opts, fleet.WithObserver(cfg.Observer))
		}
		if cfg.Log != nil {
			opts = append(opts, fleet.WithLogger(cfg.Log))
		}
		a, err := fleet.NewAgent(opts...)
		if err != nil {
			return nil, nil, err
		}
		eps = []*fleet.Endpoint{fleet.Local(a)}
	} else {
		if cfg.Driver != nil || cfg.Observer != nil {
			return nil, nil, errors.New("a run on agents takes no in-process driver or observer")
		}
		addrs, err := fleet.Resolve(ctx, cfg.Agents)
		if err != nil {
			return nil, nil, err
		}
		if eps, err = fleet.Dial(addrs, cfg.TLS); err != nil {
			return nil, nil, err
		}
	}
	close = func() {
		for _, e := range eps {
			e.Close()
		}
	}
	ctl, err = fleet.New(fleet.Config{
		Scenario:    cfg.Scenario,
		Agents:      eps,
		OnAgentLoss: cfg.OnAgentLoss,
		Lease:       cfg.Lease,
		Log:         cfg.Log,
		RunID:       cfg.RunID,
	})
	if err != nil {
		close()
		return nil, nil, err // the scenario does not compile
	}
	if err = ctl.Start(ctx); err != nil {
		close()
		var re *fleet.RefusedError
		if local && errors.As(err, &re) {
			// The in-process agent refuses only what the target or the
			// scenario made impossible: say that, not "agent local".
			return nil, nil, errors.New(re.Reason)
		}
		if cfg.TLS != nil && grpcstatus.Code(err) == codes.Unavailable {
			// With TLS 1.3 an agent that rejects the controller's
			// certificate often shows only as a broken connection.
			err = fmt.Errorf("%w\n(mutual TLS: does each agent's CA sign the controller's certificate, and the controller's CA each agent's?)", err)
		}
		return nil, nil, fmt.Errorf("agents: %w", err)
	}
	return ctl, close, nil
}
