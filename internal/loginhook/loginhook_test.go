package loginhook

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

var secret = []byte("test-login-hook-secret-0123456789abcdef")

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"token":"abc"}`)
	good := Sign(secret, now, body)
	goodSig := good[strings.Index(good, "v1=")+3:]
	other := Sign([]byte("another-secret-of-sufficient-length-000"), now, body)
	tests := []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", good, body, now, nil},
		{"valid at the edge of the window", good, body, now.Add(Tolerance), nil},
		{"valid from a clock slightly ahead", good, body, now.Add(-Tolerance), nil},
		{"rotation: second entry matches", other + ",v1=" + goodSig, body, now, nil},
		{"unknown scheme ignored", good + ",v2=zzz", body, now, nil},
		{"spaces around entries", strings.ReplaceAll(good, ",", " , "), body, now, nil},
		{"stale", good, body, now.Add(Tolerance + time.Second), ErrStale},
		{"from the future", good, body, now.Add(-Tolerance - time.Second), ErrStale},
		{"body changed", good, []byte(`{"token":"abd"}`), now, ErrSignature},
		{"wrong secret", other, body, now, ErrSignature},
		{"timestamp changed", "t=1800000001,v1=" + goodSig, body, now, ErrSignature},
		{"empty", "", body, now, ErrMalformed},
		{"no timestamp", "v1=" + goodSig, body, now, ErrMalformed},
		{"no signature", "t=1800000000", body, now, ErrMalformed},
		{"two timestamps", "t=1800000000," + good, body, now, ErrMalformed},
		{"signed timestamp", "t=+1800000000," + "v1=" + goodSig, body, now, ErrMalformed},
		{"short signature", "t=1800000000,v1=abcd", body, now, ErrMalformed},
		{"not hex", "t=1800000000,v1=" + strings.Repeat("zz", 32), body, now, ErrMalformed},
		{"no equals", "t1800000000,v1", body, now, ErrMalformed},
		{"too long", good + strings.Repeat(",x=y", 200), body, now, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := Verify(secret, tt.header, tt.body, tt.now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify(%q) = %v, want %v", tt.header, err, tt.want)
			}
			if err == nil && sig != goodSig {
				t.Errorf("signature key %q, want the matching v1 entry", sig)
			}
		})
	}
}

func FuzzParseHeader(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add(Sign(secret, now, []byte(`{"token":"x"}`)))
	f.Add("t=1,v1=" + strings.Repeat("00", 32))
	f.Add("t=1800000000,v1=" + strings.Repeat("ab", 32) + ",v1=" + strings.Repeat("cd", 32))
	f.Add("t=,v1=")
	f.Add("t=01,v1=" + strings.Repeat("ab", 32))
	f.Add("t=-5,v1=" + strings.Repeat("ab", 32))
	f.Add(",,,")
	f.Add("v1=" + strings.Repeat("AB", 32) + ", t=99 ,v0=x")
	f.Add("t=999999999999,v1=" + strings.Repeat("ab", 32))
	f.Fuzz(func(t *testing.T, h string) {
		p, err := ParseHeader(h)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseHeader(%q) = %v, want ErrMalformed", h, err)
			}
			return
		}
		// Whatever is accepted has a timestamp and well-formed signatures, and
		// survives formatting and parsing again unchanged.
		if p.Timestamp < 0 || len(p.Signatures) == 0 || len(p.Signatures) > MaxSignatures {
			t.Fatalf("ParseHeader(%q) accepted %+v", h, p)
		}
		again, err := ParseHeader(p.String())
		if err != nil {
			t.Fatalf("ParseHeader(%q) = %v after round trip of %q", p.String(), err, h)
		}
		if again.Timestamp != p.Timestamp || len(again.Signatures) != len(p.Signatures) {
			t.Fatalf("round trip changed %+v into %+v", p, again)
		}
		for i := range p.Signatures {
			if !bytes.Equal(p.Signatures[i], again.Signatures[i]) {
				t.Fatalf("round trip changed signature %d: %x != %x", i, p.Signatures[i], again.Signatures[i])
			}
		}
		// A header nobody signed with our secret never verifies.
		if _, err := Verify(secret, h, []byte("fuzz"), time.Unix(p.Timestamp, 0)); !errors.Is(err, ErrSignature) {
			for _, s := range p.Signatures {
				if hex.EncodeToString(s) == hex.EncodeToString(mac(secret, p.Timestamp, []byte("fuzz"))) {
					return // the fuzzer found the real signature: fine
				}
			}
			t.Fatalf("Verify accepted an unsigned header %q: %v", h, err)
		}
	})
}

func FuzzSignVerify(f *testing.F) {
	f.Add(int64(1_800_000_000), []byte(`{"token":"abc"}`))
	f.Add(int64(0), []byte{})
	f.Add(int64(99_999_999_999), []byte("\x00\xff,t=1,v1="))
	f.Fuzz(func(t *testing.T, ts int64, body []byte) {
		// Keep to the timestamps a clock gives.
		ts %= 100_000_000_000
		if ts < 0 {
			ts = -ts
		}
		at := time.Unix(ts, 0)
		h := Sign(secret, at, body)
		if _, err := Verify(secret, h, body, at); err != nil {
			t.Fatalf("Verify(Sign(%d, %q)) = %v", ts, body, err)
		}
		if _, err := Verify(secret, h, append(append([]byte{}, body...), 'x'), at); !errors.Is(err, ErrSignature) {
			t.Fatalf("Verify accepted a changed body: %v", err)
		}
	})
}
