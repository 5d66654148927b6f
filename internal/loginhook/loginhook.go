// Package loginhook signs and verifies the identity system's login callback.
// The header is X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
// keyed with the shared login-hook secret. Several v1 entries may be sent
// while the secret is being rotated; unknown schemes are ignored.
package loginhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
)

// HeaderName is the request header that carries the signature.
const HeaderName = "X-Signature"

// Limits on what ParseHeader accepts.
const (
	// MaxHeaderLen bounds the header before it is split.
	MaxHeaderLen = 512
	// MaxSignatures bounds the v1 entries of one header.
	MaxSignatures = 4
	// Tolerance is how far the timestamp may be from the clock, either way.
	Tolerance = 5 * time.Minute
)

// Errors returned by ParseHeader and Verify.
var (
	ErrMalformed = domain.New(domain.Invalid, "MalformedSignature", "the X-Signature header is malformed: want t=<unix seconds>,v1=<hex HMAC-SHA256>")
	ErrStale     = domain.New(domain.Forbidden, "StaleSignature", "the signature timestamp is more than 5 minutes from the server's clock")
	ErrSignature = domain.New(domain.Forbidden, "BadSignature", "the signature does not match the body")
)

// Header is a parsed X-Signature header.
type Header struct {
	Timestamp  int64
	Signatures [][]byte // each a 32-byte HMAC-SHA256
}

// ParseHeader parses an X-Signature header. It checks the form only.
func ParseHeader(h string) (Header, error) {
	if h == "" || len(h) > MaxHeaderLen {
		return Header{}, ErrMalformed
	}
	var out Header
	seenT := false
	for part := range strings.SplitSeq(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Header{}, ErrMalformed
		}
		switch k {
		case "t":
			ts, ok := parseTimestamp(v)
			if !ok || seenT {
				return Header{}, ErrMalformed
			}
			out.Timestamp, seenT = ts, true
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size || len(out.Signatures) == MaxSignatures {
				return Header{}, ErrMalformed
			}
			out.Signatures = append(out.Signatures, sig)
		default:
			// Another scheme (a future v2): ignored, as long as it looks like one.
			if k == "" {
				return Header{}, ErrMalformed
			}
		}
	}
	if !seenT || len(out.Signatures) == 0 {
		return Header{}, ErrMalformed
	}
	return out, nil
}

// parseTimestamp accepts plain decimal digits only: no sign, no spaces, no
// leading zeros, at most 12 digits (far beyond any real clock).
func parseTimestamp(v string) (int64, bool) {
	if v == "" || len(v) > 12 || (len(v) > 1 && v[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	ts, err := strconv.ParseInt(v, 10, 64)
	return ts, err == nil
}

// String formats the header as a client sends it.
func (h Header) String() string {
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(strconv.FormatInt(h.Timestamp, 10))
	for _, s := range h.Signatures {
		b.WriteString(",v1=")
		b.WriteString(hex.EncodeToString(s))
	}
	return b.String()
}

// Sign returns the X-Signature header value for a body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := t.Unix()
	return Header{Timestamp: ts, Signatures: [][]byte{mac(secret, ts, body)}}.String()
}

// Verify checks a header against the body in constant time and the
// timestamp against now. It returns the matching signature in hex, the key
// under which a replay is recognised.
func Verify(secret []byte, header string, body []byte, now time.Time) (string, error) {
	h, err := ParseHeader(header)
	if err != nil {
		return "", err
	}
	want := mac(secret, h.Timestamp, body)
	match := -1
	for i, sig := range h.Signatures {
		// Compare every entry so that the time taken does not say which matched.
		if hmac.Equal(sig, want) && match < 0 {
			match = i
		}
	}
	if match < 0 {
		return "", ErrSignature
	}
	// The timestamp is checked after the signature: an unsigned one says nothing.
	if d := now.Sub(time.Unix(h.Timestamp, 0)); d > Tolerance || d < -Tolerance {
		return "", ErrStale
	}
	return hex.EncodeToString(h.Signatures[match]), nil
}

func mac(secret []byte, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
