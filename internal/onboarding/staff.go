package onboarding

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/store"
)

// StaffMember is who a signed-in person is: the actor of their requests.
func StaffMember(st store.Staff, addr string) Actor {
	return Actor{Kind: ActorUser, ID: st.Email, PartnerID: st.PartnerID, Role: st.Role, PersonalData: st.PersonalData, Addr: addr}
}

// SignIn finds the member of staff the identity provider vouched for — by
// its subject, else its verified email — and records the sign-in in the
// audit log. customer.ErrNotFound: the person is on no partner's staff. A
// partner without partner status is let in, to be shown exactly that.
func (s *Service) SignIn(ctx context.Context, issuer, subject, email string, emailVerified bool, addr string) (store.Staff, error) {
	if !emailVerified {
		email = "" // an unverified email never matches a member of staff
	}
	st, err := s.store.SignIn(ctx, issuer, subject, email, s.now().UTC())
	who := Actor{Kind: ActorUser, ID: email, Addr: addr}
	if err == nil {
		who = StaffMember(st, addr)
	}
	if err != nil && !errors.Is(err, customer.ErrNotFound) {
		return st, err
	}
	return st, s.audit(ctx, who, "sign in", who.PartnerID, "", "", "", err)
}

// SignOut records that a member of staff signed out.
func (s *Service) SignOut(ctx context.Context, by Actor) {
	_ = s.audit(ctx, by, "sign out", by.PartnerID, "", "", "", nil)
}

// AddStaff adds a person, by email, to a partner's staff with a role and
// the personal-data permission or not; the same email again changes them.
// Owners of the partner, and operators, may.
func (s *Service) AddStaff(ctx context.Context, by Actor, partnerID, email, role string, personalData bool) (store.Staff, error) {
	st, err := s.addStaff(ctx, by, partnerID, email, role, personalData)
	return st, s.audit(ctx, by, "add staff", partnerID, "", "", fmt.Sprintf("%s as %s", truncate(email, 80), role), err)
}

func (s *Service) addStaff(ctx context.Context, by Actor, partnerID, email, role string, personalData bool) (store.Staff, error) {
	if !by.sees(partnerID) {
		return store.Staff{}, fmt.Errorf("partner %q: %w", partnerID, customer.ErrUnknownPartner)
	}
	if err := s.authorize(ctx, by, permAdmin, "manage staff"); err != nil {
		return store.Staff{}, err
	}
	if err := errors.Join(customer.ValidatePartnerID(partnerID), customer.ValidateStaff(email, role)); err != nil {
		return store.Staff{}, err
	}
	return s.store.AddStaff(ctx, store.NewStaff{ID: uuid.NewString(), PartnerID: partnerID, Email: email, Role: role,
		PersonalData: personalData, CreatedBy: by.ID})
}

// Staff lists a partner's staff (its owners, and operators).
func (s *Service) Staff(ctx context.Context, by Actor, partnerID string) ([]store.Staff, error) {
	if !by.sees(partnerID) {
		return nil, fmt.Errorf("partner %q: %w", partnerID, customer.ErrUnknownPartner)
	}
	if err := s.authorize(ctx, by, permAdmin, "manage staff"); err != nil {
		return nil, err
	}
	if _, err := s.store.Partner(ctx, partnerID); err != nil {
		return nil, err
	}
	return s.store.ListStaff(ctx, partnerID)
}

// SetStaffRole changes a member's role and personal-data permission (owners only).
func (s *Service) SetStaffRole(ctx context.Context, by Actor, staffID, role string, personalData bool) (store.Staff, error) {
	st, err := func() (store.Staff, error) {
		if err := s.authorize(ctx, by, permAdmin, "manage staff"); err != nil {
			return store.Staff{}, err
		}
		return s.store.SetStaffRole(ctx, by.PartnerID, staffID, role, personalData)
	}()
	return st, s.audit(ctx, by, "change staff role", by.PartnerID, "", "", fmt.Sprintf("%s to %s", truncate(st.Email, 80), role), err)
}

// RemoveStaff removes a member of the partner's staff and ends their
// sessions (owners only). The last owner stays.
func (s *Service) RemoveStaff(ctx context.Context, by Actor, staffID string) error {
	err := s.authorize(ctx, by, permAdmin, "manage staff")
	if err == nil {
		err = s.store.RemoveStaff(ctx, by.PartnerID, staffID, s.now().UTC())
	}
	return s.audit(ctx, by, "remove staff", by.PartnerID, "", "", "staff "+truncate(staffID, 40), err)
}

