// Package customer holds the rules for what a valid customer is, shared by
// the store, the workflow's ids, the CLI and the CSV import.
package customer

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen is the longest customer name accepted, in characters.
const MaxNameLen = 200

// InvalidError says which field is wrong and how to fix it.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

// ErrInvalid matches every *InvalidError with errors.Is.
var ErrInvalid = errors.New("invalid input")

// Is lets errors.Is(err, ErrInvalid) match any InvalidError.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// NameKey normalizes a customer name for comparison: case-folded, with runs of
// white space collapsed, so "ACME  Corp" and "acme corp" are the same customer.
func NameKey(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " "))
}

// ValidateName checks a customer name.
func ValidateName(name string) error {
	switch n := utf8.RuneCountInString(strings.TrimSpace(name)); {
	case !utf8.ValidString(name):
		return invalid("name", "not valid UTF-8")
	case n == 0:
		return invalid("name", "must not be empty")
	case n > MaxNameLen:
		return invalid("name", "is %d characters long; the limit is %d", n, MaxNameLen)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return invalid("name", "must not contain control characters")
		}
	}
	return nil
}

// ValidateEmail checks an account email: one bare address, no display name.
func ValidateEmail(email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || len(email) > 254 {
		return invalid("email", "%q is not a valid email address (want name@example.com)", truncate(email))
	}
	at := strings.LastIndexByte(email, '@')
	if !strings.Contains(email[at+1:], ".") || strings.ContainsAny(email, " \t\r\n") {
		return invalid("email", "%q is not a valid email address (want name@example.com)", truncate(email))
	}
	return nil
}

var cloudName = regexp.MustCompile(`^[a-z][a-z0-9-]{1,61}[a-z0-9]$`)

// ValidateCloudName checks the name of the cloud to create.
func ValidateCloudName(name string) error {
	if !cloudName.MatchString(name) {
		return invalid("cloud", "%q is not a valid cloud name (3-63 lower-case letters, digits and dashes, starting with a letter)", truncate(name))
	}
	return nil
}

// ValidateContact checks the optional contact person.
func ValidateContact(contact string) error {
	if !utf8.ValidString(contact) || utf8.RuneCountInString(contact) > 200 || strings.ContainsAny(contact, "\r\n") {
		return invalid("contact", "want one line of at most 200 characters")
	}
	return nil
}

// Validate checks every field of a new customer.
func Validate(name, email, cloud, contact string) error {
	return errors.Join(ValidateName(name), ValidateEmail(email), ValidateCloudName(cloud), ValidateContact(contact))
}

func truncate(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:37]) + "..."
	}
	return s
}
