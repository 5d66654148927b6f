package main

import (
	"time"

	"github.com/cloudpartners/onboarding/internal/access"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/lifecycle"
	"github.com/cloudpartners/onboarding/internal/onboarding"
)

// The JSON API's wire types: the portal's own, described one for one by
// openapi.json (a test keeps each schema and its type in step), so that
// nothing below the edge — a field renamed, a column added — changes
// what partners' machines read.

// meJSON is GET /api/v1/me.
type meJSON struct {
	Kind         string `json:"kind"`
	ID           string `json:"id"`
	PartnerID    string `json:"partner_id"`
	Role         string `json:"role"`
	PersonalData bool   `json:"personal_data"`
}

// customerRow is one customer of a list.
type customerRow struct {
	ID            string     `json:"id"`
	OnboardingID  string     `json:"onboarding_id"`
	Name          string     `json:"name"`
	Status        string     `json:"status"`
	DisplayStatus string     `json:"display_status"`
	DeletedReason string     `json:"deleted_reason,omitempty"`
	CreatedAt     *time.Time `json:"created_at,omitempty"`
	Deadline      *time.Time `json:"deadline,omitempty"`
	EmailsSent    int        `json:"emails_sent"`
	Clouds        int        `json:"clouds"`
	SuspendedAt   *time.Time `json:"suspended_at,omitempty"`
	DeleteAfter   *time.Time `json:"delete_after,omitempty"`
}

func rowOf(v onboarding.View) customerRow {
	return customerRow{ID: v.SubaccountID, OnboardingID: v.OnboardingID, Name: v.Customer, Status: v.SubaccountStatus,
		DisplayStatus: domain.DisplayStatus(v.SubaccountStatus, v.DeletedReason), DeletedReason: v.DeletedReason, CreatedAt: v.CreatedAt,
		Deadline: v.Deadline, EmailsSent: v.EmailsSent, Clouds: v.CloudCount, SuspendedAt: v.SuspendedAt, DeleteAfter: v.DeleteAfter}
}

// customerListJSON is GET /api/v1/customers.
type customerListJSON struct {
	Customers []customerRow `json:"customers"`
	Next      string        `json:"next"`
	Prev      string        `json:"prev"`
}

// launchedJSON is what POST /api/v1/customers did.
type launchedJSON struct {
	OnboardingID string `json:"onboarding_id"`
	RunID        string `json:"run_id,omitempty"`
	SubaccountID string `json:"subaccount_id,omitempty"`
	Launched     bool   `json:"launched"`
	State        string `json:"state,omitempty"`
}

func launchedOf(l onboarding.Launched) launchedJSON {
	return launchedJSON{OnboardingID: l.OnboardingID, RunID: l.RunID, SubaccountID: l.SubaccountID, Launched: l.Launched, State: l.State}
}

