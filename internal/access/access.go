// Package access holds the actions on who may do what: partners and their
// partner status (operators only), a partner's staff and their roles,
// sign-in and sign-out, and API keys for machines — each audited. It also
// turns a credential (a member of staff, an API key's secret) into the
// domain.Actor every other action takes.
package access

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cloudpartners/onboarding/internal/audit"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/text"
)

// Service carries out the actions. It is safe for concurrent use.
type Service struct {
	store *store.Store
	audit *audit.Log
	now   func() time.Time
}

// New returns the actions over the store and the audit log.
func New(st *store.Store, log *audit.Log) *Service {
	return &Service{store: st, audit: log, now: time.Now}
}

// operatorsOnly refuses anyone but an operator of the platform.
func operatorsOnly(by domain.Actor, what string) error {
	if by.Kind != domain.ActorOperator {
		return fmt.Errorf("%s: only an operator of the platform may: %w", what, domain.ErrForbidden)
	}
	return nil
}

// AddPartner registers a partner with partner status (operators only);
// registering an existing id again returns it unchanged.
func (s *Service) AddPartner(ctx context.Context, by domain.Actor, id, name string) (domain.Partner, error) {
	if err := operatorsOnly(by, "register a partner"); err != nil {
		return domain.Partner{}, err
	}
	if err := domain.ValidatePartnerID(id); err != nil {
		return domain.Partner{}, err
	}
	return s.store.AddPartner(ctx, id, name, func(p domain.Partner) domain.AuditEvent {
		return s.audit.Done(by, "register partner", audit.Target{PartnerID: id}, text.Truncate(p.Name, 200))
	})
}

// SetPartnerStatus grants or withdraws a partner's partner status
// (operators only). Without it, the partner's staff can do nothing.
func (s *Service) SetPartnerStatus(ctx context.Context, by domain.Actor, id string, status bool) (domain.Partner, error) {
	on, detail := audit.Target{PartnerID: id}, fmt.Sprintf("partner status %t", status)
	p, err := func() (domain.Partner, error) {
		if err := operatorsOnly(by, "change partner status"); err != nil {
			return domain.Partner{}, err
		}
		return s.store.SetPartnerStatus(ctx, id, status, func(domain.Partner) domain.AuditEvent {
			return s.audit.Done(by, "set partner status", on, detail)
		})
	}()
	return p, s.audit.Unless(ctx, by, "set partner status", on, detail, err)
}

// StaffActor is the actor a signed-in member of staff stands for.
func StaffActor(st domain.Staff, addr string) domain.Actor {
	return domain.Actor{Kind: domain.ActorUser, ID: st.Email, PartnerID: st.PartnerID, Role: st.Role, PersonalData: st.PersonalData,
		PartnerStatus: st.PartnerStatus, Addr: addr}
}

// SignIn finds the member of staff the identity provider vouched for — by
// its subject, else its verified email — and records the sign-in in the
// audit log. domain.ErrNotFound: the person is on no partner's staff. A
// partner without partner status is let in, to be shown exactly that.
func (s *Service) SignIn(ctx context.Context, issuer, subject, email string, emailVerified bool, addr string) (domain.Staff, error) {
	if !emailVerified {
		email = "" // an unverified email never matches a member of staff
	}
	st, err := s.store.SignIn(ctx, issuer, subject, email, s.now().UTC(), func(st domain.Staff) domain.AuditEvent {
		return s.audit.Done(StaffActor(st, addr), "sign in", audit.Target{PartnerID: st.PartnerID}, "")
	})
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return st, err
	}
	return st, s.audit.Unless(ctx, domain.Actor{Kind: domain.ActorUser, ID: email, Addr: addr}, "sign in", audit.Target{}, "", err)
}

// SignOut records that a member of staff signed out.
func (s *Service) SignOut(ctx context.Context, by domain.Actor) {
	_ = s.audit.Record(ctx, by, "sign out", audit.Target{PartnerID: by.PartnerID}, "", nil)
}

