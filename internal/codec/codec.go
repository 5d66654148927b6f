// Package codec encrypts Temporal payloads — workflow inputs and results,
// signals, updates, queries, activity inputs and results, failures'
// messages — with AES-256-GCM, so that they are encrypted at rest in
// Temporal and readable only by clients and workers holding a key, and by
// operators through the codec server. Each encrypted payload names the key
// that sealed it; several keys are held at once for rotation: new payloads
// use the primary, old ones keep decoding with theirs.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/cloudpartners/onboarding/internal/text"
)

// Metadata of an encrypted payload.
const (
	// Encoding marks a payload this codec encrypted.
	Encoding = "binary/encrypted"
	// MetadataKeyID names the key that encrypted it.
	MetadataKeyID = "encryption-key-id"
)

// Key is one AES-256 key and its id.
type Key struct {
	ID     string
	Secret []byte // 32 bytes
}

// Codec encrypts with the primary key and decrypts with whichever key a
// payload names. It is a converter.PayloadCodec.
type Codec struct {
	primary string
	aeads   map[string]cipher.AEAD
}

var keyID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// New returns a codec over keys; the first is the primary.
func New(keys []Key) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("codec: at least one key is needed")
	}
	c := &Codec{primary: keys[0].ID, aeads: map[string]cipher.AEAD{}}
	for _, k := range keys {
		if !keyID.MatchString(k.ID) {
			return nil, fmt.Errorf("codec: key id %q: want 1-64 of letters, digits, '.', '_' or '-'", k.ID)
		}
		if len(k.Secret) != 32 {
			return nil, fmt.Errorf("codec: key %s: want 32 bytes, got %d", k.ID, len(k.Secret))
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("codec: key id %s twice", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("codec: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: %w", err)
		}
		c.aeads[k.ID] = aead
	}
	return c, nil
}

// ParseKeys reads keys written as "id:base64,id:base64" (standard or URL
// base64 of 32 bytes), the primary first.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, b64, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not id:base64-key", text.Truncate(part, 20))
		}
		secret, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			secret, err = base64.RawURLEncoding.DecodeString(b64)
		}
		if err != nil || len(secret) != 32 {
			return nil, fmt.Errorf("key %q: want 32 bytes in base64 (generate with: openssl rand -base64 32)", text.Truncate(id, 20))
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	if len(keys) == 0 {
		return nil, errors.New("no key given")
	}
	return keys, nil
}

// Primary is the id of the key new payloads are encrypted with.
func (c *Codec) Primary() string { return c.primary }

// Encode encrypts each payload with the primary key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.primary]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: encode: %w", err)
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: encode: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{converter.MetadataEncoding: []byte(Encoding), MetadataKeyID: []byte(c.primary)},
			Data:     aead.Seal(nonce, nonce, plain, []byte(c.primary)),
		}
	}
	return out, nil
}

// ErrUnknownKey means a payload was encrypted with a key this codec does
// not hold: it was retired too early, or belongs to another deployment.
var ErrUnknownKey = errors.New("payload encrypted with a key this codec does not hold")

// Decode decrypts each payload this codec encrypted; others (payloads
// written before encryption was turned on) pass through unchanged.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return nil, fmt.Errorf("codec: key %q: %w", text.Truncate(id, 64), ErrUnknownKey)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize() {
			return nil, errors.New("codec: encrypted payload too short")
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("codec: payload under key %s cannot be decrypted: %w", id, err)
		}
		var decoded commonpb.Payload
		if err := proto.Unmarshal(plain, &decoded); err != nil {
			return nil, fmt.Errorf("codec: decode: %w", err)
		}
		out[i] = &decoded
	}
	return out, nil
}

// DataConverter is the default data converter with this codec on top:
// what every client and worker of the project runs with.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter encrypts failures' messages and stack traces too: a
// failure's words may name a customer.
func (c *Codec) FailureConverter() converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter: c.DataConverter(), EncodeCommonAttributes: true})
}
