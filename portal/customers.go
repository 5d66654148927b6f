package main

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/lifecycle"
	"github.com/cloudpartners/onboarding/internal/onboarding"
)

// tab is one of the dashboard's status tabs: a subaccount status, or the
// reason a deleted one was deleted.
type tab struct {
	Key, Label, Status, Reason string
}

var tabs = []tab{
	{"", "All", "", ""},
	{"verification", "Verification required", domain.StatusAcceptanceRequired, ""},
	{"active", "Active", domain.StatusActive, ""},
	{"suspended", "Suspended", domain.StatusSuspended, ""},
	{"inactive", "Inactive", domain.StatusInactive, ""},
	{"declined", "Declined", "", domain.ReasonDeclined},
	{"expired", "Expired", "", domain.ReasonExpired},
	{"cancelled", "Cancelled", "", domain.ReasonCancelled},
}

// pageSize is how many customers a dashboard page shows.
const pageSize = 50

// dashboardData is what the dashboard shows.
type dashboardData struct {
	Tabs      []tab
	Tab       string
	Search    string
	Rows      []onboarding.View
	First     string // links to the pages around this one, "" where there is none
	Prev      string
	Next      string
	Last      string
	Filtering bool
}

// listQuery reads the dashboard's filters and page from the URL, where
// they live so that a page can be bookmarked and shared.
func listQuery(q url.Values, limit int) (onboarding.ListQuery, string) {
	lq := onboarding.ListQuery{Search: strings.TrimSpace(q.Get("q")), After: q.Get("after"), Before: q.Get("before"),
		Last: q.Get("last") == "1", Limit: limit}
	key := q.Get("status")
	for _, t := range tabs {
		if t.Key == key {
			lq.Status, lq.Reason = t.Status, t.Reason
			return lq, key
		}
	}
	return lq, ""
}

func (s *server) dashboard(w http.ResponseWriter, r *http.Request) {
	lq, key := listQuery(r.URL.Query(), pageSize)
	l, err := s.actions.Onboarding.List(r.Context(), actor(r), lq)
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	link := func(extra url.Values) string {
		v := url.Values{}
		if key != "" {
			v.Set("status", key)
		}
		if lq.Search != "" {
			v.Set("q", lq.Search)
		}
		for k, vs := range extra {
			v[k] = vs
		}
		if len(v) == 0 {
			return "/customers"
		}
		return "/customers?" + v.Encode()
	}
	d := dashboardData{Tabs: tabs, Tab: key, Search: lq.Search, Rows: l.Onboardings, Filtering: key != "" || lq.Search != ""}
	atStart := lq.After == "" && lq.Before == "" && !lq.Last
	if l.Prev != "" || (!atStart && lq.Before == "") {
		d.First = link(nil)
	}
	if l.Prev != "" {
		d.Prev = link(url.Values{"before": {l.Prev}})
	}
	if l.Next != "" {
		d.Next = link(url.Values{"after": {l.Next}})
		d.Last = link(url.Values{"last": {"1"}})
	}
	s.render(w, r, http.StatusOK, "dashboard", page{Title: "Customers", Nav: "customers", Notice: notice(r), Data: d})
}

// newCustomerData is the add-customer form, its values and its errors by field.
type newCustomerData struct {
	Name, Email, Contact, Cloud, Within string
	Errors                              map[string]string
	Windows                             []window
}

// window is a choice of confirmation window.
type window struct {
	Value, Label string
}

var windows = []window{{"24h", "1 day"}, {"72h", "3 days"}, {"168h", "7 days (default)"}, {"336h", "14 days"}, {"720h", "30 days"}}

func (s *server) newCustomerForm(w http.ResponseWriter, r *http.Request) {
	if !canEdit(r) {
		s.failPage(w, r, domain.ErrForbidden)
		return
	}
	s.render(w, r, http.StatusOK, "new", page{Title: "Add customer", Nav: "new", Data: newCustomerData{Within: "168h", Windows: windows}})
}

func canEdit(r *http.Request) bool {
	role := actor(r).Role
	return role == domain.StaffOwner || role == domain.StaffEditor
}