// AddStaff adds a person, by email, to a partner's staff with a role and
// the personal-data permission or not; the same email again changes them.
// Owners of the partner, and operators, may.
func (s *Service) AddStaff(ctx context.Context, by domain.Actor, partnerID, email, role string, personalData bool) (domain.Staff, error) {
	on := audit.Target{PartnerID: partnerID}
	if !by.Sees(partnerID) {
		on.PartnerID = by.PartnerID
	}
	detail := fmt.Sprintf("%s as %s", text.Truncate(email, 80), role)
	st, err := s.addStaff(ctx, by, partnerID, email, role, personalData, func(domain.Staff) domain.AuditEvent {
		return s.audit.Done(by, "add staff", on, detail)
	})
	return st, s.audit.Unless(ctx, by, "add staff", on, detail, err)
}

func (s *Service) addStaff(ctx context.Context, by domain.Actor, partnerID, email, role string, personalData bool, n store.Note[domain.Staff]) (domain.Staff, error) {
	if err := by.Authorize(domain.Admin, "manage staff"); err != nil {
		return domain.Staff{}, err
	}
	if !by.Sees(partnerID) {
		return domain.Staff{}, domain.UnknownPartner(partnerID)
	}
	if err := errors.Join(domain.ValidatePartnerID(partnerID), domain.ValidateStaff(email, role)); err != nil {
		return domain.Staff{}, err
	}
	return s.store.AddStaff(ctx, store.NewStaff{ID: uuid.NewString(), PartnerID: partnerID, Email: email, Role: role,
		PersonalData: personalData, CreatedBy: by.ID}, n)
}

// Staff lists a partner's staff (its owners, and operators).
func (s *Service) Staff(ctx context.Context, by domain.Actor, partnerID string) ([]domain.Staff, error) {
	if err := by.Authorize(domain.Admin, "manage staff"); err != nil {
		return nil, err
	}
	if !by.Sees(partnerID) {
		return nil, domain.UnknownPartner(partnerID)
	}
	if by.Scope() == "" {
		if _, err := s.store.Partner(ctx, partnerID); err != nil {
			return nil, err
		}
	}
	return s.store.ListStaff(ctx, partnerID)
}

// SetStaffRole changes a member's role and personal-data permission (owners only).
func (s *Service) SetStaffRole(ctx context.Context, by domain.Actor, staffID, role string, personalData bool) (domain.Staff, error) {
	on := audit.Target{PartnerID: by.PartnerID}
	st, err := func() (domain.Staff, error) {
		if err := by.Authorize(domain.Admin, "manage staff"); err != nil {
			return domain.Staff{}, err
		}
		return s.store.SetStaffRole(ctx, by.PartnerID, staffID, role, personalData, func(st domain.Staff) domain.AuditEvent {
			return s.audit.Done(by, "change staff role", on, fmt.Sprintf("%s to %s", text.Truncate(st.Email, 80), role))
		})
	}()
	return st, s.audit.Unless(ctx, by, "change staff role", on, fmt.Sprintf("staff %s to %s", text.Truncate(staffID, 40), role), err)
}

// RemoveStaff removes a member of the partner's staff and ends their
// sessions (owners only). The last owner stays.
func (s *Service) RemoveStaff(ctx context.Context, by domain.Actor, staffID string) error {
	on := audit.Target{PartnerID: by.PartnerID}
	_, err := func() (domain.Staff, error) {
		if err := by.Authorize(domain.Admin, "manage staff"); err != nil {
			return domain.Staff{}, err
		}
		return s.store.RemoveStaff(ctx, by.PartnerID, staffID, s.now().UTC(), func(st domain.Staff) domain.AuditEvent {
			return s.audit.Done(by, "remove staff", on, text.Truncate(st.Email, 80))
		})
	}()
	return s.audit.Unless(ctx, by, "remove staff", on, "staff "+text.Truncate(staffID, 40), err)
}

// APIKeyPrefix starts every API key, so that a leaked one is recognised.
const APIKeyPrefix = "obk_"

// NewAPIKey is a key just created: the secret is shown this once and
// stored only as a hash.
type NewAPIKey struct {
	domain.APIKey
	Secret string
}

