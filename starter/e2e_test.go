package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

func TestPartnerAdd(t *testing.T) {
	t.Parallel()
	testenv.RequireStack(t)
	_, dsn := testenv.NewStore(t)
	vars := map[string]string{"DATABASE_URL": dsn}

	r := runStarter(t, vars, "partner", "add", "--id", "acme-partners", "--name", "Acme Partners").ok(t)
	if !strings.Contains(r.stdout, "Partner acme-partners (Acme Partners) is registered with partner status") {
		t.Errorf("human output = %q", r.stdout)
	}
	// Again, as JSON: the same partner, unchanged.
	var p partnerJSON
	runStarter(t, vars, "partner", "add", "--json", "--id", "acme-partners", "--name", "Other Name").ok(t).decode(t, &p)
	if p.ID != "acme-partners" || p.Name != "Acme Partners" || !p.PartnerStatus {
		t.Errorf("partner = %+v, want the first registration with partner status", p)
	}
}

func TestAdd(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	ctx := context.Background()
	partner := s.partner()

	// Launch: the id is printed, the customer record appears, mail goes out.
	addr := email("acme")
	r := s.run("add", "--partner", partner, "--name", "Acme Corp", "--email", addr, "--cloud", "acme-main", "--contact", "Jane Doe").ok(t)
	id := workflows.WorkflowID(partner, "Acme Corp")
	if !strings.Contains(r.stdout, "Launched onboarding "+id) {
		t.Errorf("output %q does not name the onboarding %s", r.stdout, id)
	}
	v := s.waitStage(id, workflows.StageAwaiting)
	if v.SubaccountStatus != domain.StatusAcceptanceRequired || v.EmailsSent != 1 || v.Customer != "Acme Corp" || v.PartnerID != partner {
		t.Errorf("status after launch = %+v", v)
	}
	testenv.WaitMail(t, addr, 1, 20*time.Second)
	firstRun := s.runID(id)

	// The same customer again, even spelled differently: same id, nothing new.
	var again launchedJSON
	s.run("add", "--json", "--partner", partner, "--name", "ACME  corp", "--email", email("other"), "--cloud", "acme-main").ok(t).decode(t, &again)
	if again.Launched || again.OnboardingID != id {
		t.Errorf("second launch = %+v, want the existing onboarding %s, not launched", again, id)
	}
	if n := len(s.subaccounts(partner)); n != 1 {
		t.Errorf("%d subaccounts after launching twice, want 1", n)
	}
	if got := s.runID(id); got != firstRun {
		t.Errorf("run %s after launching twice, want still %s", got, firstRun)
	}
	r = s.run("add", "--partner", partner, "--name", "Acme Corp", "--email", addr, "--cloud", "acme-main").ok(t)
	if !strings.Contains(r.stdout, "Already launched: onboarding "+id) {
		t.Errorf("human output for a repeat = %q", r.stdout)
	}

	// Unknown partner, partner without partner status: refused, nothing created.
	s.run("add", "--partner", "nobody", "--name", "Beta", "--email", email("b"), "--cloud", "beta-main").
		fails(t, exitRefused, `partner "nobody" is not registered`, "starter partner add --id ID")
	if _, err := s.store.SetPartnerStatus(ctx, partner, false, nil); err != nil {
		t.Fatal(err)
	}
	s.run("add", "--partner", partner, "--name", "Beta", "--email", email("b"), "--cloud", "beta-main").
		fails(t, exitRefused, "has no partner status", "may not add customers")
	if _, err := s.store.SetPartnerStatus(ctx, partner, true, nil); err != nil {
		t.Fatal(err)
	}
	// Invalid input: refused before anything is written or started.
	s.run("add", "--partner", partner, "--name", "Gamma", "--email", "gamma@", "--cloud", "gamma-main").
		fails(t, exitRefused, "email:", "not a valid email address")
	for _, name := range []string{"Beta", "Gamma"} {
		if got := s.runID(workflows.WorkflowID(partner, name)); got != "" {
			t.Errorf("a refused launch of %s started run %s", name, got)
		}
	}
	if n := len(s.subaccounts(partner)); n != 1 {
		t.Errorf("%d subaccounts after refused launches, want 1", n)
	}
}