// addCustomer launches the onboarding of the form's customer and goes to
// its page. Submitting twice launches once: the same customer is found.
func (s *server) addCustomer(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	d := newCustomerData{Name: f.Get("name"), Email: strings.TrimSpace(f.Get("email")), Contact: strings.TrimSpace(f.Get("contact")),
		Cloud: strings.TrimSpace(f.Get("cloud")), Within: f.Get("confirm_within"), Windows: windows}
	within, withinErr := domain.ParseConfirmWithin(d.Within)
	c := onboarding.NewCustomer{Name: d.Name, Email: d.Email, Contact: d.Contact, Cloud: d.Cloud, ConfirmWithin: within}
	var l onboarding.Launched
	var err error
	if withinErr != nil {
		err = errors.Join(c.Validate(), withinErr) // nothing is launched with a window out of range
	} else {
		l, err = s.actions.Onboarding.Launch(r.Context(), actor(r), actor(r).PartnerID, c)
	}
	if fe := domain.Fields(err); len(fe) > 0 {
		d.Errors = fe
		s.render(w, r, http.StatusUnprocessableEntity, "new", page{Title: "Add customer", Nav: "new", Data: d})
		return
	}
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	if l.SubaccountID == "" || !s.actions.Onboarding.AwaitRecord(r.Context(), actor(r), l.SubaccountID, 5*time.Second) {
		seeOther(w, r, "/customers", "Onboarding launched: the customer appears here as soon as its record is created.")
		return
	}
	msg := "Onboarding launched: the confirmation email is on its way."
	if !l.Launched {
		msg = "This customer was added before: nothing new was created."
	}
	seeOther(w, r, "/customers/"+l.SubaccountID, msg)
}

// customerData is what the customer's page shows.
type customerData struct {
	onboarding.Customer
	Audit          []domain.AuditEvent
	Name           string // the customer's name (the embedded Customer shadows View.Customer)
	CanResend      bool
	ResendAt       *time.Time // when the next resend is allowed, if later
	Link           *onboarding.Link
	Edit           editForm
	CloudName      string
	CloudError     string
	Retentions     []window
	WaitingAnswer  bool
	Active         bool
	Suspended      bool
	Unconfirmed    bool
	NameImmutable  string
	MoreEmailsLeft bool
}

// editForm is the edit section's values and errors.
type editForm struct {
	Email, Contact, Cloud string
	Errors                map[string]string
}

var retentions = []window{{"168h", "7 days"}, {"720h", "30 days"}, {"1440h", "60 days (the most)"}}

func (s *server) customerPage(w http.ResponseWriter, r *http.Request) {
	s.showCustomer(w, r, http.StatusOK, nil, func(*customerData) {})
}

