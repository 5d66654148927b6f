// Package onboarding holds the actions partners and operators take on
// onboardings — launch, resend, cancel, edit, link, status, list — and the
// customer's confirmation, written once over the Temporal client and the
// store. Every edge (the starter CLI, the webhook, the portal) calls these
// and only translates: flags or forms in, text, pages or JSON out.
package onboarding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/store"
)

// Service carries out the actions. It is safe for concurrent use.
type Service struct {
	temporal client.Client
	store    *store.Store
	links    *links.Signer
	cfg      config.Config
	now      func() time.Time
	logger   *slog.Logger
	queue    string // Yardstick's task queue; empty: cfg.TaskQueue
	wfType   string // Yardstick's workflow type; empty: the onboarding
	// updateWait is how long a request waits for a worker to take it
	// before it is reported as queued.
	updateWait time.Duration
}

// New returns the actions over a Temporal client and the store, with the
// settings of cfg (task queue, public URL, the defaults of a new onboarding).
func New(cfg config.Config, st *store.Store, tc client.Client) (*Service, error) {
	return &Service{temporal: tc, store: st, links: links.NewSigner(cfg.Secret), cfg: cfg, now: time.Now,
		logger: slog.Default(), updateWait: defaultUpdateWait}, nil
}

// Actor is who takes an action: an operator at the CLI, who may act for
// every partner, or a partner's member of staff or API key, scoped to that
// partner with a role.
type Actor struct {
	Kind         string // ActorOperator, ActorUser or ActorAPIKey
	ID           string // who: an operator's name, a user's email, a key's name and prefix
	PartnerID    string // the partner acted for; empty: every partner (operators only)
	Role         string // customer.StaffOwner, StaffEditor or StaffViewer
	PersonalData bool   // may see customers' email and contact
	Addr         string // where the request came from, for the audit log
}

// Kinds of actors.
const (
	ActorOperator = "operator" // an operator of the platform, at the CLI
	ActorUser     = "user"     // a partner's member of staff, signed in to the portal
	ActorAPIKey   = "api-key"  // a partner's machine, with an API key
)

// Operator is the actor of the CLI: every partner, every action, personal data shown.
func Operator(name string) Actor {
	return Actor{Kind: ActorOperator, ID: name, Role: customer.StaffOwner, PersonalData: true}
}

// sees reports whether the actor may see the partner's onboardings.
func (a Actor) sees(partnerID string) bool { return a.PartnerID == "" || a.PartnerID == partnerID }

// permission is what an action needs of the actor's role.
type permission int

// Permissions, each role holding its own and those below.
const (
	permRead  permission = iota // every role
	permWrite                   // editors and owners: add, edit, resend, link, delete unconfirmed, clouds, suspend, resume
	permAdmin                   // owners: staff and API keys
)

// may reports whether the actor's role allows an action.
func (a Actor) may(p permission) bool {
	switch a.Role {
	case customer.StaffOwner:
		return true
	case customer.StaffEditor:
		return p <= permWrite
	case customer.StaffViewer:
		return p == permRead
	}
	return false
}

// ErrForbidden means the actor's role does not allow the action.
var ErrForbidden = errors.New("your role does not allow this")

// ErrNoPartnerStatus means the actor's partner has no partner status: it
// may do nothing until the cloud provider grants it.
var ErrNoPartnerStatus = errors.New("your partner does not have partner status, so nothing can be done for it here; ask the cloud provider to grant it")

// authorize checks that the actor may take an action needing p: its role,
// and, for an actor scoped to a partner, that the partner has partner status.
func (s *Service) authorize(ctx context.Context, by Actor, p permission, what string) error {
	if !by.may(p) {
		return fmt.Errorf("%s: %w (%s)", what, ErrForbidden, dash(by.Role))
	}
	if by.PartnerID == "" {
		if by.Kind != ActorOperator {
			return fmt.Errorf("%s: %w", what, ErrForbidden)
		}
		return nil
	}
	partner, err := s.store.Partner(ctx, by.PartnerID)
	if err != nil {
		return err
	}
	if !partner.PartnerStatus {
		return ErrNoPartnerStatus
	}
	return nil
}

