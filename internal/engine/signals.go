package engine

import "github.com/coldbench/coldbench/drivers"

// Temperature applies the signals d believes, strongest first: the
// platform's own, a cold header, the first request seen for an instance id
// from a header, then the body's markers (a cold flag, else the first
// request seen for an instance id found there). seen holds the instance ids
// already served and is updated; the caller guards it. It returns Unknown
// and SourceNone when no believed signal decides, leaving inference to the
// caller.
//
// The body ranks below the headers because a driver reads it only when the
// headers said nothing (drivers.BodyReader.Read), so a request with an
// instance header is never also classified by its body. It is believed
// whatever d says: a scenario that names cold.body fields asks for it.
func (d Detection) Temperature(c *drivers.Call, seen map[string]struct{}) (drivers.Temperature, drivers.ColdSource) {
	if c.Temp != drivers.Unknown {
		switch {
		case c.Source == drivers.SourcePlatform && d.Platform, c.Source == drivers.SourceHeader && d.Header:
			return c.Temp, c.Source
		case c.Source == drivers.SourceBody:
			if c.InstanceID != "" {
				seen[c.InstanceID] = struct{}{}
			}
			return c.Temp, drivers.SourceBody
		}
	}
	body := c.Source == drivers.SourceBody
	if c.InstanceID != "" && (d.Instance || body) {
		src := drivers.SourceInstance
		if body {
			src = drivers.SourceBody
		}
		if _, ok := seen[c.InstanceID]; ok {
			return drivers.Warm, src
		}
		seen[c.InstanceID] = struct{}{}
		return drivers.Cold, src
	}
	return drivers.Unknown, drivers.SourceNone
}
