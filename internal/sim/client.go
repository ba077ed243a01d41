package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client speaks the emulator's control API, for a driver that sees the
// emulator only as a URL (in another process, or a `coldbench sim`).
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a client for the emulator at baseURL (as Start returns
// it). A nil hc means http.DefaultClient.
func NewClient(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimSuffix(baseURL, "/"), hc: hc}
}

// APIError is a control API answer with an error status.
type APIError struct {
	Status  int    // HTTP status
	Field   string // the offending config field, for a validation error
	Message string
}

func (e *APIError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%d %s: %s (field %s)", e.Status, http.StatusText(e.Status), e.Message, e.Field)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Config fetches the configuration.
func (c *Client) Config(ctx context.Context) (Config, error) {
	var cfg Config
	err := c.do(ctx, http.MethodGet, PathConfig, nil, &cfg)
	return cfg, err
}

// State fetches the instance pool's state.
func (c *Client) State(ctx context.Context) (State, error) {
	var st State
	err := c.do(ctx, http.MethodGet, PathState, nil, &st)
	return st, err
}

// Update applies a partial configuration change. An invalid value is an
// *APIError with status 400 naming the field.
func (c *Client) Update(ctx context.Context, u Update) error {
	return c.do(ctx, http.MethodPut, PathConfig, u, nil)
}

// Recycle drops every instance, so that the next requests are cold.
func (c *Client) Recycle(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, PathRecycle, nil, nil)
}

// Truth fetches the whole ground truth.
func (c *Client) Truth(ctx context.Context) (TruthSnapshot, error) {
	var t TruthSnapshot
	err := c.do(ctx, http.MethodGet, PathTruth, nil, &t)
	return t, err
}

// TruthByID fetches the record of one request id; it reports false when the
// emulator has none.
func (c *Client) TruthByID(ctx context.Context, id string) (Record, bool, error) {
	var rec Record
	err := c.do(ctx, http.MethodGet, PathTruth+"?id="+url.QueryEscape(id), nil, &rec)
	if ae, ok := errors.AsType[*APIError](err); ok && ae.Status == http.StatusNotFound {
		return Record{}, false, nil
	}
	return rec, err == nil, err
}

// WaitReady polls the state every poll (10 ms if poll <= 0) until it is
// ready, and returns it.
func (c *Client) WaitReady(ctx context.Context, poll time.Duration) (State, error) {
	if poll <= 0 {
		poll = 10 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		st, err := c.State(ctx)
		if err != nil || st.Ready {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("sim client: wait for ready: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// do sends one control request with in (if not nil) as JSON and decodes the
// answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("sim client: %s %s: encode: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("sim client: %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("sim client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("sim client: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var eb errorBody
		if json.Unmarshal(b, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(string(b[:min(len(b), 512)]))
		}
		return fmt.Errorf("sim client: %s %s: %w", method, path,
			&APIError{Status: resp.StatusCode, Field: eb.Field, Message: eb.Error})
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("sim client: %s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}
