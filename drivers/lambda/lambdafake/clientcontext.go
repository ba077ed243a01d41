package lambdafake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// maxClientContext is Lambda's limit on X-Amz-Client-Context: 3,583 bytes
// of base64.
const maxClientContext = 3583

// clientCustom reads the "custom" map of an X-Amz-Client-Context header
// value as Lambda checks it: base64 of a JSON object, within the limit.
func clientCustom(v string) (map[string]string, error) {
	if v == "" {
		return nil, nil
	}
	if len(v) > maxClientContext {
		return nil, fmt.Errorf("Client context is %d bytes; the limit is %d", len(v), maxClientContext)
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("Client context must be Base64 encoded: %v", err)
	}
	var cc struct {
		Custom map[string]string `json:"custom"`
	}
	if err := json.Unmarshal(b, &cc); err != nil {
		return nil, fmt.Errorf("Client context must be a JSON object: %v", err)
	}
	return cc.Custom, nil
}
