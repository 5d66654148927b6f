package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"
)

// TestRunRefusesBadConfig: run stops before listening, with an error that
// names the setting.
func TestRunRefusesBadConfig(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(notPEM, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"http issuer off loopback", map[string]string{"DEVIDP_ISSUER": "http://idp.example:5556"}, nil, "DEVIDP_ISSUER: plain http is allowed on a loopback host only"},
		{"issuer with a path", nil, []string{"-issuer", "http://127.0.0.1:5556/"}, "DEVIDP_ISSUER: want scheme://host:port alone"},
		{"address without port", map[string]string{"DEVIDP_ADDR": "127.0.0.1"}, nil, "DEVIDP_ADDR: want host:port"},
		{"relative redirect URI", map[string]string{"DEVIDP_REDIRECT_URIS": "/auth/callback"}, nil, "DEVIDP_REDIRECT_URIS: want absolute http(s) URIs"},
		{"no post-logout URI", map[string]string{"DEVIDP_POST_LOGOUT_REDIRECT_URIS": " , "}, nil, "DEVIDP_POST_LOGOUT_REDIRECT_URIS: want at least one URI"},
		{"log format", map[string]string{"LOG_FORMAT": "xml"}, nil, "LOG_FORMAT: want text or json"},
		{"missing users file", map[string]string{"DEVIDP_USERS": "/nonexistent/users.json"}, nil, "users file:"},
		{"key file not PEM", nil, []string{"-key", notPEM}, "no PEM block"},
		{"stray argument", nil, []string{"serve"}, `unexpected argument "serve"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"DEVIDP_ADDR": freeAddr(t)}
			maps.Copy(env, tt.env)
			// Cancelled: should run get as far as serving, it returns at once.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var out bytes.Buffer
			err := run(ctx, tt.args, func(k string) string { return env[k] }, &out, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestHelp prints the flags, with their variables, and succeeds.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DEVIDP_ADDR", "DEVIDP_ISSUER", "DEVIDP_USERS", "DEVIDP_KEY_FILE", "DEVIDP_REDIRECT_URIS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage does not mention %s:\n%s", want, out.String())
		}
	}
}

// TestParseUsers refuses a users file with mistakes, naming the entry.
func TestParseUsers(t *testing.T) {
	ok := `{"sub": "u1", "email": "a@example.com", "name": "A", "password": "pw"}`
	tests := []struct{ name, json, want string }{
		{"not an array", `{}`, "want a JSON array of users"},
		{"empty", `[]`, "no users"},
		{"unknown field", `[{"sub": "u1", "email": "a@example.com", "name": "A", "pasword": "pw"}]`, `unknown field "pasword"`},
		{"no password", `[{"sub": "u1", "email": "a@example.com", "name": "A"}]`, "user 1: password is missing"},
		{"colon in sub", `[{"sub": "u:1", "email": "a@example.com", "name": "A", "password": "pw"}]`, `user 1: sub "u:1"`},
		{"bad email", `[{"sub": "u1", "email": "a", "name": "A", "password": "pw"}]`, `user 1: email "a"`},
		{"same email twice", `[` + ok + `, {"sub": "u2", "email": "A@example.com", "name": "B", "password": "pw"}]`, "user 2: email"},
		{"same sub twice", `[` + ok + `, {"sub": "u1", "email": "b@example.com", "name": "B", "password": "pw"}]`, `user 2: sub "u1" is used twice`},
		{"reserved claim", `[{"sub": "u1", "email": "a@example.com", "name": "A", "password": "pw", "claims": {"aud": "x"}}]`, `claims: "aud"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseUsers([]byte(tt.json), "users.json")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "users.json: ") {
				t.Errorf("parseUsers: %v, want an error about users.json containing %q", err, tt.want)
			}
		})
	}
	if _, err := loadUsers(""); err != nil {
		t.Errorf("built-in users: %v", err)
	}
}

