// Package coldbenchv1 is the controller–agent API of coldbench, generated
// from agent.proto: the Agent service (a Run stream per run, ProbeClock,
// Info) and its messages. The service itself lives in internal/fleet.
// Regenerate with `make proto`; `make test` checks the generated files are
// current.
package coldbenchv1
