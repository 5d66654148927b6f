package main

import (
	"context"
	"errors"
	"sync"

	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/workflows"
)

// awaitAll waits for every launched onboarding's result.
func (c *chaos) awaitAll(ctx context.Context, obs []*trial) {
	wctx, cancel := context.WithTimeout(ctx, c.o.finishTimeout)
	defer cancel()
	sem := make(chan struct{}, 20)
	var wg sync.WaitGroup
	for _, ob := range obs {
		if !ob.launched {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ob.endErr = retry(wctx, func(ctx context.Context) (bool, error) {
				// A long poll: longer than retry's per-call bound.
				err := c.tc.GetWorkflow(wctx, ob.id, "").Get(wctx, &ob.result)
				var app *temporal.ApplicationError
				if errors.As(err, &app) {
					return true, err // the workflow failed
				}
				return false, err
			})
			ob.finished = ob.endErr == nil
			c.awaitLife(wctx, ob)
		})
	}
	wg.Wait()
}

// check judges the finished batch from Temporal, Postgres and mailpit.
func (c *chaos) check(ctx context.Context, obs []*trial) error {
	// Counts that matter most when they are zero are printed anyway.
	r := &report{counts: map[string]int{"duplicate deliveries (same Message-ID)": 0, "delivered but unrecorded": 0,
		"stuck or failed": 0, "workflow tasks failed for non-determinism": 0}}
	byID := map[string]*trial{}
	for _, ob := range obs {
		byID[ob.id] = ob
		r.counts["plan "+ob.plan]++
		switch {
		case !ob.launched:
			r.bad("%s: never launched: %v", ob.id, ob.driveErr)
		case !ob.finished:
			r.counts["stuck or failed"]++
			r.bad("%s (%s): did not finish: %v", ob.id, ob.plan, ob.endErr)
		default:
			r.counts["outcome "+ob.result.Outcome]++
			if want := wantOutcome(ob.plan); ob.result.Outcome != want {
				r.bad("%s (%s): outcome %s, want %s", ob.id, ob.plan, ob.result.Outcome, want)
			}
			if (ob.result.Outcome == workflows.OutcomeActive) != (ob.result.CloudID != "") {
				r.bad("%s: outcome %s with cloud %q", ob.id, ob.result.Outcome, ob.result.CloudID)
			}
		}
		if ob.driveErr != nil && ob.launched {
			r.bad("%s (%s): the driver could not carry out its plan: %v", ob.id, ob.plan, ob.driveErr)
		}
		r.counts["confirm POST retries"] += max(0, ob.confirmTries-1)
		r.counts["resends answered to the driver"] += ob.resends
	}
	c.checkTemporal(ctx, obs, byID, r)
	c.checkPostgres(ctx, obs, r)
	c.checkAudit(ctx, obs, r)
	c.outage.check(ctx, c, r)
	c.checkMail(ctx, r)
	return c.print(r)
}

// checkTemporal: one run per onboarding, and no workflow task failed for non-determinism.
func (c *chaos) checkTemporal(ctx context.Context, obs []*trial, byID map[string]*trial, r *report) {
	runs, err := stack.Runs(ctx, c.tc, "default")
	if err != nil {
		r.bad("%v", err)
	}
	lives := map[string]bool{} // customer workflows, by id
	for _, ob := range obs {
		if sa, err := c.st.SubaccountByOnboarding(ctx, "", ob.id); err == nil {
			lives[workflows.CustomerWorkflowID(sa.ID)] = true
		}
	}
	outageIDs := c.outage.workflowIDs()
	for id, n := range runs {
		switch {
		case lives[id] || outageIDs[id]:
			if lives[id] {
				r.counts["customer workflows"]++
			}
			if cost, err := stack.History(ctx, c.tc, id, ""); err != nil {
				r.bad("%s: read history: %v", id, err)
			} else if cost.NonDeterministic > 0 {
				r.bad("%s: %d workflow tasks failed for non-determinism", id, cost.NonDeterministic)
			} else {
				r.counts["workflow tasks failed"] += cost.WorkflowTaskFailed
			}
		case byID[id] == nil:
			r.bad("workflow %s was never launched by this run", id)
		case n != 1:
			r.bad("%s: %d runs, want 1", id, n)
		}
	}
	for _, ob := range obs {
		if !ob.launched {
			continue
		}
		if runs[ob.id] == 0 {
			r.bad("%s: no run listed", ob.id)
		}
		cost, err := stack.History(ctx, c.tc, ob.id, "")
		if err != nil {
			r.bad("%s: read history: %v", ob.id, err)
			continue
		}
		r.counts["history events"] += cost.Events
		r.counts["workflow tasks failed"] += cost.WorkflowTaskFailed
		r.counts["workflow tasks failed for non-determinism"] += cost.NonDeterministic
		r.counts["workflow tasks timed out"] += cost.WorkflowTaskTimedOut
		r.counts["activity retries"] += cost.ActivityRetries
		if cost.NonDeterministic > 0 {
			r.bad("%s: %d workflow tasks failed for non-determinism", ob.id, cost.NonDeterministic)
		}
		// Every email the workflow counts is the first one or a resend
		// request it carried out (settled done); the driver saw at most that many.
		var done int
		if err := c.st.DB().GetContext(ctx, &done, `SELECT count(*) FROM requests WHERE onboarding_id = $1 AND kind = 'resend' AND status = 'done'`, ob.id); err != nil {
			r.bad("%s: count resends: %v", ob.id, err)
		}
		r.counts["resends carried out (settled done)"] += done
		if ob.finished && ob.result.EmailsSent != 1+done {
			r.bad("%s: %d emails counted by the workflow, want 1 + %d resends carried out", ob.id, ob.result.EmailsSent, done)
		}
		if ob.resends > done {
			r.bad("%s: the driver saw %d resends accepted, the history %d", ob.id, ob.resends, done)
		}
	}
}

