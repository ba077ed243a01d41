package results

import (
	"time"

	"github.com/coldbench/coldbench/drivers"
)

// NetStats sums the network phases of a phase's requests, so a report can
// tell a cold start from a cold connection: how many requests opened a new
// connection and what DNS, connect, TLS and time to first byte cost.
// Sums and maxima merge exactly across agents.
type NetStats struct {
	NewConns  int64      `json:"new_connections"`
	DNS       PhaseTimes `json:"dns"`
	Connect   PhaseTimes `json:"connect"`
	TLS       PhaseTimes `json:"tls"`
	FirstByte PhaseTimes `json:"first_byte"`
}

// PhaseTimes summarises one network phase over the requests that had it.
type PhaseTimes struct {
	Count  int64   `json:"count"`
	SumMs  float64 `json:"sum_ms"`
	MaxMs  float64 `json:"max_ms"`
	MeanMs float64 `json:"mean_ms"`
}

func (p *PhaseTimes) add(d time.Duration) {
	if d <= 0 {
		return
	}
	ms := float64(d) / float64(time.Millisecond)
	p.Count++
	p.SumMs += ms
	p.MaxMs = max(p.MaxMs, ms)
	p.MeanMs = p.SumMs / float64(p.Count)
}

func (p *PhaseTimes) merge(o PhaseTimes) {
	p.Count += o.Count
	p.SumMs += o.SumMs
	p.MaxMs = max(p.MaxMs, o.MaxMs)
	if p.Count > 0 {
		p.MeanMs = p.SumMs / float64(p.Count)
	}
}

// Add records one request's network phases.
func (n *NetStats) Add(t drivers.NetTimings) {
	if t.NewConn {
		n.NewConns++
	}
	n.DNS.add(t.DNS)
	n.Connect.add(t.Connect)
	n.TLS.add(t.TLS)
	n.FirstByte.add(t.FirstByte)
}

// Merge adds o into n.
func (n *NetStats) Merge(o NetStats) {
	n.NewConns += o.NewConns
	n.DNS.merge(o.DNS)
	n.Connect.merge(o.Connect)
	n.TLS.merge(o.TLS)
	n.FirstByte.merge(o.FirstByte)
}
