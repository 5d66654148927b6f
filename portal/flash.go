package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/text"
)

// Every form of the pages is answered POST → redirect (303) → GET, its
// errors too, so that no page is left on an address a reload would send
// again. What the answer has to say — what was done, or why not with the
// values typed — is the session's flash: kept server-side in the session's
// row, taken by the next page and then gone. A page never says in the
// portal's voice what its URL says.

// flash is what a form's answer leaves for the page it sends the browser to.
type flash struct {
	Path   string            `json:"path"`             // the page it is for
	Notice string            `json:"notice,omitempty"` // what was done
	Error  string            `json:"error,omitempty"`  // why it was not: one line, for a partner
	Hint   string            `json:"hint,omitempty"`   // what to do about it, and the portal's page for it
	Link   string            `json:"hint_link,omitempty"`
	Form   string            `json:"form,omitempty"`   // the form of the page Fields and Values belong to
	Fields map[string]string `json:"fields,omitempty"` // why each field was refused
	Values map[string]string `json:"values,omitempty"` // what was typed, shown again in the form
	// What a page shows once and the database must not keep readable.
	ConfirmLink *shownLink `json:"confirm_link,omitempty"`
	Key         *shownKey  `json:"key,omitempty"`
}

// shownLink is a customer's confirmation link, asked for by Copy link.
type shownLink struct {
	URL        string    `json:"url"`
	ValidUntil time.Time `json:"valid_until"`
}

// shownKey is an API key just created, its secret shown this once.
type shownKey struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// The forms whose fields a page marks, and the fields each shows: a
// refusal of only these fields is told beside them, any other in full.
var formFields = map[string][]string{
	"new":     {"name", "email", "contact", "cloud", "confirm_within"},
	"edit":    {"email", "contact", "cloud"},
	"cloud":   {"cloud"},
	"suspend": {"reason", "retention"},
	"staff":   {"email", "role"},
	"key":     {"name", "role"},
}

// maxValue bounds a value kept in a flash: longer than any field takes.
const maxValue = 1000

// flashAEAD seals a session's flash under a key derived from the session
// id, which only the browser holds (the database keeps a hash of it): what
// the flash carries — a confirmation link, an API key's secret, the values
// typed — cannot be read from the database, nor by another session.
func flashAEAD(sessionID string) (cipher.AEAD, error) {
	mac := hmac.New(sha256.New, []byte(sessionID))
	mac.Write([]byte("portal flash v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

func sealFlash(sessionID string, f flash) ([]byte, error) {
	aead, err := flashAEAD(sessionID)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	return aead.Seal(nil, nil, plain, nil), nil
}

func openFlash(sessionID string, sealed []byte) (flash, error) {
	var f flash
	aead, err := flashAEAD(sessionID)
	if err != nil {
		return f, err
	}
	plain, err := aead.Open(nil, nil, sealed, nil)
	if err != nil {
		return f, err
	}
	return f, json.Unmarshal(plain, &f)
}

// keepFlash keeps f for the session's next page.
func (s *server) keepFlash(r *http.Request, f flash) error {
	id := whoFrom(r.Context()).sessionID
	for k, v := range f.Values {
		f.Values[k] = text.Truncate(v, maxValue)
	}
	sealed, err := sealFlash(id, f)
	if err == nil {
		err = s.store.SetFlash(r.Context(), id, sealed)
	}
	return err
}

// takeFlash is what a page shown by a GET says once: the session's flash,
// taken whichever page asks first, and shown only by the page it was
// meant for.
func (s *server) takeFlash(r *http.Request) flash {
	id := whoFrom(r.Context()).sessionID
	if r.Method != http.MethodGet || id == "" {
		return flash{}
	}
	sealed, err := s.store.TakeFlash(r.Context(), id)
	if err == nil {
		var f flash
		if f, err = openFlash(id, sealed); err == nil && f.Path == r.URL.Path {
			return f
		}
	}
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		s.logger.Error("take flash", "path", r.URL.Path, "error", err)
	}
	return flash{}
}

// sendOn answers a form that was carried out: on to the page at path
// (a path of the portal, perhaps with a query), which shows f once.
func (s *server) sendOn(w http.ResponseWriter, r *http.Request, path string, f flash) {
	f.Path = pathOf(path)
	if err := s.keepFlash(r, f); err != nil {
		// It was done all the same: the page shows how things stand.
		s.logger.Error("keep flash", "path", r.URL.Path, "error", err)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// formFailed answers a form whose request failed. A refusal of who may
// do it — another role, another partner's id — gets its problem page;
// everything else goes back to the form's page at path, which says why
// in one line and shows the form again with f's values, its fields
// marked: nothing was changed, and a reload sends nothing again.
func (s *server) formFailed(w http.ResponseWriter, r *http.Request, path string, f flash, err error) {
	p := problemFor(err)
	if p.Status == http.StatusForbidden || p.Status == http.StatusNotFound {
		s.failPage(w, r, err)
		return
	}
	s.logProblem(r, p, err)
	f.Path, f.Fields = pathOf(path), domain.Fields(err)
	f.Error, f.Hint, f.Link = p.Text, p.Hint, p.HintLink
	if len(f.Fields) > 0 && shownBy(f.Form, f.Fields) {
		f.Error = "Nothing was changed: please correct what is marked below."
	}
	if kerr := s.keepFlash(r, f); kerr != nil {
		s.logger.Error("keep flash", "path", r.URL.Path, "error", kerr)
		s.renderProblem(w, r, p)
		return
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// shownBy reports whether form marks every field of fields.
func shownBy(form string, fields map[string]string) bool {
	for name := range fields {
		if !slices.Contains(formFields[form], name) {
			return false
		}
	}
	return true
}

// pathOf is a portal URL's path, without its query.
func pathOf(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Path
	}
	return u
}
