package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// cloudCount is the number of cloud rows of the test's database.
func (s *stack) cloudCount() int {
	s.t.Helper()
	var n int
	if err := s.store.DB().Get(&n, `SELECT count(*) FROM clouds`); err != nil {
		s.t.Fatal(err)
	}
	return n
}

func TestCloudsSuspendResume(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	partner := s.partner()
	id := s.add(partner, "Lifecycle Co")
	s.waitStage(id, workflows.StageAwaiting)

	// Before the customer confirms, nothing of the lifecycle is allowed.
	before := s.cloudCount()
	s.run("cloud", "add", id, "--name", "early-cloud").fails(t, exitRefused, "has not confirmed yet")
	s.run("suspend", id).fails(t, exitRefused, "has not confirmed yet")
	s.run("resume", id).fails(t, exitRefused, "has not confirmed yet")
	if s.cloudCount() != before {
		t.Errorf("a refused cloud add wrote a cloud")
	}
	s.confirm(id)
	s.waitOutcome(id, workflows.OutcomeActive)

	// More clouds: the same name again is the same cloud, for every cloud:
	// the onboarding's own cloud's name too.
	var c1, c2 cloudAddedJSON
	s.run("cloud", "add", "--json", id, "--name", "second-cloud").ok(t).decode(t, &c1)
	if !c1.Created || c1.Name != "second-cloud" || !strings.HasPrefix(c1.Organization, "For subaccount '") {
		t.Errorf("cloud add = %+v", c1)
	}
	s.run("cloud", "add", "--json", id, "--name", "second-cloud").ok(t).decode(t, &c2)
	if c2.Created || c2.CloudID != c1.CloudID {
		t.Errorf("the same cloud again = %+v, want %s and nothing created", c2, c1.CloudID)
	}
	before = s.cloudCount()
	var first cloudAddedJSON
	s.run("cloud", "add", "--json", id, "--name", "main-cloud").ok(t).decode(t, &first)
	if first.Created || first.Name != "main-cloud" {
		t.Errorf("the first cloud's name again = %+v, want that cloud and nothing created", first)
	}
	s.run("cloud", "add", id, "--name", "Bad Name").fails(t, exitRefused, "not a valid cloud name")
	s.run("cloud", "add", "onboarding/"+partner+"/nobody", "--name", "x-cloud").fails(t, exitRefused, "no customer or onboarding")
	if s.cloudCount() != before {
		t.Errorf("refused cloud adds wrote %d clouds", s.cloudCount()-before)
	}
	var list struct {
		Clouds []struct{ Name string }
	}
	s.run("cloud", "list", "--json", id).ok(t).decode(t, &list)
	if len(list.Clouds) != 2 || list.Clouds[0].Name != "main-cloud" || list.Clouds[1].Name != "second-cloud" {
		t.Errorf("cloud list = %+v", list)
	}
	if r := s.run("status", id).ok(t); !strings.Contains(r.stdout, "second-cloud") {
		t.Errorf("status does not show the second cloud:\n%s", r.stdout)
	}

	// Suspend and resume, each idempotent; no new cloud while suspended.
	var l lifecycleJSON
	s.run("suspend", "--json", id, "--reason", "unpaid invoice").ok(t).decode(t, &l)
	if l.Status != domain.StatusSuspended || !l.Changed || l.DeleteAfter == nil || time.Until(*l.DeleteAfter) < 59*24*time.Hour {
		t.Errorf("suspend = %+v, want SUSPENDED for 60 days", l)
	}
	s.run("suspend", "--json", id).ok(t).decode(t, &l)
	if l.Changed || l.SuspendReason != "unpaid invoice" {
		t.Errorf("suspend again = %+v, want no change", l)
	}
	s.run("cloud", "add", id, "--name", "third-cloud").fails(t, exitRefused, "services are stopped")
	v := s.status(id)
	if v.SubaccountStatus != domain.StatusSuspended || v.DeleteAfter == nil || v.SuspendReason != "unpaid invoice" {
		t.Errorf("status while suspended = %+v", v)
	}
	s.run("resume", "--json", id).ok(t).decode(t, &l)
	if l.Status != domain.StatusActive || !l.Changed {
		t.Errorf("resume = %+v", l)
	}
	s.run("resume", "--json", id).ok(t).decode(t, &l)
	if l.Changed {
		t.Errorf("resume again = %+v, want no change", l)
	}

	// A suspension that runs out deletes the subaccount, rows kept.
	s.run("suspend", id, "--retention", "3s").ok(t)
	testenv.Eventually(t, 60*time.Second, "the suspension to run out", func() bool {
		return s.status(id).SubaccountStatus == domain.StatusInactive
	})
	v = s.status(id)
	if v.DeletedReason != domain.ReasonSuspensionExpired || len(v.Clouds) != 2 {
		t.Errorf("after the suspension ran out: %+v", v)
	}
	s.run("resume", id).fails(t, exitRefused, "has been deleted (SUSPENSION_EXPIRED)")
	s.run("suspend", id).fails(t, exitRefused, "has been deleted")
	s.run("cloud", "add", id, "--name", "late-cloud").fails(t, exitRefused, "has been deleted")

	// Bad input is refused before anything connects.
	s.run("suspend", id, "--retention", "1500h").fails(t, exitRefused, "retention")
	s.run("suspend", id, "--reason", strings.Repeat("x", 501)).fails(t, exitRefused, "reason")

	// The customer workflow is findable: every suspended or deleted subaccount of the partner.
	desc, err := s.tc.DescribeWorkflow(context.Background(), workflows.CustomerWorkflowID(v.SubaccountID), "")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := desc.TypedSearchAttributes.GetKeyword(workflows.AttrSubaccountStatus); st != domain.StatusInactive {
		t.Errorf("SubaccountStatus = %q, want INACTIVE", st)
	}
	if p, _ := desc.TypedSearchAttributes.GetKeyword(workflows.AttrPartner); p != partner {
		t.Errorf("OnboardingPartner = %q, want %s", p, partner)
	}
}
