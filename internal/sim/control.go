package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// Control API routes, relative to the emulator's base URL.
const (
	PathConfig  = ControlPrefix + "config"  // GET the config; PUT a partial Update
	PathState   = ControlPrefix + "state"   // GET the State
	PathRecycle = ControlPrefix + "recycle" // POST: drop all instances; answers the State
	PathTruth   = ControlPrefix + "truth"   // GET the TruthSnapshot, or ?id=REQUEST_ID for one Record
)

// maxControlBody bounds a control request body; a config update is tiny.
const maxControlBody = 64 << 10

// control serves the control API. Every answer, errors included, is JSON.
func (e *Emulator) control(w http.ResponseWriter, r *http.Request) {
	var methods map[string]http.HandlerFunc
	switch r.URL.Path {
	case PathConfig:
		methods = map[string]http.HandlerFunc{http.MethodGet: e.getConfig, http.MethodPut: e.putConfig}
	case PathState:
		methods = map[string]http.HandlerFunc{http.MethodGet: e.getState}
	case PathRecycle:
		methods = map[string]http.HandlerFunc{http.MethodPost: e.postRecycle}
	case PathTruth:
		methods = map[string]http.HandlerFunc{http.MethodGet: e.getTruth}
	default:
		writeError(w, http.StatusNotFound, "", fmt.Sprintf("no control route %s (have %s, %s, %s, %s)",
			r.URL.Path, PathConfig, PathState, PathRecycle, PathTruth))
		return
	}
	h, ok := methods[r.Method]
	if !ok {
		allowed := make([]string, 0, len(methods))
		for m := range methods {
			allowed = append(allowed, m)
		}
		slices.Sort(allowed)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, "", fmt.Sprintf("%s %s: want %s", r.Method, r.URL.Path, strings.Join(allowed, " or ")))
		return
	}
	h(w, r)
}

func (e *Emulator) getConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, e.Config())
}

// putConfig applies a partial Update. Unknown fields are refused, so that a
// misspelt knob is an error rather than a silent no-op.
func (e *Emulator) putConfig(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBody))
	dec.DisallowUnknownFields()
	var u Update
	if err := dec.Decode(&u); err != nil {
		field := ""
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			err = errors.New("empty body, want a JSON object")
		case errors.As(err, &te):
			field = te.Field
		}
		writeError(w, http.StatusBadRequest, field, "decode config update: "+err.Error())
		return
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "", "decode config update: trailing data after the JSON object")
		return
	}
	cfg, err := e.Update(u)
	if err != nil {
		var ce *ConfigError
		switch {
		case errors.As(err, &ce):
			writeError(w, http.StatusBadRequest, ce.Field, err.Error())
		case errors.Is(err, ErrClosed):
			writeError(w, http.StatusServiceUnavailable, "", err.Error())
		default:
			writeError(w, http.StatusInternalServerError, "", err.Error())
		}
		return
	}
	writeJSON(w, http.StatusOK, cfg)
}

func (e *Emulator) getState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, e.State())
}

func (e *Emulator) postRecycle(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		writeError(w, http.StatusServiceUnavailable, "", ErrClosed.Error())
		return
	}
	e.Recycle()
	writeJSON(w, http.StatusOK, e.State())
}

// getTruth serves the whole truth, or one record with ?id=.
func (e *Emulator) getTruth(w http.ResponseWriter, r *http.Request) {
	if q := r.URL.Query(); q.Has("id") {
		id := q.Get("id")
		rec, ok := e.TruthByID(id)
		if !ok {
			writeError(w, http.StatusNotFound, "", fmt.Sprintf("no truth record for request id %q", id))
			return
		}
		writeJSON(w, http.StatusOK, rec)
		return
	}
	writeJSON(w, http.StatusOK, e.TruthSnapshot())
}