// audit records an action on a customer (subaccountID and onboardingID may
// be empty) and how it ended. A failure to record is logged by the caller's
// error path only when the action itself succeeded: the action stands.
func (s *Service) audit(ctx context.Context, by Actor, action, partnerID, subaccountID, onboardingID, detail string, err error) error {
	e := store.AuditEvent{At: s.now().UTC(), PartnerID: partnerID, ActorKind: by.Kind, ActorID: by.ID, Action: action,
		OnboardingID: onboardingID, Addr: by.Addr, Outcome: "done", Detail: detail}
	if partnerID == "" {
		e.PartnerID = by.PartnerID
	}
	if subaccountID != "" {
		e.SubaccountID = &subaccountID
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrRefused), errors.Is(err, ErrEnded), errors.Is(err, customer.ErrInvalid), errors.Is(err, ErrForbidden),
		errors.Is(err, customer.ErrNotActive), errors.Is(err, customer.ErrSuspended), errors.Is(err, customer.ErrDeleted),
		errors.Is(err, customer.ErrCloudNameTaken), errors.Is(err, ErrNoWorker), errors.Is(err, customer.ErrNameImmutable),
		// An id the actor may not see, and the rules of partners and staff,
		// refuse a request; "failed" is for what went wrong on our side.
		errors.Is(err, customer.ErrNotFound), errors.Is(err, customer.ErrUnknownPartner), errors.Is(err, ErrNoPartnerStatus),
		errors.Is(err, customer.ErrNotPartner), errors.Is(err, customer.ErrLastOwner), errors.Is(err, customer.ErrStaffTaken),
		errors.Is(err, customer.ErrNameTaken):
		e.Outcome, e.Detail = "refused", truncate(oneLine(err.Error()), 500)
	default:
		e.Outcome, e.Detail = "failed", truncate(oneLine(err.Error()), 500)
	}
	// Recorded even when the caller has gone: the action may have happened.
	// Losing the record must not turn a done action into a failure.
	if aerr := s.store.Audit(context.WithoutCancel(ctx), e); aerr != nil {
		s.logger.Error("audit event lost", "action", action, "actor", by.ID, "error", aerr)
	}
	return err
}

// auditOn records an action on the customer an id names, as far as it is known.
func (s *Service) auditOn(ctx context.Context, by Actor, action, id, detail string, err error) error {
	partnerID, subaccountID, onboardingID := by.PartnerID, "", id
	if t, rerr := s.resolve(ctx, by, id); rerr == nil {
		onboardingID = t.id
		if t.sa == nil {
			if sa, serr := s.store.SubaccountByOnboarding(ctx, t.id); serr == nil {
				t.sa = &sa
			}
		}
		if t.sa != nil {
			partnerID, subaccountID = t.sa.PartnerID, t.sa.ID
		} else if p := partnerOf(t.id); p != "" {
			partnerID = p
		}
	}
	return s.audit(ctx, by, action, partnerID, subaccountID, onboardingID, detail, err)
}

// Errors the edges tell apart with errors.Is.
var (
	// ErrNoWorker means no worker polls the task queue, so a request that
	// needs one was not sent.
	ErrNoWorker = errors.New("no worker is polling the task queue")
	// ErrQueued means a request was sent but no worker answered in time:
	// it is queued and will be carried out when a worker takes it.
	ErrQueued = errors.New("the request is queued")
	// ErrEnded means the onboarding has ended, so the action has nothing to act on.
	ErrEnded = errors.New("the onboarding has ended")
	// ErrRefused means the workflow refused the request, with its reason.
	ErrRefused = errors.New("refused")
)

// refusal is an action refused for the state its subject is in; it
// matches ErrRefused.
type refusal struct{ msg string }

