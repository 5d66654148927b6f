// Package links makes and checks confirmation links. A token carries the
// subaccount id and the deadline, signed with HMAC-SHA256 under a key derived
// from the server secret: it cannot be guessed or forged, it is bound to one
// subaccount, and nothing stored in Postgres, a workflow history or a log is
// enough to rebuild it. Whether it is still alive (not confirmed, cancelled or
// expired) is decided by the subaccount's status and the deadline.
package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/cloudpartners/onboarding/internal/domain"
)

// Errors returned by Parse.
var (
	ErrMalformed = domain.New(domain.Invalid, "MalformedLink", "the link is malformed")
	ErrForged    = domain.New(domain.NotFound, "UnknownLink", "the link was not issued by us")
)

const (
	version    = 1
	payloadLen = 1 + 16 + 8 // version, subaccount uuid, deadline (unix seconds)
	macLen     = 32
	// TokenLen is the length of an encoded token.
	TokenLen = (payloadLen + macLen) * 4 / 3
	// MaxTokenLen bounds what Parse reads before it decodes anything.
	MaxTokenLen = 128
)

// Signer makes and verifies tokens.
type Signer struct {
	key []byte
}

// NewSigner derives the link key from the server secret.
func NewSigner(secret []byte) *Signer {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("onboarding confirmation link key v1"))
	return &Signer{key: mac.Sum(nil)}
}

// Claims is what a valid token says.
type Claims struct {
	SubaccountID string
	Deadline     time.Time
}

// Token makes the token for a subaccount and its deadline.
func (s *Signer) Token(subaccountID string, deadline time.Time) (string, error) {
	id, err := uuid.Parse(subaccountID)
	if err != nil {
		return "", fmt.Errorf("link token: subaccount id: %w", err)
	}
	payload := make([]byte, 0, payloadLen+macLen)
	payload = append(payload, version)
	payload = append(payload, id[:]...)
	payload = binary.BigEndian.AppendUint64(payload, uint64(deadline.Unix()))
	return base64.RawURLEncoding.EncodeToString(append(payload, s.mac(payload)...)), nil
}

// URL is the confirmation page's address for a token.
func URL(baseURL, token string) string {
	return baseURL + "/confirm?token=" + url.QueryEscape(token)
}

// Parse verifies a token in constant time and returns its claims. It does not
// look at the clock: the caller compares Deadline with now.
func (s *Signer) Parse(token string) (Claims, error) {
	if len(token) == 0 || len(token) > MaxTokenLen {
		return Claims{}, ErrMalformed
	}
	// One token, one spelling: the decoder alone would skip CR and LF, so
	// that many strings would parse as the same token.
	for i := 0; i < len(token); i++ {
		if c := token[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return Claims{}, ErrMalformed
		}
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != payloadLen+macLen || raw[0] != version {
		return Claims{}, ErrMalformed
	}
	payload, sum := raw[:payloadLen], raw[payloadLen:]
	if !hmac.Equal(sum, s.mac(payload)) {
		return Claims{}, ErrForged
	}
	id, _ := uuid.FromBytes(payload[1:17])
	secs := int64(binary.BigEndian.Uint64(payload[17:]))
	return Claims{SubaccountID: id.String(), Deadline: time.Unix(secs, 0).UTC()}, nil
}

func (s *Signer) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(payload)
	return m.Sum(nil)
}
