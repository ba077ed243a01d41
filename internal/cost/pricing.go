// Package cost prices a function's settings: the monthly cost of a memory
// size and prewarm level at a projected traffic under a price list (package
// pricing), and the model of how many requests start cold at that traffic.
package cost

import (
	"time"

	"github.com/coldbench/coldbench/pricing"
)

// Table is a platform's price list; see pricing.Table.
type Table = pricing.Table

// GB is memory in the unit platforms bill; see pricing.GB.
func GB(memoryMB int) float64 { return pricing.GB(memoryMB) }

// Month is the length of the month costs are projected over: 730 hours, the
// convention AWS and Google use in their calculators.
const Month = 730 * time.Hour

// DaysPerMonth is Month in days (30.42).
const DaysPerMonth = float64(Month) / float64(24*time.Hour)
