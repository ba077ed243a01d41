package grpcdriver_test

import (
	"context"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The test service, defined without protoc:
//
//	syntax = "proto3";
//	package coldbench.test.v1;
//	import "google/protobuf/timestamp.proto";
//	message SayRequest { string text = 1; int64 seq = 2; google.protobuf.Timestamp sent = 3; }
//	message SayReply { string text = 1; string instance = 2; }
//	service Echo {
//	  rpc Say(SayRequest) returns (SayReply);
//	  rpc Chat(stream SayRequest) returns (stream SayReply); // declared, not served
//	}
//
// The Timestamp import makes resolution follow a dependency.
const (
	echoFileName = "coldbench/test/v1/echo.proto"
	echoService  = "coldbench.test.v1.Echo"
	sayMethod    = echoService + "/Say"
)

func echoFileProto() *descriptorpb.FileDescriptorProto {
	field := func(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{
			Name:     proto.String(name),
			Number:   proto.Int32(num),
			Label:    descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
			Type:     typ.Enum(),
			JsonName: proto.String(name),
		}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	const str, i64, msg = descriptorpb.FieldDescriptorProto_TYPE_STRING, descriptorpb.FieldDescriptorProto_TYPE_INT64, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	return &descriptorpb.FileDescriptorProto{
		Name:       proto.String(echoFileName),
		Package:    proto.String("coldbench.test.v1"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/protobuf/timestamp.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("SayRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				field("text", 1, str, ""), field("seq", 2, i64, ""), field("sent", 3, msg, ".google.protobuf.Timestamp"),
			}},
			{Name: proto.String("SayReply"), Field: []*descriptorpb.FieldDescriptorProto{
				field("text", 1, str, ""), field("instance", 2, str, ""),
			}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("Echo"),
			Method: []*descriptorpb.MethodDescriptorProto{
				{Name: proto.String("Say"), InputType: proto.String(".coldbench.test.v1.SayRequest"), OutputType: proto.String(".coldbench.test.v1.SayReply")},
				{Name: proto.String("Chat"), InputType: proto.String(".coldbench.test.v1.SayRequest"), OutputType: proto.String(".coldbench.test.v1.SayReply"),
					ClientStreaming: proto.Bool(true), ServerStreaming: proto.Bool(true)},
			},
		}},
	}
}

// echoFiles is a registry with the echo file and its import, for the
// server's reflection service and its dynamic messages.
func echoFiles(t testing.TB) *protoregistry.Files {
	t.Helper()
	files := new(protoregistry.Files)
	if err := files.RegisterFile(timestamppb.File_google_protobuf_timestamp_proto); err != nil {
		t.Fatal(err)
	}
	fd, err := protodesc.NewFile(echoFileProto(), files)
	if err != nil {
		t.Fatal(err)
	}
	if err := files.RegisterFile(fd); err != nil {
		t.Fatal(err)
	}
	return files
}

// writeDescriptorSet writes what protoc --descriptor_set_out
// --include_imports would write for the echo file.
func writeDescriptorSet(t *testing.T) string {
	t.Helper()
	ts := protodesc.ToFileDescriptorProto(timestamppb.File_google_protobuf_timestamp_proto)
	return writeSet(t, ts, echoFileProto())
}

// writeSet writes a FileDescriptorSet file of files.
func writeSet(t *testing.T, files ...*descriptorpb.FileDescriptorProto) string {
	t.Helper()
	data, err := proto.Marshal(&descriptorpb.FileDescriptorSet{File: files})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "echo.protoset")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// reflectionMode says which reflection services a test server offers.
type reflectionMode int

const (
	reflectBoth    reflectionMode = iota // v1 and v1alpha, like reflection.Register
	reflectV1Alpha                       // only v1alpha, like older servers
	reflectNone                          // none: a descriptor set is needed
)

// echoServer is a real gRPC server on 127.0.0.1:0 serving Echo/Say with a
// handler built on dynamicpb. Its first call is a cold start: it answers
// with x-cold-start: true, later calls with false; every answer carries
// x-instance-id in its trailer. A request text "code:N" makes it answer
// status code N; "sleep" makes it wait for the call's deadline.
type echoServer struct {
	addr          string
	srv           *grpc.Server
	in, out       protoreflect.MessageDescriptor
	calls         atomic.Int64
	mu            sync.Mutex
	seqs          map[int64]int  // request seq → times seen
	texts         map[string]int // request text → times seen
	ids           map[string]int // x-request-id → times seen
	lastMD        metadata.MD
	sentTimestamp bool // a request carried a sent timestamp
}

func startEcho(t *testing.T, mode reflectionMode, opts ...grpc.ServerOption) *echoServer {
	t.Helper()
	files := echoFiles(t)
	in, err := files.FindDescriptorByName("coldbench.test.v1.SayRequest")
	if err != nil {
		t.Fatal(err)
	}
	out, err := files.FindDescriptorByName("coldbench.test.v1.SayReply")
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{
		addr: lis.Addr().String(),
		srv:  grpc.NewServer(opts...),
		in:   in.(protoreflect.MessageDescriptor),
		out:  out.(protoreflect.MessageDescriptor),
		seqs: map[int64]int{}, texts: map[string]int{}, ids: map[string]int{},
	}
	e.srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: echoService,
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Say", Handler: e.say}},
		Metadata:    echoFileName,
	}, e)
	ropts := reflection.ServerOptions{Services: e.srv, DescriptorResolver: files}
	switch mode {
	case reflectBoth:
		reflectionv1.RegisterServerReflectionServer(e.srv, reflection.NewServerV1(ropts))
		reflectionv1alpha.RegisterServerReflectionServer(e.srv, reflection.NewServer(ropts))
	case reflectV1Alpha:
		reflectionv1alpha.RegisterServerReflectionServer(e.srv, reflection.NewServer(ropts))
	}
	go e.srv.Serve(lis) //nolint:errcheck // ends with Stop
	t.Cleanup(e.srv.Stop)
	return e
}

