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
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/seal"
	"github.com/cloudpartners/onboarding/internal/store"
)

// Service carries out the actions. It is safe for concurrent use.
type Service struct {
	temporal client.Client
	store    *store.Store
	sealer   *seal.Sealer
	links    *links.Signer
	cfg      config.Config
	now      func() time.Time
	queue    string // Yardstick's task queue; empty: cfg.TaskQueue
	wfType   string // Yardstick's workflow type; empty: the onboarding
	// updateWait is how long a request waits for a worker to take it
	// before it is reported as queued.
	updateWait time.Duration
}

// New returns the actions over a Temporal client and the store, with the
// settings of cfg (task queue, public URL, the defaults of a new onboarding).
func New(cfg config.Config, st *store.Store, tc client.Client) (*Service, error) {
	sealer, err := seal.New(cfg.Secret)
	if err != nil {
		return nil, err
	}
	return &Service{temporal: tc, store: st, sealer: sealer, links: links.NewSigner(cfg.Secret), cfg: cfg, now: time.Now,
		updateWait: defaultUpdateWait}, nil
}

// Actor is who takes an action: an operator at the CLI, who may act for
// every partner, or later a partner's user or API key, scoped to one.
type Actor struct {
	Kind      string // ActorOperator, ...
	ID        string // who: an operator's name, a user's email, a key's id
	PartnerID string // the partner acted for; empty: every partner
}

// ActorOperator is an operator of the platform, at the CLI.
const ActorOperator = "operator"

// Operator is the actor of the CLI: every partner.
func Operator(name string) Actor { return Actor{Kind: ActorOperator, ID: name} }

// sees reports whether the actor may see the partner's onboardings.
func (a Actor) sees(partnerID string) bool { return a.PartnerID == "" || a.PartnerID == partnerID }

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

// AddPartner registers a partner with partner status (operators only);
// registering an existing id again returns it unchanged.
func (s *Service) AddPartner(ctx context.Context, by Actor, id, name string) (store.Partner, error) {
	if by.PartnerID != "" {
		return store.Partner{}, errors.New("partner add: only an operator may register partners")
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
