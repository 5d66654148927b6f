package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/workflows"
)

func TestDeclineEndToEnd(t *testing.T) {
	s := startWorker(t, nil)
	partner, email := newCustomer(t, s)
	run := s.launch(partner, "Declining Customer", email, time.Hour)
	s.waitStage(run, workflows.StageAwaiting)
	require.NoError(t, s.c.SignalWorkflow(context.Background(), run.GetID(), run.GetRunID(), workflows.SignalDecline, workflows.Decline{Via: workflows.ViaLink}))
	r, err := s.result(run)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeDeclined, r.Outcome)
	sa, err := s.st.Subaccount(context.Background(), "", r.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, domain.StatusInactive, sa.Status)
	require.Equal(t, domain.ReasonDeclined, sa.DeletedReason)
	s.save(run, "declined")
}

// TestCustomerLifecycleEndToEnd: after onboarding, more clouds, a suspend
// and a resume, and a suspension that runs out, carried out by the real
// worker's customer workflow against Postgres.
func TestCustomerLifecycleEndToEnd(t *testing.T) {
	s := startWorker(t, nil)
	ctx := context.Background()
	partner, email := newCustomer(t, s)
	op := domain.Operator("test")
	run := s.launch(partner, "Lifelong Customer", email, time.Hour)
	s.waitStage(run, workflows.StageAwaiting)
	require.NoError(t, s.c.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.SignalConfirm, workflows.Confirm{Via: workflows.ViaLink}))
	r, err := s.result(run)
	require.NoError(t, err)

	c, err := s.drv.Lifecycle.AddCloud(ctx, op, run.GetID(), "second-cloud", "")
	require.NoError(t, err)
	require.True(t, c.Created)
	l, err := s.drv.Lifecycle.Suspend(ctx, op, r.SubaccountID, "audit", 0, "")
	require.NoError(t, err)
	require.Equal(t, domain.StatusSuspended, l.Status)
	_, err = s.drv.Lifecycle.AddCloud(ctx, op, run.GetID(), "third-cloud", "")
	require.ErrorIs(t, err, domain.ErrSuspended)
	l, err = s.drv.Lifecycle.Resume(ctx, op, r.SubaccountID, "")
	require.NoError(t, err)
	require.Equal(t, domain.StatusActive, l.Status)
	_, err = s.drv.Lifecycle.Suspend(ctx, op, r.SubaccountID, "", 2*time.Second, "")
	require.NoError(t, err)

	life := s.c.GetWorkflow(ctx, workflows.CustomerWorkflowID(r.SubaccountID), "")
	var res workflows.CustomerResult
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, life.Get(wctx, &res))
	require.Equal(t, domain.ReasonSuspensionExpired, res.Outcome)
	sa, err := s.st.Subaccount(ctx, "", r.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, domain.StatusInactive, sa.Status)
	require.Equal(t, domain.ReasonSuspensionExpired, sa.DeletedReason)
	require.Equal(t, 2, sa.Clouds, "rows are kept")
	sus, err := s.st.Suspensions(ctx, r.SubaccountID)
	require.NoError(t, err)
	require.Len(t, sus, 2)
	s.save(life, "customer-requests-clouds-suspend-resume-expire")
}
