package grpcdriver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	// The well-known types, linked in for files that import them.
	_ "google.golang.org/protobuf/types/known/anypb"
	_ "google.golang.org/protobuf/types/known/apipb"
	_ "google.golang.org/protobuf/types/known/durationpb"
	_ "google.golang.org/protobuf/types/known/emptypb"
	_ "google.golang.org/protobuf/types/known/fieldmaskpb"
	_ "google.golang.org/protobuf/types/known/sourcecontextpb"
	_ "google.golang.org/protobuf/types/known/structpb"
	_ "google.golang.org/protobuf/types/known/timestamppb"
	_ "google.golang.org/protobuf/types/known/typepb"
	_ "google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/coldbench/coldbench/drivers"
)

// method is a unary method resolved at Open.
type method struct {
	path  string // "/package.Service/Method", as Invoke wants it
	desc  protoreflect.MethodDescriptor
	types *dynamicpb.Types // the message types of the method's files, for Any in request JSON
}

// resolve finds the configured method in the descriptor set, or else by
// server reflection over conn.
func resolve(ctx context.Context, cfg *Config, conn grpc.ClientConnInterface) (*method, error) {
	service, name, err := splitMethod(cfg.Method)
	if err != nil {
		return nil, &drivers.FieldError{Field: "method", Msg: err.Error()}
	}
	var files *protoregistry.Files
	var where string
	if cfg.DescriptorSet != "" {
		where = "descriptor_set " + cfg.DescriptorSet
		if files, err = loadDescriptorSet(cfg.DescriptorSet); err != nil {
			return nil, &drivers.FieldError{Field: "descriptor_set", Msg: err.Error()}
		}
	} else {
		where = "the server's reflection service"
		if files, err = reflectFiles(ctx, conn, service); err != nil {
			var fe *drivers.FieldError
			if errors.As(err, &fe) {
				return nil, err
			}
			return nil, fmt.Errorf("resolve %s by server reflection at %s: %w", cfg.Method, cfg.Address, err)
		}
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil, methodError("service %s is not in %s (services: %s)", service, where, listServices(files))
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, methodError("%s is not a service (services: %s)", service, listServices(files))
	}
	md := sd.Methods().ByName(protoreflect.Name(name))
	if md == nil {
		var names []string
		for i := range sd.Methods().Len() {
			names = append(names, string(sd.Methods().Get(i).Name()))
		}
		return nil, methodError("service %s has no method %s (methods: %s)", service, name, strings.Join(names, ", "))
	}
	if md.IsStreamingClient() || md.IsStreamingServer() {
		return nil, methodError("%s/%s is a streaming method; the grpc driver calls unary methods only", service, name)
	}
	return &method{path: "/" + service + "/" + name, desc: md, types: dynamicpb.NewTypes(files)}, nil
}

// methodError is a method that cannot be called, reported at the method
// setting: "method: service X has no method Y (methods: ...)".
func methodError(format string, args ...any) error {
	return &drivers.FieldError{Field: "method", Msg: fmt.Sprintf(format, args...)}
}

func listServices(files *protoregistry.Files) string {
	var names []string
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			names = append(names, string(fd.Services().Get(i).FullName()))
		}
		return true
	})
	if len(names) == 0 {
		return "none"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// loadDescriptorSet reads a FileDescriptorSet file.
func loadDescriptorSet(path string) (*protoregistry.Files, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("%s is not a FileDescriptorSet: %w", path, err)
	}
	if len(set.File) == 0 {
		return nil, fmt.Errorf("%s holds no files", path)
	}
	files, err := buildFiles(set.File, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (was it made with --include_imports?)", path, err)
	}
	return files, nil
}