// TestUsersFile signs in a user from a file, with a custom claim.
func TestUsersFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "users.json")
	users := `[{"sub": "c-1", "email": "carol@initech.example", "email_verified": false, "name": "Carol", "password": "s3cret", "claims": {"partner_hint": "initech"}}]`
	if err := os.WriteFile(file, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startIDP(t, map[string]string{"DEVIDP_USERS": file})
	r := newRP(t, p, portalClientID, testSecret, oauth2.AuthStyleInHeader)
	s := r.signIn(t, "carol@initech.example", "s3cret")
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		PartnerHint   string `json:"partner_hint"`
	}
	if err := s.idToken.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if s.idToken.Subject != "c-1" || claims.Email != "carol@initech.example" || claims.EmailVerified || claims.PartnerHint != "initech" {
		t.Errorf("ID token: sub %q claims %+v", s.idToken.Subject, claims)
	}
	f := newBrowser().get(t, r.start().authURL).form(t)
	f.fields.Set("username", "owner@acme.example")
	f.fields.Set("password", "demo-owner")
	if page := newBrowser().submit(t, f); page.status != 401 {
		t.Errorf("a built-in user signed in though a users file was given: status %d", page.status)
	}
}

// TestKeyFile: a key file is created on first start, owner-only, and gives
// the same key id on the next.
func TestKeyFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "signing-key.pem")
	kid := func() string {
		var kid string
		t.Run("start", func(t *testing.T) {
			p := startIDP(t, nil, "-key", file)
			var jwks struct{ Keys []struct{ Kid string } }
			if err := json.Unmarshal([]byte(newBrowser().get(t, p.issuer+"/keys").body), &jwks); err != nil || len(jwks.Keys) != 1 {
				t.Fatalf("JWKS: %v %+v", err, jwks)
			}
			kid = jwks.Keys[0].Kid
		})
		return kid
	}
	first := kid()
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
	if second := kid(); first == "" || second != first {
		t.Errorf("kid %q after restart, want %q", second, first)
	}
}

// TestRedirectURIRules checks the loopback any-port rule with the library's
// own validation: any port on 127.0.0.1 for a configured path, nothing else.
func TestRedirectURIRules(t *testing.T) {
	c := newClients("s", []string{"http://127.0.0.1:8090/auth/callback", "https://portal.example/auth/callback"},
		[]string{"http://127.0.0.1:8090/"})[portalClientID]
	tests := []struct {
		uri                      string
		redirectOK, postLogoutOK bool
	}{
		{"http://127.0.0.1:8090/auth/callback", true, false},
		{"http://127.0.0.1:41234/auth/callback", true, false},
		{"http://127.0.0.1:5/auth/callback", true, false},
		{"https://portal.example/auth/callback", true, false},
		{"http://127.0.0.1:8090/", false, true},
		{"http://127.0.0.1:41234/", false, true},
		{"http://127.0.0.1/auth/callback", false, false},
		{"http://127.0.0.1:8090/auth/callback/x", false, false},
		{"http://127.0.0.1:8090/auth/callback?next=/", false, false},
		{"http://127.0.0.1:1@evil.example/auth/callback", false, false},
		{"http://127.0.0.1:1@evil.example/", false, false},
		{"http://127.0.0.1:8o90/auth/callback", false, false},
		{"http://127.0.0.1:123456/auth/callback", false, false},
		{"http://localhost:8090/auth/callback", false, false},
		{"http://evil.example:8090/auth/callback", false, false},
		{"https://portal.example:8443/auth/callback", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			err := op.ValidateAuthReqRedirectURI(c, tt.uri, zoidc.ResponseTypeCode)
			if (err == nil) != tt.redirectOK {
				t.Errorf("as redirect URI: %v, want allowed=%v", err, tt.redirectOK)
			}
			err = op.ValidateEndSessionPostLogoutRedirectURI(tt.uri, c)
			if (err == nil) != tt.postLogoutOK {
				t.Errorf("as post-logout URI: %v, want allowed=%v", err, tt.postLogoutOK)
			}
		})
	}
}
