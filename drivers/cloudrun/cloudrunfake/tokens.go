package cloudrunfake

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// issueToken is the OAuth 2.0 token endpoint for service accounts (RFC 7523
// JWT bearer grant): it verifies the assertion's RS256 signature with the
// service account's key and its claims, then issues an identity token
// when the assertion asks for one (target_audience) and an access token
// otherwise.
func (f *Fake) issueToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthError(w, "unsupported_grant_type", "Invalid grant_type")
		return
	}
	claims, err := f.verify(r.PostForm.Get("assertion"))
	if err != nil {
		oauthError(w, "invalid_grant", err.Error())
		return
	}
	if claims.Iss != clientEmail || claims.Aud != f.URL+"/token" || time.Unix(claims.Exp, 0).Before(time.Now()) {
		oauthError(w, "invalid_grant", "Invalid JWT: iss, aud or exp")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	exp := time.Now().Add(f.opts.TokenLifetime)
	if claims.TargetAudience != "" {
		id := f.sign(map[string]any{
			"iss": "https://accounts.google.com", "aud": claims.TargetAudience, "azp": clientEmail,
			"email": clientEmail, "sub": "100000000000000000001", "iat": time.Now().Unix(), "exp": exp.Unix(),
			"jti": fmt.Sprint(f.nextID),
		})
		f.tokens[id] = token{id: true, audience: claims.TargetAudience, expiry: exp}
		writeJSON(w, map[string]any{"id_token": id})
		return
	}
	if !strings.Contains(claims.Scope, "https://www.googleapis.com/auth/cloud-platform") {
		oauthError(w, "invalid_scope", "The cloud-platform scope is required")
		return
	}
	at := fmt.Sprintf("ya29.fake-%d", f.nextID)
	f.tokens[at] = token{expiry: exp}
	writeJSON(w, map[string]any{"access_token": at, "expires_in": int(f.opts.TokenLifetime.Seconds()), "token_type": "Bearer"})
}

// assertion is the claims of a service account's JWT assertion.
type assertion struct {
	Iss            string `json:"iss"`
	Aud            string `json:"aud"`
	Scope          string `json:"scope"`
	TargetAudience string `json:"target_audience"`
	Exp            int64  `json:"exp"`
}

// verify checks a compact JWS signed RS256 with the fake's key.
func (f *Fake) verify(jws string) (*assertion, error) {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("Invalid JWT: not a compact JWS")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodePart(parts[0], &header); err != nil || header.Alg != "RS256" {
		return nil, fmt.Errorf("Invalid JWT: header (alg %q)", header.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("Invalid JWT: signature encoding")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&f.key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return nil, fmt.Errorf("Invalid JWT Signature.")
	}
	var c assertion
	if err := decodePart(parts[1], &c); err != nil {
		return nil, fmt.Errorf("Invalid JWT: claims")
	}
	return &c, nil
}

// sign makes a compact JWS of claims, RS256.
func (f *Fake) sign(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "fake-key-1"})
	c, _ := json.Marshal(claims)
	msg := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(msg))
	sig, _ := rsa.SignPKCS1v15(nil, f.key, crypto.SHA256, sum[:])
	return msg + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func decodePart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func oauthError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}