// say is the Echo/Say handler, in the shape protoc-gen-go-grpc generates.
func (e *echoServer) say(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	req := dynamicpb.NewMessage(e.in)
	if err := dec(req); err != nil {
		return nil, err
	}
	n := e.calls.Add(1)
	fields := e.in.Fields()
	text := req.Get(fields.ByName("text")).String()
	md, _ := metadata.FromIncomingContext(ctx)
	e.mu.Lock()
	e.seqs[req.Get(fields.ByName("seq")).Int()]++
	e.texts[text]++
	for _, id := range md.Get("x-request-id") {
		e.ids[id]++
	}
	e.lastMD = md
	if req.Has(fields.ByName("sent")) {
		e.sentTimestamp = true
	}
	e.mu.Unlock()

	grpc.SetHeader(ctx, metadata.Pairs("x-cold-start", strconv.FormatBool(n == 1))) //nolint:errcheck // cannot fail before the answer
	grpc.SetTrailer(ctx, metadata.Pairs("x-instance-id", "instance-1"))             //nolint:errcheck

	if s, ok := strings.CutPrefix(text, "code:"); ok {
		if c, err := strconv.Atoi(s); err == nil && c != 0 {
			return nil, status.Errorf(codes.Code(c), "asked for %s", codes.Code(c))
		}
	}
	if text == "sleep" {
		select {
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-time.After(10 * time.Second):
		}
	}
	reply := dynamicpb.NewMessage(e.out)
	reply.Set(e.out.Fields().ByName("text"), protoreflect.ValueOfString(text))
	reply.Set(e.out.Fields().ByName("instance"), protoreflect.ValueOfString("instance-1"))
	return reply, nil
}

// seen returns copies of what the server recorded.
func (e *echoServer) seen() (seqs map[int64]int, texts, ids map[string]int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.seqs), maps.Clone(e.texts), maps.Clone(e.ids)
}
