// Package seal encrypts the personal data that must travel through workflow
// histories (a customer's email and contact), so that histories, the Web UI
// and logs never show it in clear.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

const prefix = "sealed.v1."

// ErrOpen means a sealed value was not made with this key or was altered.
var ErrOpen = errors.New("sealed value cannot be opened with this key")

// Sealer encrypts and decrypts with AES-256-GCM under a key derived from the
// server secret.
type Sealer struct {
	aead cipher.AEAD
}

// New derives the sealing key from the server secret.
func New(secret []byte) (*Sealer, error) {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("onboarding seal key v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts v (as JSON) into an opaque string.
func (s *Sealer) Seal(v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, plain, []byte(prefix))
	return prefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a string made by Seal into v.
func (s *Sealer) Open(sealed string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sealed, prefix))
	if err != nil || !strings.HasPrefix(sealed, prefix) || len(raw) < s.aead.NonceSize() {
		return ErrOpen
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(prefix))
	if err != nil {
		return ErrOpen
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	return nil
}
