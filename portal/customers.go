package main

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
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
	s.render(w, r, http.StatusOK, "dashboard", page{Title: "Customers", Nav: "customers", Data: d})
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
	d := newCustomerData{Within: "168h", Windows: windows}
	f := s.takeFlash(r)
	if v := f.Values; f.Form == "new" {
		d.Name, d.Email, d.Contact, d.Cloud, d.Within, d.Errors = v["name"], v["email"], v["contact"], v["cloud"], v["confirm_within"], f.Fields
	}
	s.render(w, r, http.StatusOK, "new", page{Title: "Add customer", Nav: "new", Data: d, flash: &f})
}

func canEdit(r *http.Request) bool {
	role := actor(r).Role
	return role == domain.StaffOwner || role == domain.StaffEditor
}

// addCustomer launches the onboarding of the form's customer and goes to
// its page; refused, back to the form with what was typed. Submitting
// twice launches once: the same customer is found.
func (s *server) addCustomer(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	typed := map[string]string{"name": f.Get("name"), "email": strings.TrimSpace(f.Get("email")), "contact": strings.TrimSpace(f.Get("contact")),
		"cloud": strings.TrimSpace(f.Get("cloud")), "confirm_within": f.Get("confirm_within")}
	within, withinErr := domain.ParseConfirmWithin(typed["confirm_within"])
	c := onboarding.NewCustomer{Name: typed["name"], Email: typed["email"], Contact: typed["contact"], Cloud: typed["cloud"], ConfirmWithin: within}
	var l onboarding.Launched
	var err error
	if withinErr != nil {
		err = errors.Join(c.Validate(), withinErr) // nothing is launched with a window out of range
	} else {
		l, err = s.actions.Onboarding.Launch(r.Context(), actor(r), actor(r).PartnerID, c)
	}
	if err != nil {
		s.formFailed(w, r, "/customers/new", flash{Form: "new", Values: typed}, err)
		return
	}
	if l.SubaccountID == "" || !s.actions.Onboarding.AwaitRecord(r.Context(), actor(r), l.SubaccountID, 5*time.Second) {
		s.sendOn(w, r, "/customers", flash{Notice: "Onboarding launched: the customer appears here as soon as its record is created."})
		return
	}
	msg := "Onboarding launched: the confirmation email is on its way."
	if !l.Launched {
		msg = "This customer was added before: nothing new was created."
	}
	s.sendOn(w, r, customerPath(l.SubaccountID), flash{Notice: msg})
}

// customerPath is the address of a customer's page.
func customerPath(id string) string { return "/customers/" + url.PathEscape(id) }

