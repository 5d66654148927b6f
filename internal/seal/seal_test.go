package seal

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealRoundTripAndTamper(t *testing.T) {
	s, err := New([]byte("secret-secret-secret-secret-secret"))
	require.NoError(t, err)
	type pii struct{ Email string }
	sealed, err := s.Seal(pii{"ann@acme.example"})
	require.NoError(t, err)
	require.NotContains(t, sealed, "ann", "nothing readable is left")
	var got pii
	require.NoError(t, s.Open(sealed, &got))
	require.Equal(t, "ann@acme.example", got.Email)

	again, err := s.Seal(pii{"ann@acme.example"})
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a fresh nonce each time")

	other, err := New([]byte("another-secret-another-secret-xx"))
	require.NoError(t, err)
	require.ErrorIs(t, other.Open(sealed, &got), ErrOpen)
	i := len(sealed) - 5
	c := byte('A')
	if sealed[i] == 'A' {
		c = 'B'
	}
	flipped := sealed[:i] + string(c) + sealed[i+1:]
	require.ErrorIs(t, s.Open(flipped, &got), ErrOpen)
	require.ErrorIs(t, s.Open("plain text", &got), ErrOpen)
}
