// Package audit is the audit log: every action taken — by whom, what, on
// which customer, when, from where, and how it ended — recorded, read and
// exported. The outcome is decided by the failure's kind, never its text.
package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/text"
)

// Log records and reads the audit log.
type Log struct {
	store  *store.Store
	now    func() time.Time
	logger *slog.Logger
}

// New returns the audit log over the store.
func New(st *store.Store, logger *slog.Logger) *Log {
	return &Log{store: st, now: time.Now, logger: logger}
}

// Target is what an action was on: a partner, and a customer when known.
type Target struct {
	PartnerID    string
	SubaccountID string
	OnboardingID string
}

// Outcome is how an action that ended with err is recorded: done,
// refused (nothing changed: its kind says the request was refused) or
// failed (something went wrong on our side).
func Outcome(err error) string {
	switch {
	case err == nil:
		return domain.OutcomeDone
	case domain.KindOf(err).Refusal():
		return domain.OutcomeRefused
	}
	return domain.OutcomeFailed
}

// Record records an action by an actor on a target and how it ended, and
// returns err unchanged, so that an action ends with
// `return v, log.Record(ctx, by, ..., err)`. It is recorded even when the
// caller has gone (the action may have happened); a failure to record is
// logged, and never turns a done action into a failure.
func (l *Log) Record(ctx context.Context, by domain.Actor, action string, on Target, detail string, err error) error {
	if aerr := l.store.Audit(context.WithoutCancel(ctx), l.event(by, action, on, detail, err)); aerr != nil {
		l.logger.Error("audit event lost", "action", action, "actor", by.ID, "error", aerr)
	}
	return err
}

// Unless records an action that ended with err (refused or failed:
// nothing changed), and returns err; a done one (err nil) is not
// recorded here, because the change recorded it in its own transaction
// (Done).
func (l *Log) Unless(ctx context.Context, by domain.Actor, action string, on Target, detail string, err error) error {
	if err == nil {
		return nil
	}
	return l.Record(ctx, by, action, on, detail, err)
}

// Done is the audit event of an action done, for the store to write in
// the transaction of the change (a store.Note).
func (l *Log) Done(by domain.Actor, action string, on Target, detail string) domain.AuditEvent {
	return l.event(by, action, on, detail, nil)
}

func (l *Log) event(by domain.Actor, action string, on Target, detail string, err error) domain.AuditEvent {
	e := domain.AuditEvent{At: l.now().UTC(), PartnerID: on.PartnerID, ActorKind: by.Kind, ActorID: by.ID, Action: action,
		SubaccountID: on.SubaccountID, OnboardingID: on.OnboardingID, Addr: by.Addr, Outcome: Outcome(err), Detail: detail}
	if e.PartnerID == "" {
		e.PartnerID = by.PartnerID
	}
	if err != nil {
		e.Detail = text.Truncate(text.OneLine(err.Error()), 500)
	}
	return e
}

// shown is how many events a customer's page shows.
const shown = 100

// Customer reads a customer's audit log, newest first, as the actor may
// see it: another partner's customer is not found.
func (l *Log) Customer(ctx context.Context, by domain.Actor, subaccountID string) ([]domain.AuditEvent, error) {
	if err := by.Authorize(domain.Read, "read the audit log"); err != nil {
		return nil, err
	}
	return l.store.AuditLog(ctx, store.AuditQuery{Scope: by.Scope(), SubaccountID: subaccountID, Limit: shown})
}

func dateOrZero(field, s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, domain.Invalidf(field, "%q is not a date such as 2026-01-31 or a time such as 2026-01-31T12:00:00Z", text.Truncate(s, 40))
	}
	if end {
		d = d.AddDate(0, 0, 1) // a date as the end takes in that whole day
	}
	return d, nil
}
