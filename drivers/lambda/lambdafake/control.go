package lambdafake

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// lastModifiedFmt is how Lambda writes LastModified.
const lastModifiedFmt = "2006-01-02T15:04:05.000-0700"

// functionConfiguration is the JSON shape of Lambda's FunctionConfiguration,
// trimmed to the fields the fake models.
type functionConfiguration struct {
	FunctionName               string
	FunctionArn                string
	Runtime                    string
	Role                       string
	Handler                    string
	CodeSize                   int64
	CodeSha256                 string
	Description                string
	Timeout                    int
	MemorySize                 int
	LastModified               string
	Version                    string
	Environment                *environment `json:",omitempty"`
	RevisionId                 string
	State                      string
	LastUpdateStatus           string
	LastUpdateStatusReason     string `json:",omitempty"`
	LastUpdateStatusReasonCode string `json:",omitempty"`
	LoggingConfig              loggingConfig
	PackageType                string
	Architectures              []string
	SnapStart                  snapStart
}

type environment struct {
	Variables map[string]string
}

type loggingConfig struct {
	LogFormat string
	LogGroup  string
}

type snapStart struct {
	ApplyOn            string
	OptimizationStatus string
}

// shape renders a version's configuration ("$LATEST" or a number).
func (f *function) shape(ver string) functionConfiguration {
	c := functionConfiguration{
		FunctionName: f.name, FunctionArn: f.arn, Runtime: "provided.al2023",
		Role: "arn:aws:iam::123456789012:role/coldbench-fake", Handler: "bootstrap",
		CodeSize: 4 << 20, CodeSha256: "Y29sZGJlbmNoLWZha2UtY29kZS1zaGEyNTY=", Timeout: 30,
		Version: ver, State: "Active", LastUpdateStatus: "Successful", PackageType: "Zip",
		Architectures: []string{"x86_64"}, SnapStart: snapStart{"None", "Off"},
	}
	var cfg config
	var modified time.Time
	if ver == "$LATEST" {
		cfg, modified, c.RevisionId = f.latest, f.lastModified, f.revision
		c.LastUpdateStatus, c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = f.status, f.statusReason, f.statusCode
	} else {
		n, _ := strconv.Atoi(ver)
		v := f.versions[n-1]
		cfg, modified, c.RevisionId = v.cfg, v.modified, v.revision
		c.FunctionArn += ":" + ver
		if f.opts.SnapStart {
			c.SnapStart = snapStart{"PublishedVersions", "On"}
		}
	}
	c.MemorySize = cfg.memory
	c.LastModified = modified.UTC().Format(lastModifiedFmt)
	c.LoggingConfig = loggingConfig{cfg.logFormat, "/aws/lambda/" + f.name}
	if len(cfg.env) > 0 {
		c.Environment = &environment{Variables: maps.Clone(cfg.env)}
	}
	return c
}

// getConfiguration answers GET .../configuration?Qualifier=.
func (s *Server) getConfiguration(q *request) {
	ver := q.qualifier
	if a := q.f.aliases[ver]; a != nil {
		ver = a.version
	}
	if ver == "" {
		ver = "$LATEST"
	}
	if _, _, ok := q.f.resolve(ver); !ok {
		writeError(q.w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+q.f.arn+":"+q.qualifier)
		return
	}
	writeJSON(q.w, http.StatusOK, q.f.shape(ver))
}

