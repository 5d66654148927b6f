package main

import (
	"errors"
	"net/http"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/loginhook"
	"github.com/cloudpartners/onboarding/internal/onboarding"
)

// Errors the handlers return; problemFor turns each into a status and words.
var (
	errBadJSON     = errors.New(`the body is not JSON of the form {"token": "..."}`)
	errReplayed    = errors.New("this signed call was already received")
	errTooLarge    = errors.New("the request body is too large")
	errRateLimited = errors.New("too many requests from this address")
	errBadAction   = errors.New(`the form's action is neither "confirm" nor "decline"`)
)

// problem is how one kind of failure is shown: an HTML page for people, a
// one-line JSON reason for machines.
type problem struct {
	Status int
	Code   string // stable, for machines
	Title  string // page heading
	Text   string // what happened, and nothing changed
	Hint   string // what to do
}

// problemFor is the one place that maps an error to an HTTP status.
func problemFor(err error) problem {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, links.ErrMalformed), errors.Is(err, onboarding.ErrNoToken):
		return problem{http.StatusBadRequest, "malformed_link", "This link is incomplete",
			"The confirmation link is damaged or cut short, so nothing was confirmed.",
			"Open the link by clicking it in the email, or copy the whole link into the address bar."}
	case errors.Is(err, links.ErrForged), errors.Is(err, customer.ErrNotFound):
		return problem{http.StatusNotFound, "unknown_link", "This link is not valid",
			"We issued no invitation for this link, so nothing was confirmed.",
			"Use the link from the most recent email you received, or ask your partner to send a new one."}
	case errors.Is(err, onboarding.ErrLinkExpired):
		return problem{http.StatusGone, "expired", "This link has expired",
			"The time to confirm has passed and the invitation was withdrawn, so nothing was confirmed.",
			"Ask your partner to add you again; you will receive a new email."}
	case errors.Is(err, onboarding.ErrLinkCancelled):
		return problem{http.StatusGone, "cancelled", "This invitation was withdrawn",
			"The invitation was cancelled before it was confirmed, so there is nothing to confirm.",
			"Contact your partner if you think this is a mistake."}
	case errors.Is(err, onboarding.ErrLinkDeclined):
		return problem{http.StatusGone, "declined", "You declined this invitation",
			"This invitation was declined, so it can no longer be confirmed and nothing was changed.",
			"If this was a mistake, ask your partner to add you again; you will receive a new email."}
	case errors.Is(err, errBadAction):
		return problem{http.StatusBadRequest, "bad_action", "This request is not understood",
			"The form asked for something other than Confirm or Decline, so nothing was changed.",
			"Open the link from the email again and press one of its buttons."}
	case errors.Is(err, onboarding.ErrLinkEnded):
		return problem{http.StatusGone, "ended", "This invitation can no longer be confirmed",
			"The onboarding this link belongs to has ended, so nothing was confirmed.",
			"Contact your partner; they can start it again."}
	case errors.Is(err, loginhook.ErrMalformed):
		return problem{http.StatusBadRequest, "malformed_signature", "Malformed signature",
			"the X-Signature header is missing or malformed: want t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">", ""}
	case errors.Is(err, loginhook.ErrSignature):
		return problem{http.StatusUnauthorized, "bad_signature", "Bad signature",
			"the signature does not match the body under the shared login-hook secret", ""}
	case errors.Is(err, loginhook.ErrStale):
		return problem{http.StatusUnauthorized, "stale_timestamp", "Stale timestamp",
			"the signature timestamp is more than 5 minutes away from the server's clock", ""}
	case errors.Is(err, errReplayed):
		return problem{http.StatusConflict, "replayed", "Replayed call",
			"this signed call was already received; sign each call afresh", ""}
	case errors.Is(err, errBadJSON):
		return problem{http.StatusBadRequest, "bad_json", "Bad request", errBadJSON.Error(), ""}
	case errors.Is(err, errTooLarge), errors.As(err, &tooLarge):
		return problem{http.StatusRequestEntityTooLarge, "too_large", "Request too large",
			"The request is larger than this page ever sends, so it was refused and nothing was changed.", ""}
	case errors.Is(err, errRateLimited):
		return problem{http.StatusTooManyRequests, "rate_limited", "Too many requests",
			"There were too many requests from your address in a short time, so this one was refused and nothing was changed.",
			"Wait a few seconds and try again."}
	default:
		return problem{http.StatusInternalServerError, "internal", "Something went wrong",
			"Something went wrong on our side and nothing was confirmed.",
			"Please try again in a minute."}
	}
}