// showCustomer renders the customer's page, changed by with (a link
// shown, form errors), with status.
func (s *server) showCustomer(w http.ResponseWriter, r *http.Request, status int, pageErr error, with func(*customerData)) {
	c, err := s.actions.Onboarding.Customer(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	var log []domain.AuditEvent
	if c.SubaccountID != "" {
		if log, err = s.actions.Audit.Customer(r.Context(), actor(r), c.SubaccountID); err != nil {
			s.failPage(w, r, err)
			return
		}
	}
	d := customerData{Customer: c, Audit: log, Name: c.View.Customer, Retentions: retentions,
		Active:        c.SubaccountStatus == domain.StatusActive,
		Suspended:     c.SubaccountStatus == domain.StatusSuspended,
		Unconfirmed:   c.SubaccountStatus == domain.StatusAcceptanceRequired,
		NameImmutable: "The name cannot be changed here: only the customer's contact person may rename the subaccount.",
	}
	d.WaitingAnswer = d.Unconfirmed && c.Running() && c.Stage == "AWAITING_CONFIRMATION"
	d.MoreEmailsLeft = c.NextResendAt != nil
	if d.WaitingAnswer && c.NextResendAt != nil {
		if s.now().Before(*c.NextResendAt) {
			d.ResendAt = c.NextResendAt
		} else {
			d.CanResend = true
		}
	}
	if c.PersonalData {
		d.Edit = editForm{Email: c.Email, Contact: c.Contact}
	}
	d.Edit.Cloud = c.CloudName
	with(&d)
	notice := notice(r)
	if pageErr != nil {
		notice = problemFor(pageErr).Text
	}
	s.render(w, r, status, "customer", page{Title: c.View.Customer, Nav: "customers", Notice: notice, Data: d})
}

// acted answers a customer action: back to the page with what was done,
// or the page with why it was not.
func (s *server) acted(w http.ResponseWriter, r *http.Request, err error, done string) {
	if err != nil {
		p := problemFor(err)
		if p.Status >= 500 || p.Status == http.StatusNotFound || p.Status == http.StatusForbidden {
			s.failPage(w, r, err)
			return
		}
		s.logProblem(r, p, err)
		s.showCustomer(w, r, p.Status, err, func(*customerData) {})
		return
	}
	seeOther(w, r, "/customers/"+url.PathEscape(r.PathValue("id")), done)
}

// formRequest is the request id a page's form carries (a new UUID each
// time the page is shown): the same form sent twice — a double click, a
// retry — is one request.
func formRequest(r *http.Request) string { return strings.TrimSpace(r.PostForm.Get("request_id")) }

// pendingNotice is what the page says of a request accepted and not
// carried out yet, or done, else.
func pendingNotice(req domain.Request, done string) string {
	if req.Pending() {
		return "Accepted: " + req.Summary + ". It is recorded and will be carried out as soon as the onboarding service takes it; it shows below under Pending requests until then."
	}
	return done
}

func (s *server) resend(w http.ResponseWriter, r *http.Request) {
	res, err := s.actions.Onboarding.Resend(r.Context(), actor(r), r.PathValue("id"), formRequest(r))
	s.acted(w, r, err, pendingNotice(res.Request, "Confirmation email sent again ("+strconv.Itoa(res.Status.EmailsSent)+" sent so far)."))
}

func (s *server) copyLink(w http.ResponseWriter, r *http.Request) {
	l, err := s.actions.Onboarding.Link(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		s.acted(w, r, err, "")
		return
	}
	s.showCustomer(w, r, http.StatusOK, nil, func(d *customerData) { d.Link = &l })
}

func (s *server) deleteForm(w http.ResponseWriter, r *http.Request) {
	c, err := s.actions.Onboarding.Customer(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "delete", page{Title: "Delete " + c.View.Customer, Nav: "customers", Data: c})
}

func (s *server) deleteCustomer(w http.ResponseWriter, r *http.Request) {
	c, err := s.actions.Onboarding.Cancel(r.Context(), actor(r), r.PathValue("id"), formRequest(r))
	s.acted(w, r, err, pendingNotice(c.Request, "The unconfirmed customer is deleted: its organization is deleted, its role bindings revoked and its link dead."))
}

// editCustomer changes what the form changes: a field left empty is kept.
func (s *server) editCustomer(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	var e domain.Edit
	var form editForm
	for _, fld := range []struct {
		name string
		dst  **string
		val  *string
	}{{"email", &e.Email, &form.Email}, {"contact", &e.Contact, &form.Contact}, {"cloud", &e.CloudName, &form.Cloud}} {
		if v := strings.TrimSpace(f.Get(fld.name)); v != "" {
			*fld.dst, *fld.val = &v, v
		}
	}
	if f.Has("name") {
		name := f.Get("name")
		e.Name = &name
	}
	// Unchanged values are not edits.
	c, err := s.actions.Onboarding.Customer(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	if e.Email != nil && *e.Email == c.Email {
		e.Email = nil
	}
	if e.Contact != nil && *e.Contact == c.Contact {
		e.Contact = nil
	}
	if e.CloudName != nil && *e.CloudName == c.CloudName {
		e.CloudName = nil
	}
	if e.Empty() {
		seeOther(w, r, "/customers/"+url.PathEscape(r.PathValue("id")), "Nothing was changed.")
		return
	}
	_, err = s.actions.Onboarding.Edit(r.Context(), actor(r), r.PathValue("id"), e)
	if fe := domain.Fields(err); len(fe) > 0 {
		form.Errors = fe
		s.logProblem(r, problemFor(err), err)
		s.showCustomer(w, r, http.StatusUnprocessableEntity, nil, func(d *customerData) { d.Edit = form })
		return
	}
	s.acted(w, r, err, "Saved.")
}

func (s *server) addCloud(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	c, err := s.actions.Lifecycle.AddCloud(r.Context(), actor(r), r.PathValue("id"), name, formRequest(r))
	if fe := domain.Fields(err); len(fe) > 0 {
		s.logProblem(r, problemFor(err), err)
		s.showCustomer(w, r, http.StatusUnprocessableEntity, nil, func(d *customerData) { d.CloudName, d.CloudError = name, fe["cloud"] })
		return
	}
	msg := "Cloud " + c.Cloud.Name + " created in " + c.Organization.Name + "."
	if err == nil && !c.Created {
		msg = "Cloud " + c.Cloud.Name + " exists already: nothing new was created."
	}
	s.acted(w, r, err, pendingNotice(c.Request, msg))
}

func (s *server) suspend(w http.ResponseWriter, r *http.Request) {
	retention, err := domain.ParseRetention(r.PostForm.Get("retention"))
	if err != nil {
		s.acted(w, r, err, "")
		return
	}
	var l lifecycle.Lifecycle
	l, err = s.actions.Lifecycle.Suspend(r.Context(), actor(r), r.PathValue("id"), strings.TrimSpace(r.PostForm.Get("reason")), retention, formRequest(r))
	msg := "Services stopped."
	if l.DeleteAfter != nil {
		msg += " Unless resumed, the customer is deleted at " + l.DeleteAfter.UTC().Format("2006-01-02 15:04 UTC") + "."
	}
	s.acted(w, r, err, pendingNotice(l.Request, msg))
}

func (s *server) resume(w http.ResponseWriter, r *http.Request) {
	l, err := s.actions.Lifecycle.Resume(r.Context(), actor(r), r.PathValue("id"), formRequest(r))
	s.acted(w, r, err, pendingNotice(l.Request, "Services resumed: the customer is active again and will not be deleted."))
}
