//go:build race

package cost

// raceEnabled is true under the race detector, which slows the simulation
// tenfold; `make test` runs the model-against-simulation table without it.
const raceEnabled = true
