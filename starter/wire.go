package main

import (
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/lifecycle"
	"github.com/cloudpartners/onboarding/internal/onboarding"
)

// The CLI's --json output: the starter's own types, so that nothing below
// the edge changes what scripts read.

type partnerJSON struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	PartnerStatus bool      `json:"partner_status"`
	CreatedAt     time.Time `json:"created_at"`
}

func partnerOf(p domain.Partner) partnerJSON {
	return partnerJSON{ID: p.ID, Name: p.Name, PartnerStatus: p.PartnerStatus, CreatedAt: p.CreatedAt}
}

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

type viewCloudJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// viewJSON is where an onboarding stands: status --json, and each row of list --json.
type viewJSON struct {
	OnboardingID     string          `json:"onboarding_id"`
	RunID            string          `json:"run_id,omitempty"`
	PartnerID        string          `json:"partner_id,omitempty"`
	Customer         string          `json:"customer,omitempty"`
	Workflow         string          `json:"workflow,omitempty"`
	Stage            string          `json:"stage,omitempty"`
	Outcome          string          `json:"outcome,omitempty"`
	SubaccountID     string          `json:"subaccount_id,omitempty"`
	SubaccountStatus string          `json:"subaccount_status,omitempty"`
	DeletedReason    string          `json:"deleted_reason,omitempty"`
	CloudName        string          `json:"cloud_name,omitempty"`
	CloudID          string          `json:"cloud_id,omitempty"`
	Deadline         *time.Time      `json:"deadline,omitempty"`
	EmailsSent       int             `json:"emails_sent"`
	LastSentAt       *time.Time      `json:"last_sent_at,omitempty"`
	NextResendAt     *time.Time      `json:"next_resend_at,omitempty"`
	ConfirmedVia     string          `json:"confirmed_via,omitempty"`
	Failure          string          `json:"failure,omitempty"`
	StartedAt        *time.Time      `json:"started_at,omitempty"`
	ClosedAt         *time.Time      `json:"closed_at,omitempty"`
	CreatedAt        *time.Time      `json:"created_at,omitempty"`
	CloudCount       int             `json:"cloud_count"`
	Clouds           []viewCloudJSON `json:"clouds,omitempty"`
	SuspendedAt      *time.Time      `json:"suspended_at,omitempty"`
	DeleteAfter      *time.Time      `json:"delete_after,omitempty"`
	SuspendReason    string          `json:"suspend_reason,omitempty"`
	Note             string          `json:"note,omitempty"`
	Pending          []requestJSON   `json:"pending_requests,omitempty"`
}

func viewOf(v onboarding.View) viewJSON {
	out := viewJSON{OnboardingID: v.OnboardingID, RunID: v.RunID, PartnerID: v.PartnerID, Customer: v.Customer, Workflow: v.Workflow,
		Stage: v.Stage, Outcome: v.Outcome, SubaccountID: v.SubaccountID, SubaccountStatus: v.SubaccountStatus, DeletedReason: v.DeletedReason,
		CloudName: v.CloudName, CloudID: v.CloudID, Deadline: v.Deadline, EmailsSent: v.EmailsSent, LastSentAt: v.LastSentAt,
		NextResendAt: v.NextResendAt, ConfirmedVia: v.ConfirmedVia, Failure: v.Failure, StartedAt: v.StartedAt, ClosedAt: v.ClosedAt,
		CreatedAt: v.CreatedAt, CloudCount: v.CloudCount, SuspendedAt: v.SuspendedAt, DeleteAfter: v.DeleteAfter,
		SuspendReason: v.SuspendReason, Note: v.Note}
	for _, r := range v.Pending {
		out.Pending = append(out.Pending, *requestOf(r))
	}
	for _, c := range v.Clouds {
		out.Clouds = append(out.Clouds, viewCloudJSON{ID: c.ID, Name: c.Name, CreatedAt: c.CreatedAt})
	}
	return out
}

type listJSON struct {
	Onboardings []viewJSON `json:"onboardings"`
	Next        string     `json:"next,omitempty"`
	Prev        string     `json:"prev,omitempty"`
}