// customerCloudJSON is one cloud of a customer, in its page.
type customerCloudJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// customerJSON is GET /api/v1/customers/{id}: where a customer stands,
// its details and its audit log.
type customerJSON struct {
	OnboardingID     string              `json:"onboarding_id"`
	RunID            string              `json:"run_id,omitempty"`
	PartnerID        string              `json:"partner_id,omitempty"`
	Customer         string              `json:"customer,omitempty"`
	Workflow         string              `json:"workflow,omitempty"`
	Stage            string              `json:"stage,omitempty"`
	Outcome          string              `json:"outcome,omitempty"`
	SubaccountID     string              `json:"subaccount_id,omitempty"`
	SubaccountStatus string              `json:"subaccount_status,omitempty"`
	DeletedReason    string              `json:"deleted_reason,omitempty"`
	CloudName        string              `json:"cloud_name,omitempty"`
	CloudID          string              `json:"cloud_id,omitempty"`
	Deadline         *time.Time          `json:"deadline,omitempty"`
	EmailsSent       int                 `json:"emails_sent"`
	LastSentAt       *time.Time          `json:"last_sent_at,omitempty"`
	NextResendAt     *time.Time          `json:"next_resend_at,omitempty"`
	ConfirmedVia     string              `json:"confirmed_via,omitempty"`
	Failure          string              `json:"failure,omitempty"`
	StartedAt        *time.Time          `json:"started_at,omitempty"`
	ClosedAt         *time.Time          `json:"closed_at,omitempty"`
	CreatedAt        *time.Time          `json:"created_at,omitempty"`
	CloudCount       int                 `json:"cloud_count"`
	Clouds           []customerCloudJSON `json:"clouds,omitempty"`
	SuspendedAt      *time.Time          `json:"suspended_at,omitempty"`
	DeleteAfter      *time.Time          `json:"delete_after,omitempty"`
	SuspendReason    string              `json:"suspend_reason,omitempty"`
	Note             string              `json:"note,omitempty"`
	Email            string              `json:"email"`
	Contact          string              `json:"contact,omitempty"`
	PersonalData     bool                `json:"personal_data_shown"`
	Organization     string              `json:"organization"`
	OrganizationID   string              `json:"organization_id"`
	Display          string              `json:"display_status"`
	Answer           string              `json:"answer,omitempty"`
	Pending          []requestJSON       `json:"pending_requests,omitempty"`
	Audit            []auditEventJSON    `json:"audit,omitempty"`
}

func customerOf(c onboarding.Customer, log []domain.AuditEvent) customerJSON {
	v := c.View
	out := customerJSON{OnboardingID: v.OnboardingID, RunID: v.RunID, PartnerID: v.PartnerID, Customer: v.Customer, Workflow: v.Workflow,
		Stage: v.Stage, Outcome: v.Outcome, SubaccountID: v.SubaccountID, SubaccountStatus: v.SubaccountStatus, DeletedReason: v.DeletedReason,
		CloudName: v.CloudName, CloudID: v.CloudID, Deadline: v.Deadline, EmailsSent: v.EmailsSent, LastSentAt: v.LastSentAt,
		NextResendAt: v.NextResendAt, ConfirmedVia: v.ConfirmedVia, Failure: v.Failure, StartedAt: v.StartedAt, ClosedAt: v.ClosedAt,
		CreatedAt: v.CreatedAt, CloudCount: v.CloudCount, SuspendedAt: v.SuspendedAt, DeleteAfter: v.DeleteAfter,
		SuspendReason: v.SuspendReason, Note: v.Note, Email: c.Email, Contact: c.Contact, PersonalData: c.PersonalData,
		Organization: c.Organization.Name, OrganizationID: c.Organization.ID, Display: c.Display, Answer: c.Answer}
	for _, cl := range v.Clouds {
		out.Clouds = append(out.Clouds, customerCloudJSON{ID: cl.ID, Name: cl.Name, CreatedAt: cl.CreatedAt})
	}
	for _, r := range v.Pending {
		out.Pending = append(out.Pending, requestOf(r))
	}
	for _, e := range log {
		out.Audit = append(out.Audit, auditEventOf(e))
	}
	return out
}

