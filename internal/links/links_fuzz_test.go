package links

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

// FuzzParse feeds Parse arbitrary tokens: it never panics, it rejects with
// one of its two errors, and whatever it accepts is a token the signer would
// make again byte for byte.
func FuzzParse(f *testing.F) {
	s := NewSigner(secret)
	good, _ := s.Token("0b6d3c1e-6f0a-4b43-9a57-2f1f3f6a9c11", time.Unix(1_900_000_000, 0))
	f.Add(good)
	f.Add(good[:10])
	f.Add(good + good)
	f.Add("")
	f.Add("AQ")
	f.Add(base64.RawURLEncoding.EncodeToString(make([]byte, payloadLen+macLen)))
	f.Add("%00%ff")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := s.Parse(token)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrForged) {
				t.Fatalf("Parse(%q) = %v, want ErrMalformed or ErrForged", token, err)
			}
			return
		}
		again, err := s.Token(c.SubaccountID, c.Deadline)
		if err != nil {
			t.Fatalf("Parse(%q) accepted claims Token refuses: %v", token, err)
		}
		if again != token {
			t.Fatalf("Parse accepted %q but the signer makes %q for the same claims", token, again)
		}
	})
}

// FuzzTokenRoundTrip makes tokens from arbitrary ids and deadlines: each
// parses back to the same claims, and any single changed character is refused.
func FuzzTokenRoundTrip(f *testing.F) {
	s := NewSigner(secret)
	f.Add([]byte("0123456789abcdef"), int64(1_900_000_000), uint8(3))
	f.Add(make([]byte, 16), int64(0), uint8(0))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), int64(-1), uint8(200))
	f.Fuzz(func(t *testing.T, idBytes []byte, secs int64, pos uint8) {
		if len(idBytes) < 16 {
			idBytes = append(idBytes, make([]byte, 16-len(idBytes))...)
		}
		id := uuidString(idBytes[:16])
		deadline := time.Unix(secs, 0).UTC()
		tok, err := s.Token(id, deadline)
		if err != nil {
			t.Fatalf("Token(%s) = %v", id, err)
		}
		c, err := s.Parse(tok)
		if err != nil {
			t.Fatalf("Parse(Token(%s, %d)) = %v", id, secs, err)
		}
		if c.SubaccountID != id || c.Deadline.Unix() != secs {
			t.Fatalf("claims %+v, want %s and %d", c, id, secs)
		}
		// Change one character to another of the alphabet.
		i := int(pos) % len(tok)
		b := []byte(tok)
		b[i] = alphabetNext(b[i])
		changed := string(b)
		if _, err := s.Parse(changed); err == nil {
			t.Fatalf("Parse accepted %q, token %q with character %d changed", changed, tok, i)
		}
	})
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func alphabetNext(c byte) byte {
	for i := 0; i < len(alphabet); i++ {
		if alphabet[i] == c {
			return alphabet[(i+1)%len(alphabet)]
		}
	}
	return 'A'
}

func uuidString(b []byte) string {
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexdigits[x>>4], hexdigits[x&0xf])
	}
	return string(out)
}
