package fleet

import (
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"google.golang.org/protobuf/proto"

	"github.com/coldbench/coldbench/internal/engine"
	pb "github.com/coldbench/coldbench/proto/coldbench/v1"
	"github.com/coldbench/coldbench/results"
)

// FuzzAgentMessage: bytes off an agent's stream go through what the
// controller does with them (agentconn.go): proto.Unmarshal into an
// AgentMessage, decodeSnapshot against the plan, then the merge into the
// run's view as Controller.Snapshot merges agents, and a summary. It must
// never panic or hang, and a snapshot with a histogram that does not
// decode must be rejected with an error. Seeds: snapshots of sampleTally
// here, and testdata/fuzz/FuzzAgentMessage.
func FuzzAgentMessage(f *testing.F) {
	start := time.Unix(1700000000, 0)
	for i, n := range []int{0, 1, 300, 300} {
		var deltas *deltaCache
		if i == 3 {
			deltas = newDeltaCache() // histograms as a stream's first deltas
		}
		snap, err := encodeSnapshot(sampleTally(start, n), engine.Progress{Sent: int64(n)}, start, deltas)
		if err != nil {
			f.Fatal(err)
		}
		b, err := proto.Marshal(&pb.AgentMessage{Body: &pb.AgentMessage_Snapshot{Snapshot: snap}})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	plans := []results.PhasePlan{{Name: "a", Duration: time.Second}, {Name: "b", Duration: time.Second}}

	f.Fuzz(func(t *testing.T, data []byte) {
		var m pb.AgentMessage
		if proto.Unmarshal(data, &m) != nil {
			return
		}
		s := m.GetSnapshot()
		if s == nil {
			return
		}
		cache := decodeCache{}
		got, err := decodeSnapshot(s, plans, 1500*time.Millisecond, cache)
		if err != nil {
			if got != nil {
				t.Fatal("a tally and an error")
			}
			return
		}
		for _, ps := range s.Phases {
			for _, h := range ps.Histograms {
				if h.Delta {
					continue // counts added to the stream's state, checked by decodeSnapshot
				}
				if _, err := hdrhistogram.Decode(h.Hdr); err != nil {
					t.Fatalf("accepted a snapshot whose histogram does not decode: %v", err)
				}
			}
		}
		// Decoded again, the cache serves what did not change.
		again, err := decodeSnapshot(s, plans, 1500*time.Millisecond, cache)
		if err != nil {
			t.Fatalf("the same snapshot decoded once, not twice: %v", err)
		}
		// Two agents' worth into the run's view, as Controller.Snapshot does.
		view := results.NewTally(plans)
		for _, agent := range []*results.Tally{got, again} {
			if err := view.Merge(agent); err != nil {
				t.Fatalf("merge a decoded snapshot: %v", err)
			}
		}
		results.Summarize(view, results.Meta{Host: results.Host{Hostname: "fuzz"}})
	})
}
