package grpcdriver

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestBuildFiles covers the ways a dependency is found: among the files
// given (in any order), fetched (as reflection does for a file the server
// did not send along), or linked into coldbench.
func TestBuildFiles(t *testing.T) {
	ts := protodesc.ToFileDescriptorProto(timestamppb.File_google_protobuf_timestamp_proto)
	ts.Name = proto.String("acme/time.proto") // not the linked-in file: must be found
	ts.Package = proto.String("acme")
	app := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("acme/app.proto"),
		Package:    proto.String("acme.app"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"acme/time.proto", "google/protobuf/empty.proto"},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("App"),
			Method: []*descriptorpb.MethodDescriptorProto{{
				Name: proto.String("Ping"), InputType: proto.String(".acme.Timestamp"), OutputType: proto.String(".google.protobuf.Empty"),
			}},
		}},
	}
	fetched := 0
	fetch := func(name string) ([]*descriptorpb.FileDescriptorProto, error) {
		fetched++
		if name == "acme/time.proto" {
			return []*descriptorpb.FileDescriptorProto{ts}, nil
		}
		return nil, errors.New("not found")
	}
	tests := []struct {
		name    string
		protos  []*descriptorpb.FileDescriptorProto
		fetch   func(string) ([]*descriptorpb.FileDescriptorProto, error)
		fetches int
		wantErr string
	}{
		{"dependency first", []*descriptorpb.FileDescriptorProto{ts, app}, nil, 0, ""},
		{"dependency last", []*descriptorpb.FileDescriptorProto{app, ts}, nil, 0, ""},
		{"dependency fetched", []*descriptorpb.FileDescriptorProto{app}, fetch, 2, ""}, // empty.proto asked for, then linked in
		{"dependency missing", []*descriptorpb.FileDescriptorProto{app}, nil, 0, "acme/time.proto is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fetched = 0
			files, err := buildFiles(tt.protos, tt.fetch)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("buildFiles = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := files.FindDescriptorByName("acme.app.App"); err != nil {
				t.Error(err)
			}
			if fetched != tt.fetches {
				t.Errorf("fetched %d files, want %d", fetched, tt.fetches)
			}
		})
	}
}

func TestSplitMethod(t *testing.T) {
	for _, m := range []string{"pkg.Svc/M", "/pkg.Svc/M"} {
		if s, n, err := splitMethod(m); err != nil || s != "pkg.Svc" || n != "M" {
			t.Errorf("splitMethod(%q) = %q, %q, %v", m, s, n, err)
		}
	}
	for _, m := range []string{"", "/", "pkg.Svc/", "/M", "pkg.Svc/M/N", "pkg Svc/M"} {
		if _, _, err := splitMethod(m); err == nil {
			t.Errorf("splitMethod(%q) succeeded", m)
		}
	}
}
