package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// defaultUsers is the demo set used when no users file is given; it is also
// the example of the file format.
//
//go:embed users.json
var defaultUsers []byte

// user is one demo person the provider can sign in. The provider only says
// who someone is: partner membership and roles live in the portal's database.
type user struct {
	Sub           string         `json:"sub"`
	Email         string         `json:"email"`
	EmailVerified bool           `json:"email_verified"`
	Name          string         `json:"name"`
	Password      string         `json:"password"`
	Claims        map[string]any `json:"claims,omitempty"` // extra claims for the ID token and userinfo

	passwordHash [sha256.Size]byte // Password is cleared once this is set
}

// LogValue keeps a user's password out of every log line, whatever logs it.
func (u *user) LogValue() slog.Value {
	return slog.GroupValue(slog.String("sub", u.Sub), slog.String("email", u.Email))
}

// reservedClaims are set by the provider itself; a users file may not override them.
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"nonce": true, "auth_time": true, "acr": true, "amr": true, "azp": true, "at_hash": true,
	"c_hash": true, "sid": true, "client_id": true, "scope": true,
	"email": true, "email_verified": true, "name": true, "preferred_username": true,
}

// users is the read-only set of demo users, found by email or by subject.
type users struct {
	byEmail map[string]*user
	bySub   map[string]*user
	list    []*user // in file order, for the log line at start
}

// loadUsers reads the users file, or the built-in demo set when file is "".
func loadUsers(file string) (*users, error) {
	if file == "" {
		return parseUsers(defaultUsers, "built-in users")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	return parseUsers(data, file)
}

// parseUsers decodes a JSON array of users and validates every entry; each
// error names the source and the entry.
func parseUsers(data []byte, source string) (*users, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a misspelt "pasword" must not pass silently
	var list []*user
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("%s: want a JSON array of users: %w", source, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s: no users", source)
	}
	us := &users{byEmail: map[string]*user{}, bySub: map[string]*user{}, list: list}
	var errs []error
	for i, u := range list {
		if err := u.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: user %d: %w", source, i+1, err))
			continue
		}
		key := normalizeEmail(u.Email)
		if us.byEmail[key] != nil {
			errs = append(errs, fmt.Errorf("%s: user %d: email %q is used twice", source, i+1, u.Email))
		}
		if us.bySub[u.Sub] != nil {
			errs = append(errs, fmt.Errorf("%s: user %d: sub %q is used twice", source, i+1, u.Sub))
		}
		u.passwordHash = sha256.Sum256([]byte(u.Password))
		u.Password = ""
		us.byEmail[key], us.bySub[u.Sub] = u, u
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return us, nil
}

func (u *user) validate() error {
	var errs []error
	switch {
	case u.Sub == "":
		errs = append(errs, errors.New("sub is missing"))
	case len(u.Sub) > 255 || strings.ContainsAny(u.Sub, ": \t\r\n"):
		// The library packs "tokenID:sub" into opaque access tokens.
		errs = append(errs, fmt.Errorf("sub %q: want at most 255 characters without spaces or ':'", u.Sub))
	}
	if at := strings.IndexByte(u.Email, '@'); at < 1 || at == len(u.Email)-1 || strings.ContainsAny(u.Email, " \t\r\n") {
		errs = append(errs, fmt.Errorf("email %q: want an address such as someone@example.com", u.Email))
	}
	if u.Name == "" {
		errs = append(errs, errors.New("name is missing"))
	}
	if u.Password == "" {
		errs = append(errs, errors.New("password is missing"))
	}
	for name := range u.Claims {
		if reservedClaims[name] || name == "" {
			errs = append(errs, fmt.Errorf("claims: %q is set by the provider and cannot be overridden", name))
		}
	}
	return errors.Join(errs...)
}

// normalizeEmail makes the login name case-insensitive, as email addresses are in practice.
func normalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// authenticate returns the user with this email and password. The password
// check takes the same time whether or not the email is known, so timing tells
// nothing about which users exist.
func (us *users) authenticate(email, password string) (*user, bool) {
	var want [sha256.Size]byte
	u, known := us.byEmail[normalizeEmail(email)]
	if known {
		want = u.passwordHash
	}
	got := sha256.Sum256([]byte(password))
	match := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	if !known || !match {
		return nil, false
	}
	return u, true
}

// bySubject returns the user with this sub.
func (us *users) bySubject(sub string) (*user, bool) {
	u, ok := us.bySub[sub]
	return u, ok
}

// setUserinfo fills info with what the scopes allow; the ID token and the
// userinfo endpoint both come from here.
func (us *users) setUserinfo(info *oidc.UserInfo, sub string, scopes []string) error {
	u, ok := us.bySubject(sub)
	if !ok {
		return fmt.Errorf("user %q not found", sub)
	}
	info.Subject = u.Sub
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeEmail:
			info.Email = u.Email
			info.EmailVerified = oidc.Bool(u.EmailVerified)
		case oidc.ScopeProfile:
			info.Name = u.Name
			info.PreferredUsername = u.Email
		}
	}
	for name, value := range u.Claims {
		info.AppendClaims(name, value)
	}
	return nil
}
