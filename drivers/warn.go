package drivers

import "context"

type warnKey struct{}

// WithWarn returns a context that carries warn, for Open to say in one line
// that a driver goes on with less than it was asked for (a missing control
// plane, say). Whoever opens the driver decides where the line goes: the
// command prints it, an agent logs it.
func WithWarn(ctx context.Context, warn func(msg string)) context.Context {
	return context.WithValue(ctx, warnKey{}, warn)
}

// Warn passes msg to the context's warn function; without one it is
// dropped.
func Warn(ctx context.Context, msg string) {
	if w, ok := ctx.Value(warnKey{}).(func(string)); ok && w != nil {
		w(msg)
	}
}
