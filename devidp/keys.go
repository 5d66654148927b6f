package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const rsaKeyBits = 2048

// signingKey is the RSA key that signs ID tokens; it implements op.SigningKey.
type signingKey struct {
	id  string // the JWK thumbprint, so a key kept in a file keeps its kid
	key *rsa.PrivateKey
}

// publicKey is the public half as the JWKS endpoint serves it; it implements op.Key.
type publicKey struct{ *signingKey }

// loadOrCreateKey reads the PEM key in file, creating the file with a new key
// if it does not exist yet; with file "" the key lives only in memory, and
// relying parties must fetch the JWKS again after a restart.
func loadOrCreateKey(file string) (_ *signingKey, source string, err error) {
	if file == "" {
		k, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
		if err != nil {
			return nil, "", fmt.Errorf("generate signing key: %w", err)
		}
		sk, err := newSigningKey(k)
		return sk, "generated", err
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		sk, err := createKeyFile(file)
		return sk, "created " + file, err
	}
	if err != nil {
		return nil, "", fmt.Errorf("key file: %w", err)
	}
	k, err := parseKey(data)
	if err != nil {
		return nil, "", fmt.Errorf("key file %s: %w", file, err)
	}
	sk, err := newSigningKey(k)
	return sk, "read " + file, err
}

// createKeyFile writes a new key to file, readable by its owner only; it
// refuses to overwrite a file that appeared in the meantime.
func createKeyFile(file string) (*signingKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, fmt.Errorf("key file %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("key file %s: %w", file, err)
	}
	return newSigningKey(k)
}

// parseKey reads an RSA private key in PEM, PKCS #8 or PKCS #1.
func parseKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block: want an RSA private key in PEM")
	}
	var k any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q: want PRIVATE KEY or RSA PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T key: want RSA", k)
	}
	if rk.N.BitLen() < rsaKeyBits {
		return nil, fmt.Errorf("a %d-bit RSA key: want at least %d bits", rk.N.BitLen(), rsaKeyBits)
	}
	return rk, nil
}

func newSigningKey(k *rsa.PrivateKey) (*signingKey, error) {
	thumb, err := (&jose.JSONWebKey{Key: &k.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key id: %w", err)
	}
	return &signingKey{id: base64.RawURLEncoding.EncodeToString(thumb), key: k}, nil
}

// SignatureAlgorithm is RS256, which every relying party supports.
func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }

// Key returns the private key.
func (k *signingKey) Key() any { return k.key }

// ID returns the key id (kid).
func (k *signingKey) ID() string { return k.id }

// Algorithm is RS256.
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }

// Use says the key signs.
func (k publicKey) Use() string { return "sig" }

// Key returns the public key.
func (k publicKey) Key() any { return &k.key.PublicKey }

// ID returns the key id (kid).
func (k publicKey) ID() string { return k.id }

var (
	_ op.SigningKey = (*signingKey)(nil)
	_ op.Key        = publicKey{}
)