// requestJSON is a request sent to a workflow: accepted (carried out
// when a worker takes it), done or refused.
type requestJSON struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Status     string     `json:"status"`
	Summary    string     `json:"summary,omitempty"`
	By         string     `json:"by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

func requestOf(r domain.Request) *requestJSON {
	if r.ID == "" {
		return nil
	}
	return &requestJSON{ID: r.ID, Kind: r.Kind, Status: r.Status, Summary: r.Summary, By: r.ActorID, CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt}
}

// resentJSON is what resend prints.
type resentJSON struct {
	OnboardingID string       `json:"onboarding_id"`
	Request      *requestJSON `json:"request"`
	EmailsSent   int          `json:"emails_sent,omitempty"`
	LastSentAt   *time.Time   `json:"last_sent_at,omitempty"`
	NextResendAt *time.Time   `json:"next_resend_at,omitempty"`
	Deadline     *time.Time   `json:"deadline,omitempty"`
}

// cancelledJSON is what cancel prints.
type cancelledJSON struct {
	OnboardingID string       `json:"onboarding_id"`
	Request      *requestJSON `json:"request"`
	Outcome      string       `json:"outcome,omitempty"`
	SubaccountID string       `json:"subaccount_id,omitempty"`
}

type linkJSON struct {
	OnboardingID string    `json:"onboarding_id"`
	SubaccountID string    `json:"subaccount_id"`
	URL          string    `json:"link"`
	ValidUntil   time.Time `json:"valid_until"`
}

// subaccountJSON is a customer record as edit --json prints it: no
// personal data.
type subaccountJSON struct {
	ID              string     `json:"id"`
	PartnerID       string     `json:"partner_id"`
	PartnerName     string     `json:"partner_name"`
	OnboardingID    string     `json:"onboarding_id"`
	RunID           string     `json:"run_id,omitempty"`
	Name            string     `json:"name"`
	CloudName       string     `json:"cloud_name"`
	Status          string     `json:"status"`
	ConfirmDeadline time.Time  `json:"confirm_deadline"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	ActivatedAt     *time.Time `json:"activated_at,omitempty"`
	DeletedAt       *time.Time `json:"deleted_at,omitempty"`
	DeletedReason   string     `json:"deleted_reason,omitempty"`
	OrganizationID  string     `json:"organization_id"`
	CloudID         string     `json:"cloud_id,omitempty"`
	Clouds          int        `json:"clouds"`
	EmailsSent      int        `json:"emails_sent"`
	Answer          string     `json:"answer,omitempty"`
	SuspensionID    string     `json:"suspension_id,omitempty"`
	SuspendedAt     *time.Time `json:"suspended_at,omitempty"`
	DeleteAfter     *time.Time `json:"delete_after,omitempty"`
	SuspendReason   string     `json:"suspend_reason,omitempty"`
}

func subaccountOf(sa domain.Subaccount) subaccountJSON {
	return subaccountJSON{ID: sa.ID, PartnerID: sa.PartnerID, PartnerName: sa.PartnerName, OnboardingID: sa.OnboardingID, RunID: sa.RunID,
		Name: sa.Name, CloudName: sa.CloudName, Status: sa.Status, ConfirmDeadline: sa.ConfirmDeadline, CreatedAt: sa.CreatedAt,
		UpdatedAt: sa.UpdatedAt, ActivatedAt: sa.ActivatedAt, DeletedAt: sa.DeletedAt, DeletedReason: sa.DeletedReason,
		OrganizationID: sa.OrganizationID, CloudID: sa.CloudID, Clouds: sa.Clouds, EmailsSent: sa.EmailsSent, Answer: sa.Answer,
		SuspensionID: sa.SuspensionID, SuspendedAt: sa.SuspendedAt, DeleteAfter: sa.DeleteAfter, SuspendReason: sa.SuspendReason}
}

type editedJSON struct {
	OnboardingID string         `json:"onboarding_id"`
	Changed      []string       `json:"changed"`
	Subaccount   subaccountJSON `json:"subaccount"`
}

type cloudAddedJSON struct {
	SubaccountID string       `json:"subaccount_id"`
	CloudID      string       `json:"cloud_id,omitempty"`
	Name         string       `json:"name"`
	Organization string       `json:"organization"`
	Created      bool         `json:"created"`
	Request      *requestJSON `json:"request,omitempty"`
}

type cloudJSON struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"created_at"`
}

type cloudListJSON struct {
	Clouds []cloudJSON `json:"clouds"`
}

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
		SuspendReason: l.SuspendReason, Changed: l.Changed, Request: requestOf(l.Request)}
}

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

type staffListJSON struct {
	Staff []staffJSON `json:"staff"`
}

// exportedJSON is what `audit export --output FILE --json` prints.
type exportedJSON struct {
	Output string `json:"output"`
	Format string `json:"format"`
	Events int    `json:"events"`
}
