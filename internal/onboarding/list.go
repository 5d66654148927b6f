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

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/store"
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
	// is read from Postgres alone.
	Runs bool
}

// List is one page of onboardings, newest first, with the cursors of the
// pages beside it ("" where there is none).
type List struct {
	Onboardings []View `json:"onboardings"`
	Next        string `json:"next,omitempty"`
	Prev        string `json:"prev,omitempty"`
}

// Validate checks the query's values.
func (q ListQuery) Validate() error {
	var errs []error
	if q.PartnerID != "" {
		errs = append(errs, customer.ValidatePartnerID(q.PartnerID))
	}
	if q.Status != "" && !slices.Contains(customer.Statuses, q.Status) {
		errs = append(errs, customer.Invalid("status", "%q is not a subaccount status; want one of %s", truncate(q.Status, 40), strings.Join(customer.Statuses, ", ")))
	}
	if q.Limit < 0 || q.Limit > 1000 {
		errs = append(errs, customer.Invalid("limit", "%d is out of range; want 1 to 1000", q.Limit))
	}
	if q.After != "" && q.Before != "" {
		errs = append(errs, customer.Invalid("cursor", "give a page after a cursor or before one, not both"))
	}
	return errors.Join(errs...)
}

// List reads one page of customer records from Postgres, the system of
// record, by keyset — a page deep in a long list costs what the first
// costs — and, when asked (q.Runs), joins each with its Temporal run by the
// exact run id stored with the record, in one visibility query per page. An onboarding that
// has not created its record (just launched, or failed before) is not
// listed: `starter status` and the Web UI show it.
func (s *Service) List(ctx context.Context, by Actor, q ListQuery) (List, error) {
	if err := q.Validate(); err != nil {
		return List{}, err
	}
	if err := s.authorize(ctx, by, permRead, "list"); err != nil {
		return List{}, err
	}
	if by.PartnerID != "" {
		if q.PartnerID != "" && q.PartnerID != by.PartnerID {
			return List{}, fmt.Errorf("partner %q: %w", q.PartnerID, customer.ErrUnknownPartner)
		}
		q.PartnerID = by.PartnerID
	}
	if q.PartnerID != "" {
		if _, err := s.store.Partner(ctx, q.PartnerID); err != nil {
			if errors.Is(err, customer.ErrUnknownPartner) {
				return List{}, fmt.Errorf("partner %q is not registered (%w); see the registered partners' onboardings with `starter list`", q.PartnerID, customer.ErrUnknownPartner)
			}
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
func (s *Service) runs(ctx context.Context, subs []store.Subaccount) (map[string]*workflowpb.WorkflowExecutionInfo, error) {
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