// buildFiles turns file descriptor protos into a registry, dependencies
// first. A dependency not among protos is asked of fetch (when not nil),
// else taken from the files linked into coldbench: the well-known types
// (imported above for that), so that a descriptor set made without
// --include_imports still works when it imports only those.
func buildFiles(protos []*descriptorpb.FileDescriptorProto, fetch func(name string) ([]*descriptorpb.FileDescriptorProto, error)) (*protoregistry.Files, error) {
	byName := map[string]*descriptorpb.FileDescriptorProto{}
	for _, fdp := range protos {
		byName[fdp.GetName()] = fdp
	}
	files := new(protoregistry.Files)
	visiting := map[string]bool{}
	var add func(name string) error
	add = func(name string) error {
		if _, err := files.FindFileByPath(name); err == nil {
			return nil
		}
		fdp, ok := byName[name]
		var fetchErr error
		if !ok && fetch != nil {
			var more []*descriptorpb.FileDescriptorProto
			more, fetchErr = fetch(name)
			for _, m := range more {
				if _, seen := byName[m.GetName()]; !seen {
					byName[m.GetName()] = m
				}
			}
			fdp, ok = byName[name]
		}
		if !ok {
			if fd, err := protoregistry.GlobalFiles.FindFileByPath(name); err == nil {
				return files.RegisterFile(fd)
			}
			if fetchErr != nil {
				return fmt.Errorf("file %s: %w", name, fetchErr)
			}
			return fmt.Errorf("file %s is missing", name)
		}
		if visiting[name] {
			return fmt.Errorf("file %s imports itself", name)
		}
		visiting[name] = true
		for _, dep := range fdp.GetDependency() {
			if err := add(dep); err != nil {
				return err
			}
		}
		fd, err := protodesc.NewFile(fdp, files)
		if err != nil {
			return fmt.Errorf("file %s: %w", name, err)
		}
		return files.RegisterFile(fd)
	}
	for _, fdp := range protos {
		if err := add(fdp.GetName()); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// The reflection service's stream, in both versions. v1alpha is v1 under
// another package name, with the same messages field for field, so the v1
// messages serve both.
const (
	reflectionV1      = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
	reflectionV1Alpha = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
)

// reflectFiles asks the server for the file that defines service and the
// files it imports, by reflection v1, or v1alpha on a server without v1.
func reflectFiles(ctx context.Context, conn grpc.ClientConnInterface, service string) (*protoregistry.Files, error) {
	files, err := reflectWith(ctx, conn, reflectionV1, service)
	if status.Code(err) == codes.Unimplemented {
		files, err = reflectWith(ctx, conn, reflectionV1Alpha, service)
		if status.Code(err) == codes.Unimplemented {
			return nil, errors.New("the server does not offer reflection (grpc.reflection.v1 or v1alpha); give a descriptor_set")
		}
	}
	return files, err
}

func reflectWith(ctx context.Context, conn grpc.ClientConnInterface, path, service string) (*protoregistry.Files, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream
	desc := &grpc.StreamDesc{StreamName: "ServerReflectionInfo", ClientStreams: true, ServerStreams: true}
	stream, err := conn.NewStream(ctx, desc, path)
	if err != nil {
		return nil, err
	}
	r := &reflector{stream: stream}
	fdps, err := r.files(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: service},
	})
	var nf notFound
	if errors.As(err, &nf) {
		if names, lerr := r.services(); lerr == nil {
			return nil, methodError("the server has no service %s (services: %s)", service, strings.Join(names, ", "))
		}
		return nil, methodError("the server has no service %s: %v", service, err)
	}
	if err != nil {
		return nil, err
	}
	return buildFiles(fdps, func(name string) ([]*descriptorpb.FileDescriptorProto, error) {
		return r.files(&reflectionpb.ServerReflectionRequest{
			MessageRequest: &reflectionpb.ServerReflectionRequest_FileByFilename{FileByFilename: name},
		})
	})
}

// reflector asks questions on one reflection stream, one at a time.
type reflector struct {
	stream grpc.ClientStream
}

// notFound is the reflection service's answer for an unknown symbol.
type notFound string

func (e notFound) Error() string { return string(e) }

func (r *reflector) ask(q *reflectionpb.ServerReflectionRequest) (*reflectionpb.ServerReflectionResponse, error) {
	if err := r.stream.SendMsg(q); err != nil {
		if !errors.Is(err, io.EOF) {
			return nil, err
		}
		// The stream ended; RecvMsg has the status that ended it.
	}
	resp := new(reflectionpb.ServerReflectionResponse)
	if err := r.stream.RecvMsg(resp); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the reflection stream ended without an answer")
		}
		return nil, err
	}
	if e := resp.GetErrorResponse(); e != nil {
		if codes.Code(e.GetErrorCode()) == codes.NotFound {
			return nil, notFound(e.GetErrorMessage())
		}
		return nil, status.Error(codes.Code(e.GetErrorCode()), e.GetErrorMessage())
	}
	return resp, nil
}

// files asks for a file (by name or by a symbol it defines) and gets it
// with the files it imports that the stream has not sent before.
func (r *reflector) files(q *reflectionpb.ServerReflectionRequest) ([]*descriptorpb.FileDescriptorProto, error) {
	resp, err := r.ask(q)
	if err != nil {
		return nil, err
	}
	fr := resp.GetFileDescriptorResponse()
	if fr == nil {
		return nil, fmt.Errorf("the reflection service answered %T, want file descriptors", resp.GetMessageResponse())
	}
	var out []*descriptorpb.FileDescriptorProto
	for _, b := range fr.GetFileDescriptorProto() {
		fdp := new(descriptorpb.FileDescriptorProto)
		if err := proto.Unmarshal(b, fdp); err != nil {
			return nil, fmt.Errorf("the reflection service sent a bad file descriptor: %w", err)
		}
		out = append(out, fdp)
	}
	return out, nil
}

// services lists the services the server offers, for error messages.
func (r *reflector) services() ([]string, error) {
	resp, err := r.ask(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: "*"},
	})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		if !strings.HasPrefix(s.GetName(), "grpc.reflection.") {
			names = append(names, s.GetName())
		}
	}
	slices.Sort(names)
	return names, nil
}
