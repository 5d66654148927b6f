package domain

import (
	"errors"
	"fmt"

	"github.com/cloudpartners/onboarding/internal/text"
)

// Kind is what a failure means to whoever asked: the one vocabulary every
// layer switches on — activities' retries, the audit outcome, HTTP
// statuses and the CLI's exit codes — never the message text.
type Kind uint8

// The kinds of failure.
const (
	// Internal is anything not classified: something went wrong on our
	// side, and the request may or may not have taken effect.
	Internal Kind = iota
	// Invalid is bad input: nothing changed; fix the input.
	Invalid
	// NotFound is an id that names nothing the caller may see.
	NotFound
	// Conflict is a request the state of its subject refuses: nothing changed.
	Conflict
	// Forbidden is a request the caller may not make.
	Forbidden
	// NotYet is a request that will make sense in a moment (the record is
	// still being created): nothing changed; try again shortly.
	NotYet
	// Unavailable is a part of the system that is not there right now (no
	// worker polls): nothing changed; try again later.
	Unavailable
	// Accepted is a request durably recorded and certain to be carried
	// out, not yet done.
	Accepted
)

var kindNames = [...]string{"internal", "invalid", "not found", "conflict", "forbidden", "not yet possible", "unavailable", "accepted"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Refusal reports whether a failure of this kind changed nothing because
// the request itself was refused — for the audit log, "refused" rather
// than "failed".
func (k Kind) Refusal() bool {
	switch k {
	case Invalid, NotFound, Conflict, Forbidden, NotYet, Unavailable:
		return true
	}
	return false
}

// Permanent reports whether retrying cannot change the answer: the kinds
// an activity fails with for good.
func (k Kind) Permanent() bool {
	switch k {
	case Invalid, NotFound, Conflict, Forbidden:
		return true
	}
	return false
}

// Error is a classified failure: a kind, a stable code (the same across
// releases; activities use it as the application error type) and a
// message that speaks of customers and partners. Two Errors with the same
// code match with errors.Is, so a refusal worded for its case still
// matches the sentinel of its code.
type Error struct {
	Kind Kind
	Code string
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// ErrorKind is the error's kind; KindOf finds it through wrapping.
func (e *Error) ErrorKind() Kind { return e.Kind }

// ErrorCode is the error's stable code; CodeOf finds it through wrapping.
func (e *Error) ErrorCode() string { return e.Code }

// Is matches another Error of the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

// New returns a classified error.
func New(kind Kind, code, msg string) *Error { return &Error{Kind: kind, Code: code, Msg: msg} }

// Errorf returns a classified error worded for its case.
func Errorf(kind Kind, code, format string, args ...any) error {
	return &Error{Kind: kind, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// KindOf is the kind of err: that of the first classified error in its
// chain (errors.Join included), Internal for an unclassified one. A nil
// error has no kind; KindOf(nil) is Internal, so callers test err first.
func KindOf(err error) Kind {
	var k interface{ ErrorKind() Kind }
	if errors.As(err, &k) {
		return k.ErrorKind()
	}
	return Internal
}

// CodeOf is the stable code of err's first classified error, or "" for an
// unclassified one.
func CodeOf(err error) string {
	var c interface{ ErrorCode() string }
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	return ""
}

// The failures callers tell apart. Their words speak of customers and
// partners, never of a command: each edge adds its own hint.
var (
	ErrNotFound        = New(NotFound, "NotFound", "not found")
	ErrUnknownPartner  = New(NotFound, "UnknownPartner", "the partner is not registered")
	ErrNoPartnerStatus = New(Forbidden, "NotPartner", "the partner has no partner status, so nothing can be done for it: the cloud provider must grant it first")
	ErrForbidden       = New(Forbidden, "Forbidden", "your role does not allow this")
	ErrNameTaken       = New(Conflict, "NameTaken", "the partner already has a live customer with this name")
	ErrNameImmutable   = New(Conflict, "NameImmutable", "the name of a customer cannot be changed (only the customer's contact person may change it)")
	ErrDeleted         = New(Conflict, "SubaccountDeleted", "the customer has been deleted")
	ErrConfirmed       = New(Conflict, "AlreadyConfirmed", "the customer has already confirmed")
	ErrNotConfirmed    = New(Conflict, "NotConfirmed", "the customer has not confirmed yet")
	ErrIDConflict      = New(Conflict, "IDConflict", "the id is already used by a different record")
	ErrSuspended       = New(Conflict, "Suspended", "the customer's services are stopped: resume them first")
	ErrNotActive       = New(NotYet, "NotActive", "the customer is not active yet")
	ErrNotSuspended    = New(Conflict, "NotSuspended", "the customer's services are not stopped")
	ErrStaffTaken      = New(Conflict, "StaffTaken", "this person is on another partner's staff; a person belongs to one partner")
	ErrLastOwner       = New(Conflict, "LastOwner", "the partner's last owner cannot be removed or demoted: make someone else owner first")
	ErrEnded           = New(Conflict, "Ended", "the onboarding has ended")
	ErrRefused         = New(Conflict, "Refused", "refused")
	ErrNoRecordYet     = New(NotYet, "NoRecordYet", "the customer's record is still being created; try again in a moment")
)

// InvalidError says which field is wrong and how to fix it.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

// ErrorKind is Invalid.
func (e *InvalidError) ErrorKind() Kind { return Invalid }

// ErrorCode is the code of invalid input.
func (e *InvalidError) ErrorCode() string { return ErrInvalid.Code }

// ErrInvalid matches every *InvalidError with errors.Is.
var ErrInvalid = New(Invalid, "InvalidInput", "invalid input")

// Is lets errors.Is(err, ErrInvalid) match any InvalidError.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Invalidf returns an *InvalidError for a field.
func Invalidf(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Fields collects, by field, the reasons an input is invalid, through
// wrapping and errors.Join: what a form shows beside each field.
func Fields(err error) map[string]string {
	out := map[string]string{}
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if inv, ok := e.(*InvalidError); ok {
			if _, seen := out[inv.Field]; !seen {
				out[inv.Field] = inv.Reason
			}
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// UnknownPartner is ErrUnknownPartner, naming the partner.
func UnknownPartner(id string) error {
	return Errorf(NotFound, ErrUnknownPartner.Code, "partner %q is not registered", text.Truncate(id, 63))
}

// NoPartnerStatus is ErrNoPartnerStatus, naming the partner.
func NoPartnerStatus(id string) error {
	return Errorf(Forbidden, ErrNoPartnerStatus.Code, "partner %q has no partner status, so it may not add customers", text.Truncate(id, 63))
}

// NotFoundf is ErrNotFound, worded for what was looked for.
func NotFoundf(format string, args ...any) error {
	return Errorf(NotFound, ErrNotFound.Code, format, args...)
}

// WithKind gives err a kind, keeping its message and its chain: for a
// failure an edge knows the meaning of (a file that cannot be read is bad
// input).
func WithKind(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &kinded{kind: kind, err: err}
}

type kinded struct {
	kind Kind
	err  error
}

func (k *kinded) Error() string     { return k.err.Error() }
func (k *kinded) Unwrap() error     { return k.err }
func (k *kinded) ErrorKind() Kind   { return k.kind }
func (k *kinded) ErrorCode() string { return CodeOf(k.err) }
