package links

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

var secret = []byte("links-test-secret-0123456789abcdef-xyz")

func TestTokenRoundTrip(t *testing.T) {
	s := NewSigner(secret)
	id := "0b6d3c1e-6f0a-4b43-9a57-2f1f3f6a9c11"
	deadline := time.Date(2030, 5, 17, 10, 11, 12, 999, time.UTC)
	tok, err := s.Token(id, deadline)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != TokenLen {
		t.Errorf("token length %d, want %d", len(tok), TokenLen)
	}
	c, err := s.Parse(tok)
	if err != nil {
		t.Fatalf("Parse(Token) = %v", err)
	}
	if c.SubaccountID != id || !c.Deadline.Equal(deadline.Truncate(time.Second)) {
		t.Errorf("claims %+v, want %s and %s", c, id, deadline.Truncate(time.Second))
	}
	u, err := url.Parse(URL("https://onboarding.example", tok))
	if err != nil || u.Query().Get("token") != tok || u.Path != "/confirm" {
		t.Errorf("URL does not carry the token: %v %v", u, err)
	}
}

func TestParseRejects(t *testing.T) {
	s := NewSigner(secret)
	tok, err := s.Token("0b6d3c1e-6f0a-4b43-9a57-2f1f3f6a9c11", time.Unix(1_900_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(b)
	}
	other, _ := NewSigner([]byte("another-secret-0123456789abcdef-xyz")).Token("0b6d3c1e-6f0a-4b43-9a57-2f1f3f6a9c11", time.Unix(1_900_000_000, 0))
	tests := []struct {
		name, token string
		want        error
	}{
		{"empty", "", ErrMalformed},
		{"truncated", tok[:len(tok)-1], ErrMalformed},
		{"extended", tok + "A", ErrMalformed},
		{"not base64url", strings.Repeat("*", TokenLen), ErrMalformed},
		{"padded", tok + "==", ErrMalformed},
		{"too long", strings.Repeat("A", MaxTokenLen+1), ErrMalformed},
		{"wrong version", flip(0), ErrMalformed},
		{"subaccount bit flipped", flip(5), ErrForged},
		{"deadline bit flipped", flip(24), ErrForged},
		{"mac bit flipped", flip(40), ErrForged},
		{"other secret", other, ErrForged},
		// Found by FuzzParse: the decoder alone skips CR and LF, so one token
		// had many spellings.
		{"carriage return inside", tok[:20] + "\r" + tok[20:], ErrMalformed},
		{"newline at the end", tok + "\n", ErrMalformed},
		{"space inside", tok[:20] + " " + tok[20:], ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Parse(tt.token); !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := s.Token("not-a-uuid", time.Now()); err == nil {
		t.Error("Token accepted a subaccount id that is not a uuid")
	}
}
