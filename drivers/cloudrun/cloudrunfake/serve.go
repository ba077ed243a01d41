package cloudrunfake

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// instance is one container instance of a revision.
type instance struct {
	id       string
	rev      string
	readyAt  time.Time
	busy     int
	served   int
	lastUsed time.Time
	retired  bool // its revision no longer serves; it goes when idle
}

func (f *Fake) newInstance(s *svc, readyAt time.Time) *instance {
	f.nextID++
	return &instance{id: fmt.Sprintf("%s-%x", s.serving, f.nextID), rev: s.serving, readyAt: readyAt, lastUsed: readyAt}
}

// concurrency is the template's maximum concurrent requests per instance.
func concurrency(res map[string]any) int {
	t, _ := res["template"].(map[string]any)
	if n, ok := t["maxInstanceRequestConcurrency"].(float64); ok && n > 0 {
		return int(n)
	}
	return 80
}

// serve is every service's URL, /run/{service}: it checks the identity
// token (audience: the service's uri), picks an instance of the serving
// revision with room, else starts one and waits for it (a cold start),
// and answers with the request body and headers naming the revision and
// instance, whether the request was cold, and X-Cold-Start on an
// instance's first request, as a function that tracks its own start
// would set it.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("service")
	f.mu.Lock()
	s, ok := f.services[name]
	f.mu.Unlock()
	if !ok {
		http.Error(w, "Error: Page not found", http.StatusNotFound)
		return
	}
	uri, _ := s.res["uri"].(string)
	if !f.opts.AllowUnauthenticated && !f.authorized(r, uri) {
		http.Error(w, "Error: Unauthorized. Your client does not have permission to the requested URL.", http.StatusUnauthorized)
		return
	}

	f.mu.Lock()
	now := time.Now()
	f.advance(s, now)
	f.expire(s, now)
	in := f.pick(s, now)
	in.busy++
	s.requests++
	cold := in.readyAt.After(now)
	first := in.served == 0
	in.served++
	if id := r.Header.Get("X-Request-Id"); id != "" {
		f.truth[id] = Truth{Service: name, Revision: in.rev, Instance: in.id, Cold: cold}
	}
	wait := in.readyAt.Sub(now)
	f.mu.Unlock()

	defer func() {
		f.mu.Lock()
		in.busy--
		in.lastUsed = time.Now()
		f.mu.Unlock()
	}()
	if cold {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(wait):
		}
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	h := w.Header()
	h.Set("X-Fake-Revision", in.rev)
	h.Set("X-Fake-Instance", in.id)
	h.Set("X-Fake-Cold", strconv.FormatBool(cold))
	h.Set("X-Cold-Start", strconv.FormatBool(first))
	if len(body) == 0 {
		body = []byte("ok")
	}
	w.Write(body)
}

// pick chooses an instance of the serving revision with room, a started
// one first; none means a new one, starting now. Called with mu held.
func (f *Fake) pick(s *svc, now time.Time) *instance {
	limit := concurrency(s.res)
	var starting *instance
	for _, in := range s.instances {
		if in.retired || in.rev != s.serving || in.busy >= limit {
			continue
		}
		if !in.readyAt.After(now) {
			return in
		}
		if starting == nil {
			starting = in
		}
	}
	if starting != nil {
		return starting
	}
	in := f.newInstance(s, now.Add(f.opts.ColdStart))
	s.instances = append(s.instances, in)
	return in
}

// expire drops retired instances once idle, and idle instances beyond the
// minimum after IdleAfter. Called with mu held.
func (f *Fake) expire(s *svc, now time.Time) {
	keep := minInstances(s.res)
	kept := s.instances[:0]
	for _, in := range s.instances {
		idle := in.busy == 0 && !in.readyAt.After(now)
		switch {
		case in.retired && in.busy == 0:
			continue
		case idle && f.opts.IdleAfter > 0 && now.Sub(in.lastUsed) > f.opts.IdleAfter && keep <= 0:
			continue
		}
		if !in.retired {
			keep--
		}
		kept = append(kept, in)
	}
	s.instances = kept
}