// TestAddAfterEnd: a customer whose onboarding ended ACTIVE is not launched
// again; one whose subaccount was deleted (expired, cancelled) is, under the
// same id, as a new subaccount.
func TestAddAfterEnd(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	partner := s.partner()

	active := s.add(partner, "Active Ltd")
	s.waitStage(active, workflows.StageAwaiting)
	s.confirm(active)
	v := s.waitOutcome(active, workflows.OutcomeActive)
	if v.SubaccountStatus != domain.StatusActive || v.CloudID == "" {
		t.Errorf("confirmed onboarding = %+v, want subaccount ACTIVE with a cloud", v)
	}
	run := s.runID(active)
	var again launchedJSON
	s.run("add", "--json", "--partner", partner, "--name", "Active Ltd", "--email", email("a"), "--cloud", "main-cloud").ok(t).decode(t, &again)
	if again.Launched || again.OnboardingID != active || !strings.Contains(again.State, domain.StatusActive) {
		t.Errorf("launch after ACTIVE = %+v, want the existing onboarding, not launched", again)
	}
	if got := s.runID(active); got != run {
		t.Errorf("a new run %s was started after the onboarding ended ACTIVE", got)
	}

	expired := s.add(partner, "Expired Ltd", "--confirm-within", "2s")
	s.waitOutcome(expired, workflows.OutcomeExpired)
	cancelled := s.add(partner, "Cancelled Ltd")
	s.waitStage(cancelled, workflows.StageAwaiting)
	s.run("cancel", cancelled).ok(t)

	for name, id := range map[string]string{"Expired Ltd": expired, "Cancelled Ltd": cancelled} {
		old := s.runID(id)
		var res launchedJSON
		s.run("add", "--json", "--partner", partner, "--name", name, "--email", email("again"), "--cloud", "main-cloud").ok(t).decode(t, &res)
		if !res.Launched || res.OnboardingID != id || res.RunID == old {
			t.Errorf("relaunch of %s = %+v, want a new run under the same id (old run %s)", id, res, old)
		}
		v := s.waitStage(id, workflows.StageAwaiting)
		if v.SubaccountStatus != domain.StatusAcceptanceRequired {
			t.Errorf("relaunched %s: %+v", id, v)
		}
	}
	subs := s.subaccounts(partner)
	count := map[string]int{}
	for _, sa := range subs {
		count[sa.Name+" "+sa.Status]++
	}
	want := map[string]int{
		"Active Ltd ACTIVE": 1, "Expired Ltd INACTIVE": 1, "Expired Ltd ACCEPTANCE_REQUIRED": 1,
		"Cancelled Ltd INACTIVE": 1, "Cancelled Ltd ACCEPTANCE_REQUIRED": 1,
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("subaccounts %q: %d, want %d (all: %v)", k, count[k], n, count)
		}
	}
	if len(subs) != 5 {
		t.Errorf("%d subaccounts, want 5", len(subs))
	}

	// list shows each subaccount with the run that created it: the new
	// one waiting, the deleted one with its outcome.
	want2 := map[string]string{
		"Expired Ltd ACCEPTANCE_REQUIRED":   workflows.StageAwaiting + " ",
		"Expired Ltd INACTIVE":              workflows.StageDone + " " + workflows.OutcomeExpired,
		"Cancelled Ltd ACCEPTANCE_REQUIRED": workflows.StageAwaiting + " ",
		"Cancelled Ltd INACTIVE":            workflows.StageDone + " " + workflows.OutcomeCancelled,
		"Active Ltd ACTIVE":                 workflows.StageDone + " " + workflows.OutcomeActive,
	}
	var rows map[string]string
	testenv.Eventually(t, 20*time.Second, "list to join each subaccount with its run", func() bool {
		var out struct{ Onboardings []viewJSON }
		s.run("list", "--json", "--partner", partner).ok(t).decode(t, &out)
		rows = map[string]string{}
		for _, v := range out.Onboardings {
			rows[v.Customer+" "+v.SubaccountStatus] = v.Stage + " " + v.Outcome
		}
		return fmt.Sprint(rows) == fmt.Sprint(want2)
	})
}