// requestJSON is a request sent to a customer's workflow: the answer 202
// carries while it is accepted and not carried out yet, GET
// /api/v1/requests/{id}, and a customer's pending requests.
type requestJSON struct {
	ID           string     `json:"id"`
	Kind         string     `json:"kind"`
	Status       string     `json:"status"`
	Summary      string     `json:"summary"`
	By           string     `json:"by"`
	SubaccountID string     `json:"subaccount_id,omitempty"`
	OnboardingID string     `json:"onboarding_id,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	FinishedAt   *time.Time `json:"finished_at,omitempty"`
	Reason       string     `json:"reason,omitempty"`
	Poll         string     `json:"poll"`
}

func requestOf(r domain.Request) requestJSON {
	return requestJSON{ID: r.ID, Kind: r.Kind, Status: r.Status, Summary: r.Summary, By: r.ActorID, SubaccountID: r.SubaccountID,
		OnboardingID: r.OnboardingID, CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt, Reason: r.Reason, Poll: pollPath(r.ID)}
}

// pollPath is where a request is followed.
func pollPath(id string) string { return "/api/v1/requests/" + id }

// requestOrNil is a done request for an answer's "request" field; nil
// when the answer came from the record, no request sent.
func requestOrNil(r domain.Request) *requestJSON {
	if r.ID == "" {
		return nil
	}
	j := requestOf(r)
	return &j
}

// progressJSON is GET /api/v1/customers/{id}/progress: where a customer
// stands as its record alone shows it — what the customer's page polls.
type progressJSON struct {
	SubaccountID  string `json:"subaccount_id"`
	Status        string `json:"subaccount_status"`
	DisplayStatus string `json:"display_status"`
	Stage         string `json:"stage"`
	StageText     string `json:"stage_text"`
	EmailsSent    int    `json:"emails_sent"`
	Clouds        int    `json:"cloud_count"`
}

func progressOf(sa domain.Subaccount) progressJSON {
	return progressJSON{SubaccountID: sa.ID, Status: sa.Status, DisplayStatus: domain.DisplayStatus(sa.Status, sa.DeletedReason),
		Stage: sa.Stage(), StageText: domain.StageText(sa.Stage()), EmailsSent: sa.EmailsSent, Clouds: sa.Clouds}
}

// resentJSON is what POST /api/v1/customers/{id}/resend did.
type resentJSON struct {
	EmailsSent   int          `json:"emails_sent"`
	LastSentAt   time.Time    `json:"last_sent_at"`
	NextResendAt *time.Time   `json:"next_resend_at"`
	Request      *requestJSON `json:"request,omitempty"`
}

// linkJSON is a customer's confirmation link.
type linkJSON struct {
	OnboardingID string    `json:"onboarding_id"`
	SubaccountID string    `json:"subaccount_id"`
	URL          string    `json:"link"`
	ValidUntil   time.Time `json:"valid_until"`
}

// cancelledJSON is what POST /api/v1/customers/{id}/cancel did.
type cancelledJSON struct {
	Outcome      string       `json:"outcome"`
	SubaccountID string       `json:"subaccount_id"`
	Request      *requestJSON `json:"request,omitempty"`
}

// cloudJSON is one of a customer's clouds.
type cloudJSON struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"created_at"`
}

func cloudsOf(cs []domain.Cloud) []cloudJSON {
	out := make([]cloudJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, cloudJSON{ID: c.ID, OrganizationID: c.OrganizationID, Name: c.Name, CreatedAt: c.CreatedAt})
	}
	return out
}

// cloudListJSON is GET /api/v1/customers/{id}/clouds.
type cloudListJSON struct {
	Clouds []cloudJSON `json:"clouds"`
}

// cloudAddedJSON is what POST /api/v1/customers/{id}/clouds did.
type cloudAddedJSON struct {
	SubaccountID string       `json:"subaccount_id"`
	CloudID      string       `json:"cloud_id"`
	Name         string       `json:"name"`
	Organization string       `json:"organization"`
	Created      bool         `json:"created"`
	Request      *requestJSON `json:"request,omitempty"`
}

func cloudAddedOf(c lifecycle.CloudAdded) cloudAddedJSON {
	return cloudAddedJSON{SubaccountID: c.SubaccountID, CloudID: c.Cloud.ID, Name: c.Cloud.Name, Organization: c.Organization.Name, Created: c.Created,
		Request: requestOrNil(c.Request)}
}

