package domain

import "fmt"

// Actor is who takes an action and for which partner: an operator of the
// platform (every partner), a partner's member of staff or API key
// (scoped to that partner, with a role), the customer (through the link)
// or the system itself (a deadline). Every action takes one; the scope is
// applied in the store's SQL, never after a read.
type Actor struct {
	Kind         string // ActorOperator, ActorUser, ActorAPIKey, ActorCustomer or ActorSystem
	ID           string // an operator's name, a user's email, a key's name and prefix
	PartnerID    string // the partner acted for; "" for every partner (operators only)
	Role         string // StaffOwner, StaffEditor or StaffViewer
	PersonalData bool   // may see customers' email and contact
	// PartnerStatus is the partner's partner status, read with the
	// credential on every request: without it a partner's actor may do nothing.
	PartnerStatus bool
	Addr          string // where the request came from, for the audit log
}

// Kinds of actors.
const (
	ActorOperator = "operator" // an operator of the platform, at the CLI
	ActorUser     = "user"     // a partner's member of staff, signed in to the portal
	ActorAPIKey   = "api-key"  // a partner's machine, with an API key
	ActorCustomer = "customer" // the customer, through the confirmation link
	ActorSystem   = "system"   // the onboarding itself: a deadline, a retention period
)

// Operator is the actor of the CLI: every partner, every action, personal data shown.
func Operator(name string) Actor {
	return Actor{Kind: ActorOperator, ID: name, Role: StaffOwner, PersonalData: true}
}

// Scope is the partner the actor's reads and writes are confined to; ""
// means every partner. The store puts it in the SQL WHERE of every read by id.
func (a Actor) Scope() string { return a.PartnerID }

// Sees reports whether the actor may see the partner's customers.
func (a Actor) Sees(partnerID string) bool { return a.PartnerID == "" || a.PartnerID == partnerID }

// Permission is what an action needs of the actor's role.
type Permission int

// Permissions, each role holding its own and those below.
const (
	Read  Permission = iota // every role
	Write                   // editors and owners: add, edit, resend, link, delete unconfirmed, clouds, suspend, resume
	Admin                   // owners: staff and API keys
)

// May reports whether the actor's role allows an action needing p.
func (a Actor) May(p Permission) bool {
	switch a.Role {
	case StaffOwner:
		return true
	case StaffEditor:
		return p <= Write
	case StaffViewer:
		return p == Read
	}
	return false
}

// Authorize refuses what the actor may not do: an action its role does
// not allow (what names it), anything by a partner's actor whose partner
// has no partner status, and acting for every partner unless it is an
// operator.
func (a Actor) Authorize(p Permission, what string) error {
	switch {
	case !a.May(p):
		role := a.Role
		if role == "" {
			role = "no role"
		}
		return fmt.Errorf("%s: %w (%s)", what, ErrForbidden, role)
	case a.PartnerID == "" && a.Kind != ActorOperator:
		return fmt.Errorf("%s: %w", what, ErrForbidden)
	case a.PartnerID != "" && !a.PartnerStatus:
		return ErrNoPartnerStatus
	}
	return nil
}
