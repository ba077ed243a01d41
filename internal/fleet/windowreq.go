package fleet

import (
	"github.com/coldbench/coldbench/drivers"
	"github.com/coldbench/coldbench/scenarios"
)

// windowedRequests is a windowed replay schedule, whose arrivals carry
// their own requests (scenarios.Requester): arrival n of the window is the
// inner schedule's skip+n, request and all.
type windowedRequests struct{ *windowed }

var _ scenarios.Requester = windowedRequests{}

// Request is the inner schedule's request for the window's arrival n.
func (w windowedRequests) Request(n uint64) *drivers.Request {
	return w.inner.(scenarios.Requester).Request(w.skip + n)
}

// windowSchedule wraps ws so that it still carries the requests of a
// replay schedule.
func windowSchedule(ws *windowed) scenarios.Schedule {
	if _, ok := ws.inner.(scenarios.Requester); ok {
		return windowedRequests{ws}
	}
	return ws
}