func TestStatusAndList(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	p1, p2 := s.partner(), s.partner()
	a := s.add(p1, "Alpha")
	b := s.add(p1, "Bravo")
	c := s.add(p2, "Charlie")
	for _, id := range []string{a, b, c} {
		s.waitStage(id, workflows.StageAwaiting)
	}
	s.confirm(b)
	s.waitOutcome(b, workflows.OutcomeActive)

	// status: human and JSON.
	r := s.run("status", a).ok(t)
	for _, want := range []string{"Onboarding:", a, "Stage:", workflows.StageAwaiting, "ACCEPTANCE_REQUIRED (Verification required)", "Deadline:", "Emails sent:", "1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status output does not contain %q:\n%s", want, r.stdout)
		}
	}
	v := s.status(a)
	if v.Deadline == nil || time.Until(*v.Deadline) < 6*24*time.Hour || v.NextResendAt == nil || v.Workflow != "RUNNING" {
		t.Errorf("status = %+v, want a deadline about 7 days out and a next resend time", v)
	}
	v = s.status(b)
	if v.Outcome != workflows.OutcomeActive || v.Stage != workflows.StageDone || v.SubaccountStatus != domain.StatusActive || v.CloudName != "main-cloud" || v.CloudID == "" {
		t.Errorf("status of the confirmed onboarding = %+v", v)
	}
	s.run("status", "onboarding/"+p1+"/nobody").fails(t, exitRefused, "no customer or onboarding", "starter list")

	// list: by partner and status, joined with Temporal's stage and outcome.
	list := func(args ...string) []viewJSON {
		t.Helper()
		var out struct{ Onboardings []viewJSON }
		s.run(append([]string{"list", "--json"}, args...)...).ok(t).decode(t, &out)
		return out.Onboardings
	}
	byID := func(vs []viewJSON) map[string]viewJSON {
		m := map[string]viewJSON{}
		for _, v := range vs {
			m[v.OnboardingID] = v
		}
		return m
	}
	testenv.Eventually(t, 20*time.Second, "visibility to show the stages", func() bool {
		m := byID(list("--partner", p1))
		return len(m) == 2 && m[a].Stage == workflows.StageAwaiting && m[b].Outcome == workflows.OutcomeActive
	})
	m := byID(list("--partner", p1))
	if m[a].SubaccountStatus != domain.StatusAcceptanceRequired || m[a].EmailsSent != 1 || m[a].Deadline == nil {
		t.Errorf("list row of %s = %+v", a, m[a])
	}
	if m[b].SubaccountStatus != domain.StatusActive || m[b].Stage != workflows.StageDone {
		t.Errorf("list row of %s = %+v", b, m[b])
	}
	if got := byID(list("--partner", p1, "--status", "active")); len(got) != 1 || got[b].OnboardingID != b {
		t.Errorf("list --status active = %v, want only %s", got, b)
	}
	if got := byID(list("--partner", p2)); len(got) != 1 || got[c].Customer != "Charlie" {
		t.Errorf("list --partner %s = %v, want only %s", p2, got, c)
	}
	if got := byID(list()); len(got) != 3 {
		t.Errorf("list = %d rows, want 3 (this test's database and task queue)", len(got))
	}
	// An unknown partner is refused as `add` refuses it, not listed as empty.
	s.run("list", "--partner", "nobody").fails(t, exitRefused, `partner "nobody" is not registered`)
	r = s.run("list", "--partner", p1).ok(t)
	if !strings.Contains(r.stdout, "ONBOARDING") || !strings.Contains(r.stdout, a) || !strings.Contains(r.stdout, b) {
		t.Errorf("list table:\n%s", r.stdout)
	}
}

func TestResend(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	partner := s.partner()
	addr := email("resend")
	s.run("add", "--partner", partner, "--name", "Resend Co", "--email", addr, "--cloud", "main-cloud").ok(t)
	id := workflows.WorkflowID(partner, "Resend Co")
	s.waitStage(id, workflows.StageAwaiting)
	time.Sleep(150 * time.Millisecond) // RESEND_MIN_INTERVAL is 100ms here

	var out struct {
		EmailsSent int `json:"emails_sent"`
	}
	s.run("resend", "--json", id).ok(t).decode(t, &out)
	if out.EmailsSent != 2 {
		t.Errorf("emails sent after a resend = %d, want 2", out.EmailsSent)
	}
	testenv.WaitMail(t, addr, 2, 20*time.Second)

	// Too soon: refused with the workflow's reason. This onboarding was
	// launched with a 1h gap between sends.
	slow := workflows.WorkflowID(partner, "Slow Co")
	s.runEnv(map[string]string{"RESEND_MIN_INTERVAL": "1h"}, "add", "--partner", partner, "--name", "Slow Co", "--email", email("slow"), "--cloud", "main-cloud").ok(t)
	s.waitStage(slow, workflows.StageAwaiting)
	s.run("resend", slow).fails(t, exitRefused, "starter: resend: too soon")
	if v := s.status(slow); v.EmailsSent != 1 {
		t.Errorf("a refused resend sent an email: %+v", v)
	}

	s.run("resend", "onboarding/"+partner+"/nobody").fails(t, exitRefused, "no customer or onboarding")
	s.run("cancel", id).ok(t)
	s.run("resend", id).fails(t, exitRefused, "has already ended CANCELLED", "nothing to resend")
}