// checkPostgres: per onboarding one subaccount, one organization, four
// role bindings, a cloud iff ACTIVE, status agreeing with the outcome, and
// as many recorded emails as the workflow sent.
func (c *chaos) checkPostgres(ctx context.Context, obs []*trial, r *report) {
	db := c.st.DB()
	type sub struct {
		ID, Status, Reason string
	}
	subs := map[string][]sub{}
	rows, err := db.QueryContext(ctx, `SELECT onboarding_id, id, status, coalesce(deleted_reason, '') FROM subaccounts`)
	if err != nil {
		r.bad("read subaccounts: %v", err)
		return
	}
	for rows.Next() {
		var oid string
		var s sub
		if err := rows.Scan(&oid, &s.ID, &s.Status, &s.Reason); err != nil {
			r.bad("read subaccounts: %v", err)
		}
		subs[oid] = append(subs[oid], s)
	}
	rows.Close()
	type agg struct{ n, gone int }
	count := func(q string) map[string]agg {
		out := map[string]agg{}
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			r.bad("count: %v", err)
			return out
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var a agg
			if err := rows.Scan(&id, &a.n, &a.gone); err != nil {
				r.bad("count: %v", err)
			}
			out[id] = a
		}
		return out
	}
	orgs := count(`SELECT subaccount_id, count(*), count(deleted_at) FROM organizations GROUP BY 1`)
	binds := count(`SELECT subaccount_id, count(*), count(revoked_at) FROM role_bindings GROUP BY 1`)
	clouds := count(`SELECT o.subaccount_id, count(*), 0 FROM clouds c JOIN organizations o ON o.id = c.organization_id GROUP BY 1`)
	emails := count(`SELECT subaccount_id, count(*), 0 FROM emails GROUP BY 1`)
	suspensions := count(`SELECT subaccount_id, count(*), count(coalesce(resumed_at, expired_at)) FROM suspensions GROUP BY 1`)

	ok := 0
	for _, ob := range obs {
		if !ob.launched {
			continue
		}
		ss := subs[ob.id]
		if len(ss) != 1 {
			r.bad("%s: %d subaccounts, want 1", ob.id, len(ss))
			continue
		}
		s := ss[0]
		bad := len(r.violations)
		if o := orgs[s.ID]; o.n != 1 {
			r.bad("%s: %d organizations, want 1", ob.id, o.n)
		}
		if b := binds[s.ID]; b.n != 4 {
			r.bad("%s: %d role bindings, want 4", ob.id, b.n)
		}
		if !ob.finished {
			continue
		}
		w := wantOf(ob.plan)
		gone := w.status == domain.StatusInactive
		if cl := clouds[s.ID]; cl.n != w.clouds {
			r.bad("%s (%s): %d clouds, want %d", ob.id, ob.plan, cl.n, w.clouds)
		}
		if s.Status != w.status || s.Reason != w.reason {
			r.bad("%s (%s): subaccount %s %s, want %s %s", ob.id, ob.plan, s.Status, s.Reason, w.status, w.reason)
		}
		if sp := suspensions[s.ID]; sp.n != w.suspensions || sp.gone != w.suspensions {
			r.bad("%s (%s): %d suspensions (%d ended), want %d, ended", ob.id, ob.plan, sp.n, sp.gone, w.suspensions)
		}
		if ob.plan == planSuspendExpire && !ob.lifeFinished {
			r.bad("%s: the customer workflow did not finish: %v", ob.id, ob.lifeErr)
		}
		if gone && (orgs[s.ID].gone != 1 || binds[s.ID].gone != 4) {
			r.bad("%s: deleted subaccount with %d/1 organizations deleted and %d/4 bindings revoked", ob.id, orgs[s.ID].gone, binds[s.ID].gone)
		}
		if !gone && (orgs[s.ID].gone != 0 || binds[s.ID].gone != 0) {
			r.bad("%s: active subaccount with a deleted organization or revoked bindings", ob.id)
		}
		if e := emails[s.ID]; e.n != ob.result.EmailsSent {
			r.bad("%s: %d emails recorded, the workflow sent %d", ob.id, e.n, ob.result.EmailsSent)
		}
		if len(r.violations) == bad {
			ok++
		}
	}
	r.counts["customer records correct"] = ok
}