func (r *refusal) Error() string        { return r.msg }
func (r *refusal) Is(target error) bool { return target == ErrRefused }

// refuse words a refusal.
func refuse(format string, args ...any) error { return &refusal{msg: fmt.Sprintf(format, args...)} }

// NotFoundError is an id that names no onboarding the actor may see.
type NotFoundError struct{ ID string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no onboarding with id %q: check the id with `starter list` (ids look like onboarding/PARTNER/customer name)", e.ID)
}

// Is makes a NotFoundError match customer.ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == customer.ErrNotFound }

func notFound(id string) error { return &NotFoundError{ID: id} }

// isNotFound reports whether Temporal says the workflow does not exist.
func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// carriable reports whether a workflow id can travel in the gRPC header the
// Temporal client puts it in: printable ASCII only.
func carriable(id string) bool {
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// partnerOf is the partner in an onboarding id ("onboarding/PARTNER/name").
func partnerOf(onboardingID string) string {
	rest, ok := strings.CutPrefix(onboardingID, "onboarding/")
	if !ok {
		return ""
	}
	p, _, _ := strings.Cut(rest, "/")
	return p
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}

// oneLine joins the lines of a message (errors.Join puts each error on its
// own line) so that a reason shows on one line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}

// CheckPartner refuses a partner the actor may not act for, an unknown
// one and one without partner status: what Launch would refuse, checked
// once before many launches.
func (s *Service) CheckPartner(ctx context.Context, by Actor, id string) error {
	if err := customer.ValidatePartnerID(id); err != nil {
		return err
	}
	if !by.sees(id) {
		return fmt.Errorf("partner %q: %w", id, customer.ErrUnknownPartner)
	}
	if err := s.authorize(ctx, by, permWrite, "add customers"); err != nil {
		return err
	}
	return s.checkPartner(ctx, id)
}

// checkPartner refuses an unknown partner and one without partner status.
func (s *Service) checkPartner(ctx context.Context, id string) error {
	p, err := s.store.Partner(ctx, id)
	switch {
	case errors.Is(err, customer.ErrUnknownPartner):
		return fmt.Errorf("partner %q is not registered (%w); register it with `starter partner add --id %s --name NAME`", id, customer.ErrUnknownPartner, id)
	case err != nil:
		return err
	case !p.PartnerStatus:
		return fmt.Errorf("partner %q: %w; ask the cloud provider to grant it partner status", id, customer.ErrNotPartner)
	}
	return nil
}

// SetPartnerStatus grants or withdraws a partner's partner status
// (operators only). Without it, the partner's staff can do nothing.
func (s *Service) SetPartnerStatus(ctx context.Context, by Actor, id string, status bool) (store.Partner, error) {
	if by.Kind != ActorOperator {
		return store.Partner{}, fmt.Errorf("partner status: only an operator of the platform may change it: %w", ErrForbidden)
	}
	err := s.store.SetPartnerStatus(ctx, id, status)
	if err == nil {
		err = s.audit(ctx, by, "set partner status", id, "", "", fmt.Sprintf("partner status %t", status), nil)
	}
	if err != nil {
		return store.Partner{}, err
	}
	return s.store.Partner(ctx, id)
}

// AddPartner registers a partner with partner status (operators only);
// registering an existing id again returns it unchanged.
func (s *Service) AddPartner(ctx context.Context, by Actor, id, name string) (store.Partner, error) {
	if by.Kind != ActorOperator {
		return store.Partner{}, fmt.Errorf("partner add: only an operator of the platform may register partners: %w", ErrForbidden)
	}
	if err := customer.ValidatePartnerID(id); err != nil {
		return store.Partner{}, fmt.Errorf("partner add: %w", err)
	}
	p, err := s.store.AddPartner(ctx, id, name)
	if err != nil {
		return store.Partner{}, fmt.Errorf("partner add: %w", err)
	}
	return p, nil
}
