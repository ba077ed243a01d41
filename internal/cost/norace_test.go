//go:build !race

package cost

// raceEnabled is false: see race_test.go.
const raceEnabled = false
