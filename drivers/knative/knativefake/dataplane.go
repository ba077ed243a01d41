package knativefake

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// dataPlane serves every Service at /{namespace}/{name}, as the ingress and
// the activator do: a request to a revision without pods waits while one
// starts (a scale from zero, which the revision's status then shows), and
// is answered by a pod, with headers naming the revision and the pod and
// saying whether it was cold.
func (c *Cluster) dataPlane() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{ns}/{name}", c.serve)
	mux.HandleFunc("/{ns}/{name}/{rest...}", c.serve)
	return mux
}

func (c *Cluster) serve(w http.ResponseWriter, req *http.Request) {
	svc := req.PathValue("ns") + "/" + req.PathValue("name")
	cold := false
	c.mu.Lock()
	var r *revision
	for {
		var ok bool
		if r, ok = c.revs[c.serving[svc]]; !ok {
			c.mu.Unlock()
			http.Error(w, "no route to "+svc, http.StatusNotFound)
			return
		}
		if len(r.pods) > 0 {
			break
		}
		cold = true
		if r.starting == nil {
			r.starting = make(chan struct{})
			go c.scaleFromZero(r)
		}
		started := r.starting
		c.mu.Unlock()
		select {
		case <-req.Context().Done():
			return
		case <-started:
		}
		c.mu.Lock()
	}
	r.rr++
	pod := r.pods[r.rr%len(r.pods)]
	r.inflight++
	c.requests[svc]++
	if id := req.Header.Get("X-Request-Id"); id != "" {
		c.truth[id] = Truth{Service: svc, Revision: r.name, Pod: pod, Cold: cold}
	}
	c.mu.Unlock()

	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	h := w.Header()
	h.Set("X-Fake-Revision", r.name)
	h.Set("X-Fake-Pod", pod)
	h.Set("X-Fake-Cold", strconv.FormatBool(cold))
	if len(body) == 0 {
		body = []byte("ok")
	}
	w.Write(body)

	c.mu.Lock()
	r.inflight--
	r.lastRequest = time.Now()
	c.mu.Unlock()
}

// scaleFromZero starts one pod for r after the cold-start time and records
// it in the revision's status.
func (c *Cluster) scaleFromZero(r *revision) {
	select {
	case <-c.stop:
	case <-time.After(c.opts.ColdStart):
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(r.pods) == 0 {
		r.addPod()
	}
	r.lastRequest = time.Now()
	c.writeRevision(r)
	close(r.starting)
	r.starting = nil
}
