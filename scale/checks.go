package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/workflows"
)

// outcomes are what became of the onboardings the load added.
type outcomes struct {
	added, active, lost, duplicated int
	unanswered                      int // onboardings in Postgres the portal never answered for
	problems                        []string
}

func (o *outcomes) bad(format string, args ...any) {
	if len(o.problems) < 20 {
		o.problems = append(o.problems, fmt.Sprintf(format, args...))
	}
}

// check waits for every onboarding added to finish, judges the run from
// the answers, Temporal, Postgres and mailpit, prints the report and
// fails when a target is missed.
func (s *scale) check(ctx context.Context) error {
	l := s.load
	var o outcomes
	results := make([]workflows.Result, len(l.customers))
	ended := make([]error, len(l.customers))
	wctx, cancel := context.WithTimeout(ctx, s.o.finishTimeout)
	defer cancel()
	sem := make(chan struct{}, 20)
	var wg sync.WaitGroup
	for i, c := range l.customers {
		if c.id == "" {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ended[i] = s.drv.Temporal.GetWorkflow(wctx, c.id, "").Get(wctx, &results[i])
		})
	}
	wg.Wait()

	runs, err := stack.Runs(ctx, s.drv.Temporal, "default")
	if err != nil {
		return err
	}
	subs := map[string]int{} // onboarding id → subaccounts
	var rows []struct {
		OnboardingID string `db:"onboarding_id"`
		N            int    `db:"n"`
	}
	if err := s.st.DB().SelectContext(ctx, &rows, `SELECT onboarding_id, count(*) AS n FROM subaccounts WHERE partner_id = $1 GROUP BY 1`, partner); err != nil {
		return fmt.Errorf("count subaccounts: %w", err)
	}
	for _, r := range rows {
		subs[r.OnboardingID] = r.N
	}
	known := map[string]bool{}
	for i, c := range l.customers {
		if c.id == "" {
			// The add failed (counted with the requests): nothing of it may exist.
			continue
		}
		o.added++
		known[c.id] = true
		switch {
		case runs[c.id] == 0 || subs[c.id] == 0:
			o.lost++
			o.bad("%s (%s): answered 201, but %d runs and %d subaccounts", c.id, c.name, runs[c.id], subs[c.id])
			continue
		case runs[c.id] > 1 || subs[c.id] > 1:
			o.duplicated++
			o.bad("%s (%s): %d runs and %d subaccounts, want 1", c.id, c.name, runs[c.id], subs[c.id])
		}
		r := results[i]
		switch {
		case ended[i] != nil:
			o.lost++
			o.bad("%s (%s): did not finish: %v (the load: %v)", c.id, c.name, ended[i], c.err)
		case c.confirmed && (r.Outcome != workflows.OutcomeActive || r.CloudID == ""):
			o.lost++
			o.bad("%s (%s): confirmed, but the outcome is %s with cloud %q", c.id, c.name, r.Outcome, r.CloudID)
		case r.Outcome == workflows.OutcomeActive:
			o.active++
		default:
			o.bad("%s (%s): outcome %s (the load: %v)", c.id, c.name, r.Outcome, c.err)
		}
		if ended[i] == nil && r.EmailsSent != 1 {
			o.bad("%s (%s): the workflow sent %d emails, want 1", c.id, c.name, r.EmailsSent)
		}
	}
	for id := range subs {
		if !known[id] {
			o.unanswered++
			o.bad("%s: an onboarding in Postgres that no add was answered for", id)
		}
	}
	mail, err := stack.AuditMail(ctx, l.mail, s.st.DB())
	if err != nil {
		return err
	}
	// A second email to one customer under another Message-ID is a
	// duplicate too: the load never asks for a resend.
	var twice int
	if err := s.st.DB().GetContext(ctx, &twice, `SELECT count(*) - count(DISTINCT subaccount_id) FROM emails`); err != nil {
		return fmt.Errorf("count emails: %w", err)
	}
	return s.report(o, mail, twice)
}

// report prints the figures and fails when a target is missed.
func (s *scale) report(o outcomes, mail stack.MailAudit, twice int) error {
	w := s.out
	f := s.load.figures()
	var missed []string
	miss := func(ok bool, what string) {
		if !ok {
			missed = append(missed, what)
		}
	}
	fmt.Fprintf(w, "\nscale: %d workers, %d webhooks, %d portals on the Temporal %s server; balancer checks /readyz every %s (fall %d, rise %d), DRAIN_DELAY %s\n",
		s.o.workers, s.o.webhooks, s.o.portals, s.server, s.o.checks.inter, s.o.checks.fall, s.o.checks.rise, s.o.drainDelay)
	fmt.Fprintf(w, "  roll: %d instances replaced one at a time in %s\n", len(s.steps), s.took.Round(time.Second))
	for _, st := range s.steps {
		fmt.Fprintln(w, "    "+st.String())
		miss(st.err == nil && st.exit == 0, st.old+" did not drain cleanly")
	}
	fmt.Fprintf(w, "  %-44s %d / %d   (target 0 failed)   p99 before / during / after the roll\n", "HTTP requests sent / failed", f.sent, f.failed)
	for _, k := range []string{"portal: add customer", "portal: progress", "webhook: confirm page", "webhook: confirm"} {
		q := f.kindP99[k]
		fmt.Fprintf(w, "    %-42s %d / %d   %s / %s / %s\n", k, f.byKind[k][0], f.byKind[k][1],
			q[before].Round(time.Millisecond), q[during].Round(time.Millisecond), q[after].Round(time.Millisecond))
	}
	for _, msg := range f.failures {
		fmt.Fprintln(w, "    FAILED:", msg)
	}
	fmt.Fprintf(w, "  %-44s %d (ACTIVE %d)\n", "onboardings added", o.added, o.active)
	fmt.Fprintf(w, "  %-44s %d / %d   (target 0 / 0)\n", "onboardings lost / duplicated", o.lost, o.duplicated+o.unanswered)
	fmt.Fprintf(w, "  %-44s %d / %d   (target 0)\n", "emails delivered / duplicated", mail.Delivered, mail.Duplicates+twice)
	for p, name := range phaseNames {
		fmt.Fprintf(w, "  %-44s %s (p50 %s, %d requests)\n", "p99 latency "+name, f.p99[p].Round(time.Millisecond),
			f.p50[p].Round(time.Millisecond), f.n[p])
	}
	for _, p := range o.problems {
		fmt.Fprintln(w, "  PROBLEM:", p)
	}
	for _, id := range mail.Missing {
		fmt.Fprintln(w, "  PROBLEM: email recorded as sent, not delivered:", id)
	}
	miss(f.failed == 0, "HTTP requests failed")
	miss(o.lost == 0, "onboardings lost")
	miss(o.duplicated == 0 && o.unanswered == 0, "onboardings duplicated")
	miss(mail.Duplicates == 0 && twice == 0, "emails duplicated")
	miss(len(mail.Missing) == 0 && len(mail.Foreign) == 0, "emails missing or foreign")
	miss(len(o.problems) == 0, "onboardings that did not end as driven")
	miss(f.n[during] > 0, "no request during the roll")
	if len(missed) > 0 {
		return fmt.Errorf("targets missed: %v (logs under %s/logs)", missed, s.o.state)
	}
	fmt.Fprintln(w, "scale: every tier rolled under load; nothing failed, lost or duplicated")
	return nil
}
