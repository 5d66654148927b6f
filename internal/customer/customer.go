// Package customer holds the domain words of partner-customer onboarding:
// subaccount statuses, deletion reasons, default roles, the product's
// defaults, what a valid customer is, and the errors callers tell apart. It
// imports no database driver; the store, the workflows, the activities and
// every edge share it.
package customer

import (
	"errors"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen is the longest customer name accepted, in characters.
const MaxNameLen = 200

// NameKey normalizes a customer name for comparison: case-folded, with runs of
// white space collapsed, so "ACME  Corp" and "acme corp" are the same customer.
func NameKey(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " "))
}

// ValidateName checks a customer name.
func ValidateName(name string) error {
	switch n := utf8.RuneCountInString(strings.TrimSpace(name)); {
	case !utf8.ValidString(name):
		return Invalid("name", "not valid UTF-8")
	case n == 0:
		return Invalid("name", "must not be empty")
	case n > MaxNameLen:
		return Invalid("name", "is %d characters long; the limit is %d", n, MaxNameLen)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return Invalid("name", "must not contain control characters")
		}
	}
	return nil
}

// ValidateEmail checks an account email: one bare address, no display name.
func ValidateEmail(email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || len(email) > 254 {
		return Invalid("email", "%q is not a valid email address (want name@example.com)", truncate(email))
	}
	at := strings.LastIndexByte(email, '@')
	if !strings.Contains(email[at+1:], ".") || strings.ContainsAny(email, " \t\r\n") {
		return Invalid("email", "%q is not a valid email address (want name@example.com)", truncate(email))
	}
	return nil
}

var cloudName = regexp.MustCompile(`^[a-z][a-z0-9-]{1,61}[a-z0-9]$`)

// ValidateCloudName checks the name of the cloud to create.
func ValidateCloudName(name string) error {
	if !cloudName.MatchString(name) {
		return Invalid("cloud", "%q is not a valid cloud name (3-63 lower-case letters, digits and dashes, starting with a letter)", truncate(name))
	}
	return nil
}

// ValidateContact checks the optional contact person: one line of at most
// 200 characters that a spreadsheet opening an export would not run as a
// formula (CSV injection: a value starting with = + - @, a tab or a
// carriage return).
func ValidateContact(contact string) error {
	if !utf8.ValidString(contact) || utf8.RuneCountInString(contact) > 200 || strings.ContainsAny(contact, "\r\n") {
		return Invalid("contact", "want one line of at most 200 characters")
	}
	if FormulaLike(contact) {
		return Invalid("contact", "%q starts with %q, which a spreadsheet would run as a formula; remove that character", truncate(contact), contact[:1])
	}
	return nil
}

// FormulaLike reports whether a spreadsheet would run v as a formula.
func FormulaLike(v string) bool { return v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) }

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

var partnerID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidatePartnerID checks the shape of a partner id, as the partners table
// accepts it; an id that passes holds no quote, so it may go into a
// visibility query as it is.
func ValidatePartnerID(id string) error {
	if !partnerID.MatchString(id) {
		return Invalid("partner", "%q is not a partner id (want lower-case letters, digits, '-' or '_', at most 63)", truncate(id))
	}
	return nil
}

// ValidateConfirmWithin checks a per-onboarding confirmation window; zero
// means the default.
func ValidateConfirmWithin(d time.Duration) error {
	if d < 0 || (d > 0 && d < time.Second) || d > MaxConfirmWithin {
		return Invalid("confirm_within", "%s is out of range: want a duration from 1s to %s, such as 168h", d, MaxConfirmWithin)
	}
	return nil
}