func TestLinkAndCancel(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	partner := s.partner()
	id := s.add(partner, "Linked Co")
	v := s.waitStage(id, workflows.StageAwaiting)

	var out struct {
		Link         string `json:"link"`
		SubaccountID string `json:"subaccount_id"`
	}
	s.run("link", "--json", id).ok(t).decode(t, &out)
	v0 := config.New(testenv.Getenv(s.vars))
	linkSet := config.LoadLinks(v0)
	if err := v0.Err(); err != nil {
		t.Fatal(err)
	}
	prefix := linkSet.PublicURL + "/confirm?token="
	if !strings.HasPrefix(out.Link, prefix) {
		t.Fatalf("link %q does not start with %q", out.Link, prefix)
	}
	claims, err := links.NewSigner(linkSet.Secret).Parse(strings.TrimPrefix(out.Link, prefix))
	if err != nil || claims.SubaccountID != v.SubaccountID || !claims.Deadline.Equal(v.Deadline.Truncate(time.Second)) {
		t.Errorf("link claims %+v, %v; want subaccount %s and deadline %s", claims, err, v.SubaccountID, v.Deadline)
	}
	r := s.run("link", id).ok(t)
	if !strings.HasPrefix(r.stdout, out.Link+"\n") {
		t.Errorf("human link output = %q, want the link first", r.stdout)
	}

	// Cancel: the subaccount is deleted; then link and cancel are refused.
	var res struct {
		Outcome      string `json:"outcome"`
		SubaccountID string `json:"subaccount_id"`
	}
	s.run("cancel", "--json", id).ok(t).decode(t, &res)
	if res.Outcome != workflows.OutcomeCancelled || res.SubaccountID != v.SubaccountID {
		t.Errorf("cancel = %+v", res)
	}
	sa, err := s.store.Subaccount(context.Background(), "", v.SubaccountID)
	if err != nil || sa.Status != domain.StatusInactive || sa.DeletedReason != domain.ReasonCancelled {
		t.Errorf("subaccount after cancel = %+v, %v; want INACTIVE, CANCELLED", sa, err)
	}
	s.waitOutcome(id, workflows.OutcomeCancelled)
	s.run("link", id).fails(t, exitRefused, "has already ended CANCELLED")
	s.run("cancel", id).fails(t, exitRefused, "has already ended CANCELLED")

	// Once confirmed, cancel is refused.
	confirmed := s.add(partner, "Confirmed Co")
	s.waitStage(confirmed, workflows.StageAwaiting)
	s.confirm(confirmed)
	s.waitOutcome(confirmed, workflows.OutcomeActive)
	s.run("cancel", confirmed).fails(t, exitRefused, "the customer confirmed and is active", "nothing to cancel")
	s.run("link", confirmed).fails(t, exitRefused, "the customer confirmed")
	if sa, err := s.store.LiveSubaccount(context.Background(), partner, "Confirmed Co"); err != nil || sa.Status != domain.StatusActive {
		t.Errorf("refused cancel changed the subaccount: %+v, %v", sa, err)
	}

	s.run("link", "onboarding/"+partner+"/nobody").fails(t, exitRefused, "no customer or onboarding")
	s.run("cancel", "onboarding/"+partner+"/nobody").fails(t, exitRefused, "no customer or onboarding")
}

func TestEdit(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	ctx := context.Background()
	partner := s.partner()
	id := s.add(partner, "Edit Co")
	v := s.waitStage(id, workflows.StageAwaiting)

	newAddr := email("new")
	var out editedJSON
	s.run("edit", "--json", id, "--email", newAddr, "--contact", "John Roe", "--cloud", "edited-cloud").ok(t).decode(t, &out)
	if strings.Join(out.Changed, ",") != "cloud,contact,email" || out.Subaccount.CloudName != "edited-cloud" {
		t.Errorf("edit output = %+v", out)
	}
	sa, err := s.store.Subaccount(ctx, "", v.SubaccountID)
	if err != nil || sa.Email != newAddr || sa.Contact != "John Roe" || sa.CloudName != "edited-cloud" || sa.Name != "Edit Co" {
		t.Errorf("subaccount after edit = %+v, %v", sa, err)
	}
	// A resend goes to the new address.
	time.Sleep(150 * time.Millisecond)
	s.run("resend", id).ok(t)
	testenv.WaitMail(t, newAddr, 1, 20*time.Second)

	// The name is refused, and so are invalid values: nothing changes.
	s.run("edit", id, "--name", "Renamed Co").fails(t, exitRefused, "--name refused", "cannot be changed")
	s.run("edit", id, "--email", "bad@", "--contact", "=HYPERLINK()").fails(t, exitRefused, "email:", "contact:", "nothing was changed")
	if after, _ := s.store.Subaccount(ctx, "", v.SubaccountID); after.Name != "Edit Co" || after.Email != newAddr || after.Contact != "John Roe" {
		t.Errorf("refused edits changed the subaccount: %+v", after)
	}
	s.run("edit", "onboarding/"+partner+"/nobody", "--email", newAddr).fails(t, exitRefused, "no customer or onboarding")

	// A deleted subaccount cannot be edited.
	s.run("cancel", id).ok(t)
	s.run("edit", id, "--contact", "Late").fails(t, exitRefused, "has already ended CANCELLED", "cannot be edited")
	r := s.run("edit", id, "--email", email("x"))
	r.fails(t, exitRefused, "cannot be edited")
}
