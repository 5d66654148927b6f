// Package onboarding holds the actions on an onboarding — launch, the
// customer's confirm and decline, resend, cancel, edit, link, status and
// list — written once over the Temporal client and the store. Every edge
// (the starter CLI, the webhook, the portal and its API) calls these and
// only translates. Each action takes the actor it is taken by: its role
// is checked, its partner scope goes into every read, and it is audited.
package onboarding

import (
	"time"

	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/internal/audit"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/request"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/workflows"
)

// Settings are what the actions need of the configuration.
type Settings struct {
	TaskQueue string // the onboarding workflows' task queue
	PublicURL string // where customers reach the webhook: links point here
	Secret    []byte // signs confirmation links
	// The defaults of a new onboarding, fixed into it at launch.
	ConfirmWithin time.Duration
	ResendAfter   time.Duration
	MaxSends      int
}

// Service carries out the actions. It is safe for concurrent use.
type Service struct {
	temporal client.Client
	store    *store.Store
	audit    *audit.Log
	requests *request.Sender
	links    *links.Signer
	set      Settings
	now      func() time.Time
	wfType   string // Yardstick's workflow type; empty: the onboarding
}

// New returns the actions over a Temporal client, the store and the audit log.
func New(set Settings, st *store.Store, tc client.Client, log *audit.Log, requests *request.Sender) *Service {
	if set.ConfirmWithin == 0 {
		set.ConfirmWithin = domain.DefaultConfirmWithin
	}
	return &Service{temporal: tc, store: st, audit: log, requests: requests, links: links.NewSigner(set.Secret), set: set, now: time.Now}
}

// Yardstick returns a copy of the service that launches another workflow
// type on another task queue with exactly the same start: the benchmark's
// ceiling — the onboarding workflow itself over activities that do
// nothing — measured against the real one.
func (s *Service) Yardstick(taskQueue, workflowType string) *Service {
	c := *s
	c.set.TaskQueue, c.wfType = taskQueue, workflowType
	return &c
}

func (s *Service) workflowType() string {
	if s.wfType != "" {
		return s.wfType
	}
	return workflows.WorkflowName
}

// target is what an action is on, for the audit log, as far as it is known.
func target(by domain.Actor, ref string, sa *domain.Subaccount) audit.Target {
	if sa != nil && sa.ID != "" {
		return audit.Target{PartnerID: sa.PartnerID, SubaccountID: sa.ID, OnboardingID: sa.OnboardingID}
	}
	t := audit.Target{PartnerID: by.PartnerID, OnboardingID: ref}
	if p := workflows.PartnerOf(ref); p != "" && by.Sees(p) {
		t.PartnerID = p
	}
	return t
}
