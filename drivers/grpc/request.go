package grpcdriver

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"text/template"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/coldbench/coldbench/drivers"
)

// requester makes each call's request message: the request template
// executed for the call, read as JSON into a dynamic message of the
// method's input type, and marshaled to the wire. A request without
// template actions is marshaled once, at Open.
type requester struct {
	input     protoreflect.MessageDescriptor
	tmpl      *template.Template // nil when the request is static
	static    []byte
	unmarshal protojson.UnmarshalOptions
	bufs      sync.Pool // *reqBuf
}

// reqBuf holds one request's text and wire bytes, reused across calls.
type reqBuf struct {
	json bytes.Buffer
	wire []byte
}

// checkCall is the call the request is checked with at Open.
var checkCall = drivers.Call{Seq: 0, ID: "0123456789abcdef", Phase: "check"}

// newRequester parses the request template and checks it against m's
// input message by making the request for a sample call, so that a request
// that does not fit fails Open (naming the field) instead of every call.
func newRequester(text string, m *method) (*requester, error) {
	if strings.TrimSpace(text) == "" {
		text = "{}"
	}
	t, err := template.New("request").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, &drivers.FieldError{Field: "request", Msg: err.Error()}
	}
	r := &requester{
		input:     m.desc.Input(),
		tmpl:      t,
		unmarshal: protojson.UnmarshalOptions{Resolver: m.types},
		bufs:      sync.Pool{New: func() any { return new(reqBuf) }},
	}
	var buf reqBuf
	sample := checkCall
	b, err := r.encode(&buf, &sample)
	if err != nil {
		return nil, &drivers.FieldError{Field: "request", Msg: err.Error()}
	}
	if !strings.Contains(text, "{{") {
		r.tmpl, r.static = nil, b
	}
	return r, nil
}

// request returns the request's wire bytes for c. When buf is not nil the
// bytes live in it, and the caller must release it once the call is done.
func (r *requester) request(c *drivers.Call) (data []byte, buf *reqBuf, err error) {
	if r.tmpl == nil {
		return r.static, nil, nil
	}
	buf = r.bufs.Get().(*reqBuf)
	data, err = r.encode(buf, c)
	return data, buf, err
}

// release returns a buffer from request.
func (r *requester) release(buf *reqBuf) {
	if buf.json.Cap() > 1<<16 || cap(buf.wire) > 1<<16 {
		return // let an outsized buffer go, so the pool stays small
	}
	r.bufs.Put(buf)
}

// encode executes the template for c and converts the JSON it wrote.
func (r *requester) encode(buf *reqBuf, c *drivers.Call) ([]byte, error) {
	buf.json.Reset()
	if err := r.tmpl.Execute(&buf.json, c); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	msg := dynamicpb.NewMessage(r.input)
	if err := r.unmarshal.Unmarshal(buf.json.Bytes(), msg); err != nil {
		return nil, fmt.Errorf("%s does not fit message %s: %s",
			excerpt(buf.json.String()), r.input.FullName(), strings.TrimPrefix(err.Error(), "proto: "))
	}
	var err error
	buf.wire, err = proto.MarshalOptions{}.MarshalAppend(buf.wire[:0], msg)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", r.input.FullName(), err)
	}
	return buf.wire, nil
}

// excerpt shortens a request for an error message.
func excerpt(s string) string {
	const limit = 200
	s = strings.TrimSpace(s)
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return s
}