// customerData is what the customer's page shows.
type customerData struct {
	onboarding.Customer
	Audit          []domain.AuditEvent
	Name           string // the customer's name (the embedded Customer shadows View.Customer)
	StatusText     string // the status in words, and why it was deleted where its word does not say
	StageLine      progressLine
	CanResend      bool
	ResendAt       *time.Time // when the next resend is allowed, if later
	Link           *shownLink
	Edit           editForm
	CloudName      string
	CloudError     string
	Suspend        suspendForm
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

// suspendForm is the stop-services section's values and errors.
type suspendForm struct {
	Reason, Retention string
	Errors            map[string]string
}

// progressLine is where a customer's onboarding stands, in words
// (domain.ProgressText), and the time it waits until, if it waits.
type progressLine struct {
	Text  string
	Until *time.Time
}

func progressLineOf(c onboarding.Customer) progressLine {
	stage := c.Stage
	switch {
	case stage == "" && c.Progress != "":
		stage = c.Progress // the workflow's stage is not known: the record's
	case stage == "":
		stage = domain.StageCreating
	}
	p := progressLine{Text: domain.ProgressText(stage, c.Outcome)}
	if stage == domain.StageAwaiting && c.Outcome == "" {
		p.Until = c.Deadline
	}
	return p
}

var retentions = []window{{"168h", "7 days"}, {"720h", "30 days"}, {"1440h", "60 days (the most)"}}

// customerPage shows a customer, and what the session's flash says of
// the form sent last: a link asked for, a form's values and errors.
func (s *server) customerPage(w http.ResponseWriter, r *http.Request) {
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
	d := customerData{Customer: c, Audit: log, Name: c.View.Customer, StageLine: progressLineOf(c), Retentions: retentions,
		Active:        c.SubaccountStatus == domain.StatusActive,
		Suspended:     c.SubaccountStatus == domain.StatusSuspended,
		Unconfirmed:   c.SubaccountStatus == domain.StatusAcceptanceRequired,
		NameImmutable: "The name cannot be changed here: only the customer's contact person may rename the subaccount.",
		Suspend:       suspendForm{Retention: "1440h"},
	}
	d.StatusText = c.Display
	if c.DeletedReason != "" && c.Display == domain.StatusLabel(domain.StatusInactive) {
		d.StatusText += ": " + domain.ReasonText(c.DeletedReason)
	}
	d.WaitingAnswer = d.Unconfirmed && c.Running() && c.Stage == domain.StageAwaiting
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
	f := s.takeFlash(r)
	switch v := f.Values; f.Form {
	case "edit":
		d.Edit = editForm{Email: v["email"], Contact: v["contact"], Cloud: v["cloud"], Errors: f.Fields}
	case "cloud":
		d.CloudName, d.CloudError = v["name"], f.Fields["cloud"]
	case "suspend":
		d.Suspend = suspendForm{Reason: v["reason"], Retention: v["retention"], Errors: f.Fields}
	}
	d.Link = f.ConfirmLink
	s.render(w, r, http.StatusOK, "customer", page{Title: c.View.Customer, Nav: "customers", Data: d, flash: &f})
}

// acted answers a customer action: back to the customer's page, saying
// what was done, or why it was not (with form's values, if a form of the
// page sent it).
func (s *server) acted(w http.ResponseWriter, r *http.Request, err error, done string, form flash) {
	path := customerPath(r.PathValue("id"))
	if err != nil {
		s.formFailed(w, r, path, form, err)
		return
	}
	s.sendOn(w, r, path, flash{Notice: done})
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
	s.acted(w, r, err, pendingNotice(res.Request, "Confirmation email sent again ("+strconv.Itoa(res.Status.EmailsSent)+" sent so far)."), flash{})
}

// copyLink shows the customer's confirmation link on its page, once.
func (s *server) copyLink(w http.ResponseWriter, r *http.Request) {
	l, err := s.actions.Onboarding.Link(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		s.acted(w, r, err, "", flash{})
		return
	}
	s.sendOn(w, r, customerPath(r.PathValue("id")), flash{ConfirmLink: &shownLink{URL: l.URL, ValidUntil: l.ValidUntil}})
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
	s.acted(w, r, err, pendingNotice(c.Request, "The unconfirmed customer is deleted: its organization is deleted, its role bindings revoked and its link dead."), flash{})
}

// editCustomer changes what the form changes: a field left empty is kept.
func (s *server) editCustomer(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	var e domain.Edit
	typed := map[string]string{}
	for _, fld := range []struct {
		name string
		dst  **string
	}{{"email", &e.Email}, {"contact", &e.Contact}, {"cloud", &e.CloudName}} {
		if v := strings.TrimSpace(f.Get(fld.name)); v != "" {
			*fld.dst, typed[fld.name] = &v, v
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
		s.acted(w, r, nil, "Nothing was changed.", flash{})
		return
	}
	_, err = s.actions.Onboarding.Edit(r.Context(), actor(r), r.PathValue("id"), e)
	s.acted(w, r, err, "Saved.", flash{Form: "edit", Values: typed})
}

func (s *server) addCloud(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	c, err := s.actions.Lifecycle.AddCloud(r.Context(), actor(r), r.PathValue("id"), name, formRequest(r))
	msg := "Cloud " + c.Cloud.Name + " created in " + c.Organization.Name + "."
	if err == nil && !c.Created {
		msg = "Cloud " + c.Cloud.Name + " exists already: nothing new was created."
	}
	s.acted(w, r, err, pendingNotice(c.Request, msg), flash{Form: "cloud", Values: map[string]string{"name": name}})
}

func (s *server) suspend(w http.ResponseWriter, r *http.Request) {
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	form := flash{Form: "suspend", Values: map[string]string{"reason": reason, "retention": r.PostForm.Get("retention")}}
	retention, err := domain.ParseRetention(r.PostForm.Get("retention"))
	if err != nil {
		s.acted(w, r, err, "", form)
		return
	}
	l, err := s.actions.Lifecycle.Suspend(r.Context(), actor(r), r.PathValue("id"), reason, retention, formRequest(r))
	msg := "Services stopped."
	if l.DeleteAfter != nil {
		msg += " Unless they are resumed, the customer is deleted when the data's retention ends (shown below)."
	}
	s.acted(w, r, err, pendingNotice(l.Request, msg), form)
}

func (s *server) resume(w http.ResponseWriter, r *http.Request) {
	l, err := s.actions.Lifecycle.Resume(r.Context(), actor(r), r.PathValue("id"), formRequest(r))
	s.acted(w, r, err, pendingNotice(l.Request, "Services resumed: the customer is active again and will not be deleted."), flash{})
}
