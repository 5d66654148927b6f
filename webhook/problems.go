package main

import (
	"errors"
	"net/http"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/loginhook"
	"github.com/cloudpartners/onboarding/internal/onboarding"
)

// The webhook's own refusals; problemFor turns each into a page or JSON.
var (
	errBadJSON     = domain.New(domain.Invalid, "BadJSON", `the body is not JSON of the form {"token": "..."}`)
	errReplayed    = domain.New(domain.Conflict, "Replayed", "this signed call was already received")
	errTooLarge    = domain.New(domain.Invalid, "TooLarge", "the request body is too large")
	errRateLimited = domain.New(domain.Unavailable, "RateLimited", "too many requests from this address")
	errBadAction   = domain.New(domain.Invalid, "BadAction", `the form's action is neither "confirm" nor "decline"`)
	errCrossSite   = domain.New(domain.Forbidden, "CrossSite", "the form was not sent from the confirmation page")
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

// malformedLink is the page of a link cut short or without its token.
var malformedLink = problem{http.StatusBadRequest, "malformed_link", "This link is incomplete",
	"The confirmation link is damaged or cut short, so nothing was confirmed.",
	"Open the link by clicking it in the email, or copy the whole link into the address bar."}

// problems are the customer's own pages, one for each thing that can be
// wrong with a link or a call, by the failure's code: each link's state
// has its own words and status (410 for a link that has gone).
var problems = map[string]problem{
	links.ErrMalformed.Code:    malformedLink,
	onboarding.ErrNoToken.Code: malformedLink,
	links.ErrForged.Code: {http.StatusNotFound, "unknown_link", "This link is not valid",
		"We issued no invitation for this link, so nothing was confirmed.",
		"Use the link from the most recent email you received, or ask your partner to send a new one."},
	onboarding.ErrLinkExpired.Code: {http.StatusGone, "expired", "This link has expired",
		"The time to confirm has passed and the invitation was withdrawn, so nothing was confirmed.",
		"Ask your partner to add you again; you will receive a new email."},
	onboarding.ErrLinkCancelled.Code: {http.StatusGone, "cancelled", "This invitation was withdrawn",
		"The invitation was cancelled before it was confirmed, so there is nothing to confirm.",
		"Contact your partner if you think this is a mistake."},
	onboarding.ErrLinkDeclined.Code: {http.StatusGone, "declined", "You declined this invitation",
		"This invitation was declined, so it can no longer be confirmed and nothing was changed.",
		"If this was a mistake, ask your partner to add you again; you will receive a new email."},
	onboarding.ErrLinkEnded.Code: {http.StatusGone, "ended", "This invitation can no longer be confirmed",
		"The onboarding this link belongs to has ended, so nothing was confirmed.",
		"Contact your partner; they can start it again."},
	errBadAction.Code: {http.StatusBadRequest, "bad_action", "This request is not understood",
		"The form asked for something other than Confirm or Decline, so nothing was changed.",
		"Open the link from the email again and press one of its buttons."},
	errCrossSite.Code: {http.StatusForbidden, "cross_site", "This form did not come from our page",
		"Another site sent this answer in your browser, so nothing was confirmed or declined.",
		"Open the link from the email yourself and press one of the buttons on that page."},
	loginhook.ErrMalformed.Code: {http.StatusBadRequest, "malformed_signature", "Malformed signature",
		"the X-Signature header is missing or malformed: want t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">", ""},
	loginhook.ErrSignature.Code: {http.StatusUnauthorized, "bad_signature", "Bad signature",
		"the signature does not match the body under the shared login-hook secret", ""},
	loginhook.ErrStale.Code: {http.StatusUnauthorized, "stale_timestamp", "Stale timestamp",
		"the signature timestamp is more than 5 minutes away from the server's clock", ""},
	errReplayed.Code: {http.StatusConflict, "replayed", "Replayed call",
		"this signed call was already received; sign each call afresh", ""},
	errBadJSON.Code: {http.StatusBadRequest, "bad_json", "Bad request", errBadJSON.Msg, ""},
	errTooLarge.Code: {http.StatusRequestEntityTooLarge, "too_large", "Request too large",
		"The request is larger than this page ever sends, so it was refused and nothing was changed.", ""},
	errRateLimited.Code: {http.StatusTooManyRequests, "rate_limited", "Too many requests",
		"There were too many requests from your address in a short time, so this one was refused and nothing was changed.",
		"Wait a few seconds and try again."},
}

// problemFor is the one place that maps an error to an HTTP status: by its
// code where the customer has a page of its own for it, else by its kind.
func problemFor(err error) problem {
	if errors.As(err, new(*http.MaxBytesError)) {
		return problems[errTooLarge.Code]
	}
	if p, ok := problems[domain.CodeOf(err)]; ok {
		return p
	}
	if domain.KindOf(err) == domain.NotFound {
		// An id that names no customer: the link names nothing we issued.
		return problems[links.ErrForged.Code]
	}
	return problem{http.StatusInternalServerError, "internal", "Something went wrong",
		"Something went wrong on our side and nothing was confirmed.",
		"Please try again in a minute."}
}
