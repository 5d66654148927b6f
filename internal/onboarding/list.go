package onboarding

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/text"
)

// ListQuery selects a page of onboardings; empty fields match everything.
type ListQuery struct {
	PartnerID string
	Status    string // a subaccount status, upper case
	Reason    string // a deletion reason: EXPIRED, CANCELLED, ...
	Search    string // part of the customer's name
	After     string // a cursor: the page after it (older)
	Before    string // a cursor: the page before it (newer)
	Last      bool   // the last (oldest) page
	Limit     int    // 1-1000, default 50
	// Runs joins each record with its Temporal run (stage, outcome, the
	// workflow's status): one visibility query a page. Without it the page
	// is read from Postgres alone, in one query.
	Runs bool
}

// List is one page of onboardings, newest first, with the cursors of the
// pages beside it ("" where there is none).
type List struct {
	Onboardings []View
	Next        string
	Prev        string
}

// Validate checks the query's values.
func (q ListQuery) Validate() error {
	var errs []error
	if q.PartnerID != "" {
		errs = append(errs, domain.ValidatePartnerID(q.PartnerID))
	}
	if q.Status != "" && !slices.Contains(domain.Statuses, q.Status) {
		errs = append(errs, domain.Invalidf("status", "%q is not a subaccount status; want one of %s", text.Truncate(q.Status, 40), strings.Join(domain.Statuses, ", ")))
	}
	if q.Reason != "" && !slices.Contains(domain.Reasons, q.Reason) {
		errs = append(errs, domain.Invalidf("reason", "%q is not a reason a customer was deleted; want one of %s", text.Truncate(q.Reason, 40), strings.Join(domain.Reasons, ", ")))
	}
	if q.Limit < 0 || q.Limit > 1000 {
		errs = append(errs, domain.Invalidf("limit", "%d is out of range; want 1 to 1000", q.Limit))
	}
	if q.After != "" && q.Before != "" {
		errs = append(errs, domain.Invalidf("cursor", "give a page after a cursor or before one, not both"))
	}
	return errors.Join(errs...)
}

// List reads one page of customer records from Postgres, the system of
// record, by keyset — a page deep in a long list costs what the first
// costs — in one query, the actor's partner scope in its WHERE; and, when
// asked (q.Runs), joins each with its Temporal run by the exact run id
// stored with the record, in one visibility query per page. An onboarding
// that has not created its record (just launched, or failed before) is
// not listed: its status and the Web UI show it.
func (s *Service) List(ctx context.Context, by domain.Actor, q ListQuery) (List, error) {
	if err := q.Validate(); err != nil {
		return List{}, err
	}
	if err := by.Authorize(domain.Read, "list"); err != nil {
		return List{}, err
	}
	switch {
	case by.Scope() != "" && q.PartnerID != "" && q.PartnerID != by.Scope():
		return List{}, domain.UnknownPartner(q.PartnerID)
	case by.Scope() != "":
		q.PartnerID = by.Scope()
	case q.PartnerID != "":
		// An operator naming a partner: an unknown one is refused, not
		// shown as a partner without customers.
		if _, err := s.store.Partner(ctx, q.PartnerID); err != nil {
			return List{}, err
		}
	}
	sq := store.ListQuery{PartnerID: q.PartnerID, Status: q.Status, Reason: q.Reason, Search: q.Search, Last: q.Last, Limit: q.Limit}
	for _, c := range []struct {
		s   string
		dst **store.Cursor
	}{{q.After, &sq.After}, {q.Before, &sq.Before}} {
		if c.s == "" {
			continue
		}
		cur, err := store.ParseCursor(c.s)
		if err != nil {
			return List{}, err
		}
		*c.dst = &cur
	}
	page, err := s.store.ListSubaccounts(ctx, sq)
	if err != nil {
		return List{}, err
	}
	runs := map[string]*workflowpb.WorkflowExecutionInfo{}
	if q.Runs {
		if runs, err = s.runs(ctx, page.Items); err != nil {
			return List{}, err
		}
	}
	out := List{Onboardings: make([]View, 0, len(page.Items))}
	for _, sa := range page.Items {
		v := View{OnboardingID: sa.OnboardingID}
		if info, ok := runs[sa.RunID]; ok {
			v.applyExecution(info)
		}
		v.applySubaccount(sa)
		out.Onboardings = append(out.Onboardings, v)
	}
	if page.Next != nil {
		out.Next = page.Next.String()
	}
	if page.Prev != nil {
		out.Prev = page.Prev.String()
	}
	return out, nil
}

// runs reads the Temporal runs that created the given records, by run id,
// in one visibility query.
func (s *Service) runs(ctx context.Context, subs []domain.Subaccount) (map[string]*workflowpb.WorkflowExecutionInfo, error) {
	var ids []string
	for _, sa := range subs {
		if isRunID(sa.RunID) {
			ids = append(ids, "'"+sa.RunID+"'")
		}
	}
	out := map[string]*workflowpb.WorkflowExecutionInfo{}
	if len(ids) == 0 {
		return out, nil
	}
	// Run ids are UUIDs (checked above), so they hold no quote.
	query := "RunId IN (" + strings.Join(ids, ",") + ")"
	var token []byte
	for {
		resp, err := s.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: int32(len(ids)), NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("read the onboardings' runs from Temporal: %w", err)
		}
		for _, info := range resp.GetExecutions() {
			out[info.GetExecution().GetRunId()] = info
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}

// isRunID reports whether s has the shape of a run id: a UUID.
func isRunID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}
