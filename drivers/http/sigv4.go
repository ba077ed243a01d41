package http

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/coldbench/coldbench/drivers"
)

// SigV4Config asks for every request to be signed with AWS Signature
// Version 4, as Lambda function URLs with AWS_IAM auth (and API Gateway
// routes with IAM authorization) require. Credentials come from the AWS
// SDK's default chain: environment, shared config and credentials files
// (AWS_PROFILE), SSO, web identity, container and instance roles.
type SigV4Config struct {
	// Region to sign for. Empty: the region in a function URL's host
	// (https://ID.lambda-url.REGION.on.aws/), else the SDK's (AWS_REGION,
	// the profile's region).
	Region string `yaml:"region"`
	// Service to sign for: "lambda" (the default) for function URLs,
	// "execute-api" for API Gateway.
	Service string `yaml:"service"`

	// Credentials, when set, replace the default chain (for tests and
	// programs that embed coldbench).
	Credentials aws.CredentialsProvider `yaml:"-"`
}

// validate checks what can be checked before the credentials are loaded.
func (s *SigV4Config) validate() error {
	if s == nil {
		return nil
	}
	if strings.ContainsAny(s.Service, " /\t") {
		return &drivers.FieldError{Field: "sigv4.service", Msg: fmt.Sprintf("%q is not an AWS service name", s.Service)}
	}
	if strings.ContainsAny(s.Region, " /\t") {
		return &drivers.FieldError{Field: "sigv4.region", Msg: fmt.Sprintf("%q is not an AWS region", s.Region)}
	}
	return nil
}

// signer signs requests with SigV4. Only a driver with a sigv4: block has
// one; without it the request path does not change.
type signer struct {
	v4              *v4.Signer
	creds           aws.CredentialsProvider // cached by the SDK: Retrieve is cheap once loaded
	region, service string
	staticHash      string // the payload hash of a static body, computed once
}

// newSigner loads the AWS configuration for cfg's sigv4 block. Nothing is
// fetched yet: credentials are resolved on the first request.
func newSigner(cfg *Config) (*signer, error) {
	sc := cfg.SigV4
	var opts []func(*config.LoadOptions) error
	region := cmp.Or(sc.Region, regionFromURL(cfg.URL))
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if sc.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(sc.Credentials))
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("sigv4: load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, &drivers.FieldError{Field: "sigv4.region", Msg: "is needed: the URL names none and neither does AWS_REGION or the profile"}
	}
	if awsCfg.Credentials == nil {
		return nil, fmt.Errorf("sigv4: no AWS credentials provider")
	}
	return &signer{
		v4:         v4.NewSigner(),
		creds:      awsCfg.Credentials,
		region:     awsCfg.Region,
		service:    cmp.Or(sc.Service, "lambda"),
		staticHash: payloadHash([]byte(cfg.Body)),
	}, nil
}

// sign signs req, whose body is payload, at the current time. The payload
// hash is also sent as X-Amz-Content-Sha256, which function URLs want for
// requests with a body. static says the payload is the driver's static
// body, whose hash is known.
func (s *signer) sign(req *http.Request, payload []byte, static bool) error {
	hash := s.staticHash
	if !static {
		hash = payloadHash(payload)
	}
	creds, err := s.creds.Retrieve(req.Context())
	if err != nil {
		return fmt.Errorf("sigv4: credentials: %w", err)
	}
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := s.v4.SignHTTP(req.Context(), creds, req, hash, s.service, s.region, time.Now()); err != nil {
		return fmt.Errorf("sigv4: %w", err)
	}
	return nil
}

func payloadHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// regionFromURL reads the region of a Lambda function URL,
// https://ID.lambda-url.REGION.on.aws/; "" for any other URL.
func regionFromURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	labels := strings.Split(u.Hostname(), ".")
	if n := len(labels); n == 5 && labels[1] == "lambda-url" && labels[3] == "on" && labels[4] == "aws" {
		return labels[2]
	}
	return ""
}
