package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// TestEachAuditEventInBatches: an export reads in keyset batches and
// streams every selected event exactly once, newest first — events that
// share a time across a batch's edge included — with the scope and the
// filters in every batch, and one statement a batch.
func TestEachAuditEventInBatches(t *testing.T) {
	_, dsn := testenv.NewStore(t)
	ctx := t.Context()
	var statements int
	st, err := store.Open(ctx, dsn, store.Options{OnStatement: func() { statements++ }})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	sub := uuid.NewString()
	t0 := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	// 11 events of alpha, three at each instant, so that batches of 3 and
	// 4 end in the middle of a tie; every other one by carol, on sub; and
	// rival's events between them.
	for i := range 11 {
		e := domain.AuditEvent{At: t0.Add(time.Duration(i/3) * time.Second), PartnerID: "alpha", ActorKind: domain.ActorUser, ActorID: "bob", Action: "edit", Outcome: domain.OutcomeDone}
		if i%2 == 0 {
			e.ActorID, e.SubaccountID = "carol", sub
		}
		require.NoError(t, st.Audit(ctx, e))
		require.NoError(t, st.Audit(ctx, domain.AuditEvent{At: e.At, PartnerID: "rival", ActorKind: domain.ActorUser, ActorID: "carol", Action: "edit", Outcome: domain.OutcomeDone}))
	}
	each := func(q store.AuditQuery) []domain.AuditEvent {
		t.Helper()
		var got []domain.AuditEvent
		statements = 0
		require.NoError(t, st.EachAuditEvent(ctx, q, func(e domain.AuditEvent) error { got = append(got, e); return nil }))
		return got
	}
	want, err := st.AuditLog(ctx, store.AuditQuery{Scope: "alpha"})
	require.NoError(t, err)
	require.Len(t, want, 11)
	for _, batch := range []int{1, 3, 4, 11, 0} {
		got := each(store.AuditQuery{Scope: "alpha", Batch: batch})
		require.Equal(t, want, got, "batch %d", batch)
		size := batch
		if size == 0 {
			size = store.ExportBatch
		}
		require.Equal(t, 11/size+1, statements, "batch %d: one statement a batch, and the short one that ends it", batch)
	}
	carol := each(store.AuditQuery{Scope: "alpha", Actor: "carol", Batch: 2})
	require.Len(t, carol, 6)
	for _, e := range carol {
		require.Equal(t, "alpha", e.PartnerID)
		require.Equal(t, sub, e.SubaccountID)
	}
	require.Len(t, each(store.AuditQuery{Scope: "alpha", SubaccountID: sub, Batch: 4}), 6)
	require.Empty(t, each(store.AuditQuery{Scope: "rival", SubaccountID: sub, Batch: 4}), "another partner's customer: nothing")
	ranged := each(store.AuditQuery{Scope: "alpha", From: t0.Add(time.Second), To: t0.Add(3 * time.Second), Batch: 2})
	require.Len(t, ranged, 6, "[From, To): the instants 1 s and 2 s")
	require.Len(t, each(store.AuditQuery{Batch: 5}), 22, "every partner's, for an operator")

	// fn's error stops the export at once.
	stop := context.Canceled
	n := 0
	err = st.EachAuditEvent(ctx, store.AuditQuery{Scope: "alpha", Batch: 2}, func(domain.AuditEvent) error { n++; return stop })
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, n)
	require.ErrorIs(t, st.EachAuditEvent(ctx, store.AuditQuery{SubaccountID: "nope"}, func(domain.AuditEvent) error { return nil }), domain.ErrNotFound)
}
