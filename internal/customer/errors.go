package customer

import (
	"errors"
	"fmt"
)

// Errors callers tell apart with errors.Is. Their words are shown to
// partners and operators as they are.
var (
	ErrNotFound       = errors.New("not found")
	ErrUnknownPartner = errors.New("unknown partner: register it first with `starter partner add`")
	ErrNotPartner     = errors.New("partner has no partner status, so it may not add customers")
	ErrNameTaken      = errors.New("the partner already has a live subaccount with this customer name")
	ErrNameImmutable  = errors.New("the name of a subaccount cannot be changed (only the customer's contact person may change it)")
	ErrDeleted        = errors.New("the subaccount has been deleted")
	ErrConfirmed      = errors.New("the customer has already confirmed")
	ErrNotConfirmed   = errors.New("the customer has not confirmed yet")
	ErrIDConflict     = errors.New("the id is already used by a different record")
	ErrSuspended      = errors.New("the subaccount is suspended: resume its services first")
	ErrNotActive      = errors.New("the subaccount is not active")
	ErrNotSuspended   = errors.New("the subaccount is not suspended")
	ErrCloudNameTaken = errors.New("another cloud in the customer's organization has this name")
	ErrStaffTaken     = errors.New("this person is on another partner's staff; a person belongs to one partner")
	ErrLastOwner      = errors.New("the partner's last owner cannot be removed or demoted: make someone else owner first")
)

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

// Invalid returns an *InvalidError for a field.
func Invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