// checkAudit: the audit log holds one event for every change and every
// request the driver had answered, written with the change or by the
// workflow under its key — none lost, none twice — and no request is left
// accepted but not carried out.
func (c *chaos) checkAudit(ctx context.Context, obs []*trial, r *report) {
	db := c.st.DB()
	keyed := map[string]string{} // key → outcome
	rows, err := db.QueryContext(ctx, `SELECT key, outcome FROM audit_events WHERE partner_id = 'chaos' AND key IS NOT NULL`)
	if err != nil {
		r.bad("read the audit log: %v", err)
		return
	}
	for rows.Next() {
		var k, o string
		if err := rows.Scan(&k, &o); err != nil {
			r.bad("read the audit log: %v", err)
		}
		keyed[k] = o
	}
	rows.Close()
	var pending int
	if err := db.GetContext(ctx, &pending, `SELECT count(*) FROM requests WHERE partner_id = 'chaos' AND status = 'accepted'`); err != nil {
		r.bad("count pending requests: %v", err)
	}
	settled := map[string]string{}
	rows, err = db.QueryContext(ctx, `SELECT id, status FROM requests WHERE partner_id = 'chaos'`)
	if err != nil {
		r.bad("read requests: %v", err)
		return
	}
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			r.bad("read requests: %v", err)
		}
		settled[id] = st
	}
	rows.Close()

	want, lost := 0, 0
	expect := func(ob *trial, key, why string) {
		want++
		if _, ok := keyed[key]; !ok {
			lost++
			r.bad("%s (%s): no audit event for %s (%s)", ob.id, ob.plan, why, key)
		}
	}
	for _, ob := range obs {
		if !ob.launched || !ob.finished || ob.result.SubaccountID == "" {
			continue
		}
		sa := ob.result.SubaccountID
		expect(ob, "create/"+sa, "the launch")
		switch {
		case confirms(ob.plan) || ob.plan == planDecline:
			expect(ob, "answer/"+sa, "the customer's answer")
		case ob.plan == planExpire || ob.plan == planResendExpire:
			expect(ob, "delete/"+sa, "the deletion at the deadline")
		}
		if ob.plan == planSuspendExpire && ob.lifeFinished {
			var susp string
			if err := db.GetContext(ctx, &susp, `SELECT id FROM suspensions WHERE subaccount_id = $1 AND expired_at IS NOT NULL`, sa); err != nil {
				r.bad("%s: the expired suspension: %v", ob.id, err)
			} else {
				expect(ob, "expire/"+susp, "the deletion when the suspension ran out")
			}
		}
		for id, answered := range ob.requests {
			expect(ob, "request/"+id, "its request")
			// Done is done; accepted is carried out, done or refused for a
			// reason that arose later (the deadline passed before a worker
			// took it), and never left accepted.
			switch st := settled[id]; {
			case answered == domain.RequestDone && st != domain.RequestDone:
				r.bad("%s (%s): request %s answered done is %q", ob.id, ob.plan, id, st)
			case st != domain.RequestDone && st != domain.RequestRefused:
				r.bad("%s (%s): request %s answered %s is %q", ob.id, ob.plan, id, answered, st)
			case answered == domain.RequestAccepted:
				r.counts["requests answered accepted, carried out later"]++
			}
		}
	}
	// Every request settled has its one event, with the same outcome.
	for id, st := range settled {
		if o, ok := keyed["request/"+id]; st != domain.RequestAccepted && (!ok || o != st) {
			r.bad("request %s is %s with audit outcome %q", id, st, o)
		}
	}
	r.counts["audit events for the changes and requests (keyed)"] = len(keyed)
	r.counts["audit events wanted by the driver's actions"] = want
	r.counts["audit events lost"] = lost
	r.counts["audit events duplicated"] = 0
	var dup int
	if err := db.GetContext(ctx, &dup, `SELECT count(*) - count(DISTINCT key) FROM audit_events WHERE key IS NOT NULL`); err == nil {
		r.counts["audit events duplicated"] = dup
	}
	r.counts["requests left accepted, not carried out"] = pending
	if pending > 0 {
		r.bad("%d requests were accepted and never carried out", pending)
	}
}

// checkMail: every recorded send is in mailpit; a duplicate only ever with
// the same Message-ID.
func (c *chaos) checkMail(ctx context.Context, r *report) {
	a, err := stack.AuditMail(ctx, c.mail, c.st.DB())
	if err != nil {
		r.bad("%v", err)
		return
	}
	for _, id := range a.Missing {
		r.bad("email %s recorded as sent but not delivered", id)
	}
	// Every message carries the Message-ID fixed for its subaccount and
	// sequence number before sending; nothing else was ever sent.
	for _, id := range a.Foreign {
		r.bad("mailpit holds a message with Message-ID %q, not one the activities make", id)
	}
	r.counts["duplicate deliveries (same Message-ID)"] = a.Duplicates
	r.counts["emails recorded"] = a.Recorded
	// Delivered, then the send was refused for good before it was recorded
	// (say the onboarding had ended meanwhile): not lost, not a second Message-ID.
	r.counts["delivered but unrecorded"] = a.Unrecorded
	r.counts["emails delivered"] = a.Delivered
}
