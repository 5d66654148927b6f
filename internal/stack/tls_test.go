package stack

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
)

// TestMTLS runs the full Temporal server with STACK_TLS=mtls, as `make up`
// does, and connects to it for real: without TLS, with TLS but no client
// certificate, and with a certificate the stack's CA did not sign, the
// frontend refuses; with the stack's client certificate (what
// `scripts/stack.sh env` names) it answers. The namespace and search
// attributes were registered by the script's own CLI calls, through mTLS.
func TestMTLS(t *testing.T) {
	s, log, ctx := serverStack(t, &Stack{Server: "full", TLS: "mtls"})
	if err := s.Up(ctx, "temporal"); err != nil {
		t.Fatalf("up the full server with mTLS: %v", err)
	}

	// The environment the script prints for the binaries is the one the
	// library uses.
	var out strings.Builder
	if err := s.script(ctx, &out, "env"); err != nil {
		t.Fatal(err)
	}
	for _, kv := range s.TLSEnv() {
		if !strings.Contains(out.String(), "export "+kv+"\n") {
			t.Errorf("scripts/stack.sh env does not say %s:\n%s", kv, out.String())
		}
	}

	tlsDir := filepath.Join(s.State, "tls")
	stranger := strangerCert(t)
	for name, env := range map[string][]string{
		"no TLS": nil,
		"TLS, no client certificate": {"TEMPORAL_TLS=true", "TEMPORAL_TLS_SERVER_CA_CERT_PATH=" + filepath.Join(tlsDir, "ca.pem"),
			"TEMPORAL_TLS_SERVER_NAME=localhost"},
		"a certificate another CA signed": {"TEMPORAL_TLS=true", "TEMPORAL_TLS_SERVER_CA_CERT_PATH=" + filepath.Join(tlsDir, "ca.pem"),
			"TEMPORAL_TLS_SERVER_NAME=localhost", "TEMPORAL_TLS_CLIENT_CERT_PATH=" + stranger[0], "TEMPORAL_TLS_CLIENT_KEY_PATH=" + stranger[1]},
	} {
		dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := DialEnv(dctx, s.TemporalAddress(), env, log)
		dcancel()
		if err == nil {
			c.Close()
			t.Errorf("%s: the frontend took the connection", name)
		}
	}

	c, err := s.Dial(ctx, log)
	if err != nil {
		t.Fatalf("with the stack's client certificate: %v", err)
	}
	defer c.Close()
	if _, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"}); err != nil {
		t.Errorf("describe the namespace through mTLS: %v", err)
	}
}

// strangerCert writes a self-signed client certificate and its key: a
// client the stack's CA never vouched for.
func strangerCert(t *testing.T) [2]string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "stranger"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths := [2]string{filepath.Join(dir, "stranger.pem"), filepath.Join(dir, "stranger-key.pem")}
	for i, b := range []*pem.Block{{Type: "CERTIFICATE", Bytes: der}, {Type: "PRIVATE KEY", Bytes: kder}} {
		if err := os.WriteFile(paths[i], pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}
