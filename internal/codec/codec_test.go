package codec

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

func key(id string, b byte) Key { return Key{ID: id, Secret: bytes.Repeat([]byte{b}, 32)} }

func TestRoundTripAndRotation(t *testing.T) {
	old, err := New([]Key{key("k1", 1)})
	require.NoError(t, err)
	dc := old.DataConverter()
	p, err := dc.ToPayload(map[string]string{"email": "owner@acme.example"})
	require.NoError(t, err)
	require.Equal(t, Encoding, string(p.Metadata[converter.MetadataEncoding]))
	require.Equal(t, "k1", string(p.Metadata[MetadataKeyID]))
	require.NotContains(t, string(p.Data), "owner@acme.example", "encrypted at rest")

	// k2 becomes primary; k1 stays to read what it wrote.
	rotated, err := New([]Key{key("k2", 2), key("k1", 1)})
	require.NoError(t, err)
	var got map[string]string
	require.NoError(t, rotated.DataConverter().FromPayload(p, &got))
	require.Equal(t, "owner@acme.example", got["email"])
	p2, err := rotated.DataConverter().ToPayload("new")
	require.NoError(t, err)
	require.Equal(t, "k2", string(p2.Metadata[MetadataKeyID]))

	// Without k1, what it wrote cannot be read, and says why.
	only2, err := New([]Key{key("k2", 2)})
	require.NoError(t, err)
	_, err = only2.Decode([]*commonpb.Payload{p})
	require.True(t, errors.Is(err, ErrUnknownKey), "%v", err)

	// Tampered or forged payloads are refused.
	bad := &commonpb.Payload{Metadata: p.Metadata, Data: append([]byte{}, p.Data...)}
	bad.Data[len(bad.Data)-1] ^= 1
	_, err = rotated.Decode([]*commonpb.Payload{bad})
	require.Error(t, err)
	_, err = rotated.Decode([]*commonpb.Payload{{Metadata: p.Metadata, Data: []byte{1, 2}}})
	require.Error(t, err)
}

func TestPlainPayloadsPassThrough(t *testing.T) {
	c, err := New([]Key{key("k1", 1)})
	require.NoError(t, err)
	plain, err := converter.GetDefaultDataConverter().ToPayload("written before encryption")
	require.NoError(t, err)
	out, err := c.Decode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	require.Same(t, plain, out[0])
}

func TestKeys(t *testing.T) {
	keys, err := ParseKeys("k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=, k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE")
	require.NoError(t, err)
	require.Equal(t, []Key{key("k2", 2), key("k1", 1)}, keys)
	for _, bad := range []string{"", "nokey", "k1:short", "k1:!!!"} {
		_, err := ParseKeys(bad)
		require.Error(t, err, bad)
	}
	for _, bad := range [][]Key{nil, {{ID: "k", Secret: []byte{1}}}, {{ID: "bad id", Secret: make([]byte, 32)}}, {key("a", 1), key("a", 2)}} {
		_, err := New(bad)
		require.Error(t, err)
	}
}
