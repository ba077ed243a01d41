package drivers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Factory is what a driver registers: how to make its configuration and how
// to open it.
type Factory struct {
	// Config returns a pointer to a new configuration struct with its
	// defaults set. Its yaml tags are the driver's settings under a
	// scenario's target: block, decoded strictly. If it has a
	// Validate() error method, validation calls it; errors that are (or
	// join) *FieldError are reported at that field's position.
	Config func() any
	// Open starts a driver from a configuration made by Config.
	Open func(ctx context.Context, cfg any) (Driver, error)
}

var (
	mu       sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes a driver available by name. It is meant to be called from
// a driver package's init and panics on a duplicate or incomplete factory.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if f.Config == nil || f.Open == nil {
		panic("drivers: Register " + name + " with a nil Config or Open")
	}
	if _, dup := registry[name]; dup {
		panic("drivers: Register called twice for driver " + name)
	}
	registry[name] = f
}

// Lookup finds a registered driver. The error lists the known names.
func Lookup(name string) (Factory, error) {
	mu.RLock()
	f, ok := registry[name]
	mu.RUnlock()
	if !ok {
		return Factory{}, fmt.Errorf("unknown driver %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return f, nil
}

// Names lists registered drivers, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Open looks up a driver and opens it with cfg.
func Open(ctx context.Context, name string, cfg any) (Driver, error) {
	f, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	d, err := f.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open driver %s: %w", name, err)
	}
	return d, nil
}

// FieldError is a configuration error in one field of a driver's settings.
// Field is the yaml path below the target block, such as "tls.ca_file".
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// URLSetter is implemented by driver configurations that take a URL, so that
// `--target URL` can override it.
type URLSetter interface {
	SetURL(u string) error
}

// ColdHeaderSetter is implemented by configurations of drivers that read
// cold-start signals from response headers; a scenario's cold: block is
// applied through it.
type ColdHeaderSetter interface {
	SetColdHeaders(cold []string, instance string)
}

// RegisterConfig registers a driver whose settings are a *C made by
// defaults and opened by open: the common case, without each driver
// writing the type assertion from any.
func RegisterConfig[C any, D Driver](name string, defaults func() *C, open func(context.Context, *C) (D, error)) {
	Register(name, Factory{
		Config: func() any { return defaults() },
		Open: func(ctx context.Context, cfg any) (Driver, error) {
			c, ok := cfg.(*C)
			if !ok {
				return nil, fmt.Errorf("%s driver: config is %T, want %T", name, cfg, c)
			}
			d, err := open(ctx, c)
			if err != nil {
				return nil, err // not a typed nil in a non-nil interface
			}
			return d, nil
		},
	})
}