// lifecycleJSON is where a customer stands after a suspend or a resume.
type lifecycleJSON struct {
	SubaccountID  string       `json:"subaccount_id"`
	Status        string       `json:"status"`
	SuspendedAt   *time.Time   `json:"suspended_at,omitempty"`
	DeleteAfter   *time.Time   `json:"delete_after,omitempty"`
	SuspendReason string       `json:"suspend_reason,omitempty"`
	Changed       bool         `json:"changed"`
	Request       *requestJSON `json:"request,omitempty"`
}

func lifecycleOf(l lifecycle.Lifecycle) lifecycleJSON {
	return lifecycleJSON{SubaccountID: l.SubaccountID, Status: l.Status, SuspendedAt: l.SuspendedAt, DeleteAfter: l.DeleteAfter,
		SuspendReason: l.SuspendReason, Changed: l.Changed, Request: requestOrNil(l.Request)}
}

// staffJSON is one member of a partner's staff.
type staffJSON struct {
	ID           string     `json:"id"`
	PartnerID    string     `json:"partner_id"`
	Email        string     `json:"email"`
	Name         string     `json:"name,omitempty"`
	Role         string     `json:"role"`
	PersonalData bool       `json:"personal_data"`
	CreatedAt    time.Time  `json:"created_at"`
	CreatedBy    string     `json:"created_by"`
	LastLoginAt  *time.Time `json:"last_login_at,omitempty"`
}

func staffOf(st domain.Staff) staffJSON {
	return staffJSON{ID: st.ID, PartnerID: st.PartnerID, Email: st.Email, Name: st.Name, Role: st.Role, PersonalData: st.PersonalData,
		CreatedAt: st.CreatedAt, CreatedBy: st.CreatedBy, LastLoginAt: st.LastLoginAt}
}

// staffListJSON is GET /api/v1/staff.
type staffListJSON struct {
	Staff []staffJSON `json:"staff"`
}

// staffRemovedJSON is what DELETE /api/v1/staff/{id} did.
type staffRemovedJSON struct {
	Removed string `json:"removed"`
}

// apiKeyJSON is one of a partner's API keys, without its secret.
type apiKeyJSON struct {
	ID         string     `json:"id"`
	PartnerID  string     `json:"partner_id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Prefix     string     `json:"prefix"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

func apiKeyOf(k domain.APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, PartnerID: k.PartnerID, Name: k.Name, Role: k.Role, Prefix: k.Prefix, CreatedBy: k.CreatedBy,
		CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

// apiKeyListJSON is GET /api/v1/api-keys.
type apiKeyListJSON struct {
	APIKeys []apiKeyJSON `json:"api_keys"`
}

// newAPIKeyJSON is a key just created, with its secret, shown this once.
type newAPIKeyJSON struct {
	apiKeyJSON
	Secret string `json:"secret"`
}

func newAPIKeyOf(k access.NewAPIKey) newAPIKeyJSON {
	return newAPIKeyJSON{apiKeyJSON: apiKeyOf(k.APIKey), Secret: k.Secret}
}

// auditEventJSON is one action in a customer's audit log.
type auditEventJSON struct {
	ID           int64     `json:"id"`
	At           time.Time `json:"at"`
	PartnerID    string    `json:"partner_id,omitempty"`
	ActorKind    string    `json:"actor_kind"`
	ActorID      string    `json:"actor"`
	Action       string    `json:"action"`
	SubaccountID string    `json:"subaccount_id,omitempty"`
	OnboardingID string    `json:"onboarding_id,omitempty"`
	Addr         string    `json:"addr,omitempty"`
	Outcome      string    `json:"outcome"`
	Detail       string    `json:"detail,omitempty"`
}

func auditEventOf(e domain.AuditEvent) auditEventJSON {
	return auditEventJSON{ID: e.ID, At: e.At, PartnerID: e.PartnerID, ActorKind: e.ActorKind, ActorID: e.ActorID, Action: e.Action,
		SubaccountID: e.SubaccountID, OnboardingID: e.OnboardingID, Addr: e.Addr, Outcome: e.Outcome, Detail: e.Detail}
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