var envKey = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]+$`)

// reservedEnv are keys Lambda sets itself and refuses in a configuration.
var reservedEnv = map[string]bool{"AWS_REGION": true, "AWS_DEFAULT_REGION": true, "AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true, "_HANDLER": true}

// updateConfiguration answers PUT .../configuration: it applies memory,
// environment and log format to $LATEST and starts an update that
// completes after UpdateDelay (or fails, when one was injected).
func (s *Server) updateConfiguration(q *request) {
	var in struct {
		MemorySize    *int
		Environment   *environment
		LoggingConfig *loggingConfig
		RevisionId    *string
	}
	if !decode(q, &in) {
		return
	}
	if refused(q, in.RevisionId, "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id") {
		return
	}
	f := q.f
	next := f.latest.clone()
	if in.MemorySize != nil {
		if *in.MemorySize < 128 || *in.MemorySize > 10240 {
			writeError(q.w, http.StatusBadRequest, "InvalidParameterValueException", fmt.Sprintf("1 validation error detected: Value '%d' at 'memorySize' failed to satisfy constraint: Member must have value between 128 and 10240", *in.MemorySize))
			return
		}
		next.memory = *in.MemorySize
	}
	if in.Environment != nil {
		for k := range in.Environment.Variables {
			if !envKey.MatchString(k) || reservedEnv[k] {
				writeError(q.w, http.StatusBadRequest, "InvalidParameterValueException", fmt.Sprintf("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys or invalid keys: %s", k))
				return
			}
		}
		next.env = maps.Clone(in.Environment.Variables)
	}
	if in.LoggingConfig != nil && in.LoggingConfig.LogFormat != "" {
		next.logFormat = in.LoggingConfig.LogFormat
	}
	f.prev, f.latest = f.latest, next
	f.status, f.statusReason, f.statusCode = "InProgress", "The function is being created.", "Creating"
	f.updateDone = q.now.Add(s.opts.UpdateDelay)
	f.updateFails = ""
	if fail, ok := due(&f.failUpdate); ok {
		f.updateFails = fail.Message
	}
	f.revise()
	writeJSON(q.w, http.StatusOK, f.shape("$LATEST"))
}

// refused answers for a change to q.f that Lambda refuses, reporting
// whether it did: 409 while an update is in progress, 412 when rev is set
// and is not the function's revision (mismatch is the call's message).
func refused(q *request, rev *string, mismatch string) bool {
	f := q.f
	if f.status == "InProgress" {
		writeError(q.w, http.StatusConflict, "ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource: "+f.arn)
		return true
	}
	if rev != nil && *rev != f.revision {
		writeError(q.w, http.StatusPreconditionFailed, "PreconditionFailedException", mismatch)
		return true
	}
	return false
}

// publishVersion answers POST .../versions: a new version from $LATEST, or
// the last one when $LATEST has not changed since, as Lambda does.
func (s *Server) publishVersion(q *request) {
	var in struct{ RevisionId *string }
	if !decode(q, &in) {
		return
	}
	if refused(q, in.RevisionId, "The Revision Id provided does not match the latest Revision Id.") {
		return
	}
	f := q.f
	if n := len(f.versions); n > 0 && f.versions[n-1].cfg.equal(f.latest) {
		writeJSON(q.w, http.StatusCreated, f.shape(f.versions[n-1].number))
		return
	}
	n := strconv.Itoa(len(f.versions) + 1)
	f.versions = append(f.versions, &version{number: n, cfg: f.latest.clone(), revision: newID(), modified: q.now})
	writeJSON(q.w, http.StatusCreated, f.shape(n))
}

// listVersions answers GET .../versions.
func (s *Server) listVersions(q *request) {
	out := []functionConfiguration{q.f.shape("$LATEST")}
	for _, v := range q.f.versions {
		out = append(out, q.f.shape(v.number))
	}
	writeJSON(q.w, http.StatusOK, map[string]any{"Versions": out})
}

// aliasConfiguration is the JSON shape of Lambda's AliasConfiguration.
type aliasConfiguration struct {
	AliasArn        string
	Name            string
	FunctionVersion string
	Description     string
	RevisionId      string
	RoutingConfig   *routingConfig `json:",omitempty"`
}

type routingConfig struct {
	AdditionalVersionWeights map[string]float64
}

func (f *function) aliasShape(a *alias) aliasConfiguration {
	c := aliasConfiguration{AliasArn: f.arn + ":" + a.name, Name: a.name, FunctionVersion: a.version, Description: a.description, RevisionId: a.revision}
	if len(a.weights) > 0 {
		c.RoutingConfig = &routingConfig{maps.Clone(a.weights)}
	}
	return c
}

var aliasName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// createAlias answers POST .../aliases.
func (s *Server) createAlias(q *request) {
	var in struct {
		Name, FunctionVersion, Description string
		RoutingConfig                      *routingConfig
	}
	if !decode(q, &in) {
		return
	}
	f := q.f
	if !aliasName.MatchString(in.Name) || isNumber(in.Name) || in.Name == "$LATEST" {
		writeError(q.w, http.StatusBadRequest, "InvalidParameterValueException", "Invalid alias name: "+in.Name)
		return
	}
	if f.aliases[in.Name] != nil {
		writeError(q.w, http.StatusConflict, "ResourceConflictException", "Alias already exists: "+f.arn+":"+in.Name)
		return
	}
	if !s.versionExists(q, in.FunctionVersion) {
		return
	}
	a := &alias{name: in.Name, version: in.FunctionVersion, description: in.Description, revision: newID()}
	if in.RoutingConfig != nil {
		a.weights = maps.Clone(in.RoutingConfig.AdditionalVersionWeights)
	}
	f.aliases[in.Name] = a
	writeJSON(q.w, http.StatusCreated, f.aliasShape(a))
}

// listAliases answers GET .../aliases.
func (s *Server) listAliases(q *request) {
	names := make([]string, 0, len(q.f.aliases))
	for n := range q.f.aliases {
		names = append(names, n)
	}
	sort.Strings(names)
	out := []aliasConfiguration{}
	for _, n := range names {
		out = append(out, q.f.aliasShape(q.f.aliases[n]))
	}
	writeJSON(q.w, http.StatusOK, map[string]any{"Aliases": out})
}

// getAlias answers GET .../aliases/{alias}.
func (s *Server) getAlias(q *request) {
	if a := s.alias(q); a != nil {
		writeJSON(q.w, http.StatusOK, q.f.aliasShape(a))
	}
}

// updateAlias answers PUT .../aliases/{alias}. Pointing an alias with
// provisioned concurrency at another version allocates it again.
func (s *Server) updateAlias(q *request) {
	var in struct {
		FunctionVersion, Description *string
		RoutingConfig                *routingConfig
		RevisionId                   *string
	}
	if !decode(q, &in) {
		return
	}
	a := s.alias(q)
	if a == nil {
		return
	}
	if in.RevisionId != nil && *in.RevisionId != a.revision {
		writeError(q.w, http.StatusPreconditionFailed, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id.")
		return
	}
	if in.FunctionVersion != nil && *in.FunctionVersion != a.version {
		if !s.versionExists(q, *in.FunctionVersion) {
			return
		}
		a.version = *in.FunctionVersion
		if p := q.f.pcs[a.name]; p != nil {
			s.allocate(q, a.name, p)
		}
	}
	if in.Description != nil {
		a.description = *in.Description
	}
	if in.RoutingConfig != nil {
		a.weights = maps.Clone(in.RoutingConfig.AdditionalVersionWeights)
	}
	a.revision = newID()
	writeJSON(q.w, http.StatusOK, q.f.aliasShape(a))
}

// deleteAlias answers DELETE .../aliases/{alias}; the alias's provisioned
// concurrency goes with it.
func (s *Server) deleteAlias(q *request) {
	a := s.alias(q)
	if a == nil {
		return
	}
	delete(q.f.aliases, a.name)
	delete(q.f.pcs, a.name)
	q.f.dropProvisioned(a.name)
	q.w.WriteHeader(http.StatusNoContent)
}

// pcShape is the JSON shape of Get/PutProvisionedConcurrencyConfig's
// output.
func pcShape(p *provisioned) map[string]any {
	allocated := 0
	if p.status == "READY" {
		allocated = p.requested
	}
	m := map[string]any{
		"RequestedProvisionedConcurrentExecutions": p.requested,
		"AllocatedProvisionedConcurrentExecutions": allocated,
		"AvailableProvisionedConcurrentExecutions": allocated,
		"Status":       p.status,
		"LastModified": p.modified.UTC().Format(lastModifiedFmt),
	}
	if p.reason != "" {
		m["StatusReason"] = p.reason
	}
	return m
}

// getPC answers GET /2019-09-30/.../provisioned-concurrency?Qualifier=.
func (s *Server) getPC(q *request) {
	if !s.pcQualifier(q) {
		return
	}
	p := q.f.pcs[q.qualifier]
	if p == nil {
		writeError(q.w, http.StatusNotFound, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function")
		return
	}
	writeJSON(q.w, http.StatusOK, pcShape(p))
}

// putPC answers PUT .../provisioned-concurrency?Qualifier=: the
// configuration is IN_PROGRESS for ProvisionDelay, then READY with its
// instances started and initialized.
func (s *Server) putPC(q *request) {
	var in struct{ ProvisionedConcurrentExecutions int }
	if !decode(q, &in) || !s.pcQualifier(q) {
		return
	}
	if in.ProvisionedConcurrentExecutions < 1 {
		writeError(q.w, http.StatusBadRequest, "InvalidParameterValueException", "1 validation error detected: Value at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1")
		return
	}
	p := q.f.pcs[q.qualifier]
	if p == nil {
		p = &provisioned{}
		q.f.pcs[q.qualifier] = p
	}
	p.requested = in.ProvisionedConcurrentExecutions
	s.allocate(q, q.qualifier, p)
	writeJSON(q.w, http.StatusAccepted, pcShape(p))
}

// allocate (re)starts the allocation of a provisioned-concurrency
// configuration.
func (s *Server) allocate(q *request, qual string, p *provisioned) {
	q.f.dropProvisioned(qual)
	p.status, p.reason, p.modified = "IN_PROGRESS", "", q.now
	p.readyAt = q.now.Add(s.opts.ProvisionDelay)
	p.fail = ""
	if fail, ok := due(&q.f.failPC); ok {
		p.fail = fail.Message
	}
}

// deletePC answers DELETE .../provisioned-concurrency?Qualifier=.
func (s *Server) deletePC(q *request) {
	if !s.pcQualifier(q) {
		return
	}
	if q.f.pcs[q.qualifier] == nil {
		writeError(q.w, http.StatusNotFound, "ResourceNotFoundException", "No Provisioned Concurrency Config found for this function")
		return
	}
	delete(q.f.pcs, q.qualifier)
	q.f.dropProvisioned(q.qualifier)
	q.w.WriteHeader(http.StatusNoContent)
}

// pcQualifier checks that provisioned concurrency can apply to the
// request's qualifier, a published version or an alias, or answers the
// error Lambda gives.
func (s *Server) pcQualifier(q *request) bool {
	switch {
	case q.qualifier == "" || q.qualifier == "$LATEST":
		writeError(q.w, http.StatusBadRequest, "InvalidParameterValueException", "Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
		return false
	case q.f.aliases[q.qualifier] != nil:
		return true
	case isNumber(q.qualifier):
		return s.versionExists(q, q.qualifier)
	}
	writeError(q.w, http.StatusNotFound, "ResourceNotFoundException", "Cannot find alias arn: "+q.f.arn+":"+q.qualifier)
	return false
}

// alias finds the path's alias or answers 404.
func (s *Server) alias(q *request) *alias {
	name := q.r.PathValue("alias")
	a := q.f.aliases[name]
	if a == nil {
		writeError(q.w, http.StatusNotFound, "ResourceNotFoundException", "Cannot find alias arn: "+q.f.arn+":"+name)
	}
	return a
}

// versionExists checks a version number (or $LATEST) or answers 404.
func (s *Server) versionExists(q *request, v string) bool {
	if v == "$LATEST" {
		return true
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= len(q.f.versions) {
		return true
	}
	writeError(q.w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+q.f.arn+":"+v)
	return false
}

// decode reads a JSON request body, or answers 400.
func decode(q *request, v any) bool {
	b, err := io.ReadAll(q.r.Body)
	if err == nil && len(b) > 0 {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		writeError(q.w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: "+err.Error())
		return false
	}
	return true
}