// APIKeyPrefix starts every API key, so that a leaked one is recognised.
const APIKeyPrefix = "obk_"

// NewAPIKey is a key just created: the secret is shown this once and
// stored only as a hash.
type NewAPIKey struct {
	store.APIKey
	Secret string `json:"secret"`
}

// CreateAPIKey creates an API key for the actor's partner with a role
// (owners only). Its secret is returned once.
func (s *Service) CreateAPIKey(ctx context.Context, by Actor, name, role string) (NewAPIKey, error) {
	k, err := s.createAPIKey(ctx, by, name, role)
	return k, s.audit(ctx, by, "create API key", by.PartnerID, "", "", fmt.Sprintf("%s (%s, %s)", truncate(name, 100), role, k.Prefix), err)
}

func (s *Service) createAPIKey(ctx context.Context, by Actor, name, role string) (NewAPIKey, error) {
	if err := s.authorize(ctx, by, permAdmin, "manage API keys"); err != nil {
		return NewAPIKey{}, err
	}
	name = strings.TrimSpace(name)
	if err := errors.Join(customer.ValidateRole(role), validateKeyName(name)); err != nil {
		return NewAPIKey{}, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return NewAPIKey{}, err
	}
	secret := APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	k, err := s.store.CreateAPIKey(ctx, store.APIKey{ID: uuid.NewString(), PartnerID: by.PartnerID, Name: name, Role: role,
		Prefix: secret[:len(APIKeyPrefix)+6], CreatedBy: by.ID}, secret)
	if err != nil {
		return NewAPIKey{}, err
	}
	return NewAPIKey{APIKey: k, Secret: secret}, nil
}

func validateKeyName(name string) error {
	if n := len([]rune(name)); n == 0 || n > 100 || strings.ContainsAny(name, "\r\n") {
		return customer.Invalid("name", "want a name of 1-100 characters on one line, such as \"billing sync\"")
	}
	return nil
}

// APIKeys lists the actor's partner's keys (owners only), without secrets.
func (s *Service) APIKeys(ctx context.Context, by Actor) ([]store.APIKey, error) {
	if err := s.authorize(ctx, by, permAdmin, "manage API keys"); err != nil {
		return nil, err
	}
	return s.store.ListAPIKeys(ctx, by.PartnerID)
}

// RevokeAPIKey revokes one of the partner's keys (owners only): it opens
// nothing afterwards.
func (s *Service) RevokeAPIKey(ctx context.Context, by Actor, id string) (store.APIKey, error) {
	k, err := func() (store.APIKey, error) {
		if err := s.authorize(ctx, by, permAdmin, "manage API keys"); err != nil {
			return store.APIKey{}, err
		}
		return s.store.RevokeAPIKey(ctx, by.PartnerID, id, s.now().UTC())
	}()
	return k, s.audit(ctx, by, "revoke API key", by.PartnerID, "", "", fmt.Sprintf("%s (%s)", truncate(k.Name, 100), k.Prefix), err)
}

// APIKeyActor is the actor an API key's secret stands for, or
// customer.ErrNotFound for an unknown or revoked key. Its use is recorded.
// The key of a partner without partner status opens nothing:
// ErrNoPartnerStatus.
func (s *Service) APIKeyActor(ctx context.Context, secret, addr string) (Actor, error) {
	if !strings.HasPrefix(secret, APIKeyPrefix) || len(secret) > 200 {
		return Actor{}, fmt.Errorf("API key: %w", customer.ErrNotFound)
	}
	k, err := s.store.APIKeyBySecret(ctx, secret, s.now().UTC())
	if err != nil {
		return Actor{}, err
	}
	p, err := s.store.Partner(ctx, k.PartnerID)
	if err != nil {
		return Actor{}, fmt.Errorf("API key: %w", err)
	}
	if !p.PartnerStatus {
		return Actor{}, ErrNoPartnerStatus
	}
	return Actor{Kind: ActorAPIKey, ID: k.Name + " (" + k.Prefix + ")", PartnerID: k.PartnerID, Role: k.Role, Addr: addr}, nil
}