// CreateAPIKey creates an API key for the actor's partner with a role
// (owners only). Its secret is returned once.
func (s *Service) CreateAPIKey(ctx context.Context, by domain.Actor, name, role string) (NewAPIKey, error) {
	on := audit.Target{PartnerID: by.PartnerID}
	k, err := s.createAPIKey(ctx, by, name, role, func(k domain.APIKey) domain.AuditEvent {
		return s.audit.Done(by, "create API key", on, fmt.Sprintf("%s (%s, %s)", text.Truncate(k.Name, 100), k.Role, k.Prefix))
	})
	return k, s.audit.Unless(ctx, by, "create API key", on, fmt.Sprintf("%s (%s)", text.Truncate(name, 100), role), err)
}

func (s *Service) createAPIKey(ctx context.Context, by domain.Actor, name, role string, n store.Note[domain.APIKey]) (NewAPIKey, error) {
	if err := by.Authorize(domain.Admin, "manage API keys"); err != nil {
		return NewAPIKey{}, err
	}
	name = strings.TrimSpace(name)
	if err := errors.Join(domain.ValidateRole(role), validateKeyName(name)); err != nil {
		return NewAPIKey{}, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return NewAPIKey{}, err
	}
	secret := APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	k, err := s.store.CreateAPIKey(ctx, domain.APIKey{ID: uuid.NewString(), PartnerID: by.PartnerID, Name: name, Role: role,
		Prefix: secret[:len(APIKeyPrefix)+6], CreatedBy: by.ID}, secret, n)
	if err != nil {
		return NewAPIKey{}, err
	}
	return NewAPIKey{APIKey: k, Secret: secret}, nil
}

func validateKeyName(name string) error {
	if n := len([]rune(name)); n == 0 || n > 100 || strings.ContainsAny(name, "\r\n") {
		return domain.Invalidf("name", "want a name of 1-100 characters on one line, such as \"billing sync\"")
	}
	return nil
}

// APIKeys lists the actor's partner's keys (owners only), without secrets.
func (s *Service) APIKeys(ctx context.Context, by domain.Actor) ([]domain.APIKey, error) {
	if err := by.Authorize(domain.Admin, "manage API keys"); err != nil {
		return nil, err
	}
	return s.store.ListAPIKeys(ctx, by.PartnerID)
}

// RevokeAPIKey revokes one of the partner's keys (owners only): it opens
// nothing afterwards.
func (s *Service) RevokeAPIKey(ctx context.Context, by domain.Actor, id string) (domain.APIKey, error) {
	on := audit.Target{PartnerID: by.PartnerID}
	k, err := func() (domain.APIKey, error) {
		if err := by.Authorize(domain.Admin, "manage API keys"); err != nil {
			return domain.APIKey{}, err
		}
		return s.store.RevokeAPIKey(ctx, by.PartnerID, id, s.now().UTC(), func(k domain.APIKey) domain.AuditEvent {
			return s.audit.Done(by, "revoke API key", on, fmt.Sprintf("%s (%s)", text.Truncate(k.Name, 100), k.Prefix))
		})
	}()
	return k, s.audit.Unless(ctx, by, "revoke API key", on, "API key "+text.Truncate(id, 40), err)
}

// APIKeyActor is the actor an API key's secret stands for, read with its
// partner's partner status in one query, or domain.ErrNotFound for an
// unknown or revoked key. Its use is recorded.
func (s *Service) APIKeyActor(ctx context.Context, secret, addr string) (domain.Actor, error) {
	if !strings.HasPrefix(secret, APIKeyPrefix) || len(secret) > 200 {
		return domain.Actor{}, fmt.Errorf("API key: %w", domain.ErrNotFound)
	}
	k, status, err := s.store.APIKeyBySecret(ctx, secret, s.now().UTC())
	if err != nil {
		return domain.Actor{}, err
	}
	return domain.Actor{Kind: domain.ActorAPIKey, ID: k.Name + " (" + k.Prefix + ")", PartnerID: k.PartnerID, Role: k.Role,
		PartnerStatus: status, Addr: addr}, nil
}
