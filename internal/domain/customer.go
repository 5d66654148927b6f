package domain

import (
	"errors"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cloudpartners/onboarding/internal/text"
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
		return Invalidf("name", "not valid UTF-8")
	case n == 0:
		return Invalidf("name", "must not be empty")
	case n > MaxNameLen:
		return Invalidf("name", "is %d characters long; the limit is %d", n, MaxNameLen)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return Invalidf("name", "must not contain control characters")
		}
	}
	return nil
}

// ValidateEmail checks an account email: one bare address, no display name.
func ValidateEmail(email string) error {
	if email == "" {
		return Invalidf("email", "must not be empty")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || len(email) > 254 {
		return Invalidf("email", "%q is not a valid email address (want name@example.com)", text.Truncate(email, 40))
	}
	at := strings.LastIndexByte(email, '@')
	if !strings.Contains(email[at+1:], ".") || strings.ContainsAny(email, " \t\r\n") {
		return Invalidf("email", "%q is not a valid email address (want name@example.com)", text.Truncate(email, 40))
	}
	return nil
}

var cloudName = regexp.MustCompile(`^[a-z][a-z0-9-]{1,61}[a-z0-9]$`)

// ValidateCloudName checks the name of the cloud to create.
func ValidateCloudName(name string) error {
	if name == "" {
		return Invalidf("cloud", "must not be empty")
	}
	if !cloudName.MatchString(name) {
		return Invalidf("cloud", "%q is not a valid cloud name (3-63 lower-case letters, digits and dashes, starting with a letter)", text.Truncate(name, 40))
	}
	return nil
}

// ValidateContact checks the optional contact person: one line of at most
// 200 characters that a spreadsheet opening an export would not run as a
// formula (CSV injection: a value starting with = + - @, a tab or a
// carriage return).
func ValidateContact(contact string) error {
	if !utf8.ValidString(contact) || utf8.RuneCountInString(contact) > 200 || strings.ContainsAny(contact, "\r\n") {
		return Invalidf("contact", "want one line of at most 200 characters")
	}
	if FormulaLike(contact) {
		return Invalidf("contact", "%q starts with %q, which a spreadsheet would run as a formula; remove that character", text.Truncate(contact, 40), contact[:1])
	}
	return nil
}

// FormulaLike reports whether a spreadsheet would run v as a formula.
func FormulaLike(v string) bool { return v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) }

// Validate checks every field of a new customer.
func Validate(name, email, cloud, contact string) error {
	return errors.Join(ValidateName(name), ValidateEmail(email), ValidateCloudName(cloud), ValidateContact(contact))
}

var partnerID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidatePartnerID checks the shape of a partner id, as the partners table
// accepts it; an id that passes holds no quote, so it may go into a
// visibility query as it is.
func ValidatePartnerID(id string) error {
	if !partnerID.MatchString(id) {
		return Invalidf("partner", "%q is not a partner id (want lower-case letters, digits, '-' or '_', at most 63)", text.Truncate(id, 40))
	}
	return nil
}

// ValidateConfirmWithin checks a per-onboarding confirmation window; zero
// means the default.
func ValidateConfirmWithin(d time.Duration) error {
	if d != 0 && (d < time.Second || d > MaxConfirmWithin) {
		return Invalidf("confirm_within", "%s is out of range: want a duration from 1s to %s, such as 168h", text.Duration(d), text.Duration(MaxConfirmWithin))
	}
	return nil
}

// ParseConfirmWithin reads a confirmation window as every edge takes it:
// empty means the default (zero); anything else must be a duration from
// 1s to MaxConfirmWithin — "0s" too is refused, never taken as the default.
func ParseConfirmWithin(s string) (time.Duration, error) {
	return parseDuration("confirm_within", s, MaxConfirmWithin, "168h")
}

// ParseRetention reads a suspension's retention period as every edge takes
// it: empty means the default (zero); anything else must be a duration
// from 1s to MaxRetention.
func ParseRetention(s string) (time.Duration, error) {
	return parseDuration("retention", s, MaxRetention, "720h")
}

// parseDuration reads an optional duration in [1s, most].
func parseDuration(field, s string, most time.Duration, example string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second || d > most {
		return 0, Invalidf(field, "%q is out of range: want a duration from 1s to %s, such as %s", text.Truncate(s, 40), text.Duration(most), example)
	}
	return d, nil
}

// Edit is a change to a customer's record: each field given (non-nil)
// changes; Name is here only to be refused — the name never changes.
type Edit struct {
	Name      *string
	Email     *string
	Contact   *string
	CloudName *string
}

// Empty reports whether the edit changes nothing.
func (e Edit) Empty() bool {
	return e.Name == nil && e.Email == nil && e.Contact == nil && e.CloudName == nil
}

// Fields names the fields the edit gives, for the audit log (never their
// values, which are personal data).
func (e Edit) Fields() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{{"name", e.Name != nil}, {"email", e.Email != nil}, {"contact", e.Contact != nil}, {"cloud name", e.CloudName != nil}} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// Validate checks every given field: the name is refused, the others must
// be valid, and an edit must change something.
func (e Edit) Validate() error {
	switch {
	case e.Name != nil:
		return ErrNameImmutable
	case e.Empty():
		return Invalidf("edit", "nothing to change: give an email, a contact or a cloud name")
	}
	var errs []error
	if e.Email != nil {
		errs = append(errs, ValidateEmail(*e.Email))
	}
	if e.Contact != nil {
		errs = append(errs, ValidateContact(*e.Contact))
	}
	if e.CloudName != nil {
		errs = append(errs, ValidateCloudName(*e.CloudName))
	}
	return errors.Join(errs...)
}
