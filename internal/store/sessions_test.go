package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
)

// TestFlashIsTakenOnce: a session's flash waits for its next page, is
// taken once — by one of two pages asking at once — and belongs to that
// session alone; a new flash replaces one that waits.
func TestFlashIsTakenOnce(t *testing.T) {
	st, ctx := setup(t)
	staff, err := st.AddStaff(ctx, store.NewStaff{ID: uuid.NewString(), PartnerID: "integrator", Email: "owner@integrator.example", Role: domain.StaffOwner}, nil)
	require.NoError(t, err)
	now := time.Now()
	for _, id := range []string{"session-a", "session-b"} {
		require.NoError(t, st.CreateSession(ctx, id, staff.ID, "csrf-"+id, "127.0.0.1", "test", now, now.Add(time.Hour)))
	}
	_, err = st.TakeFlash(ctx, "session-a")
	require.ErrorIs(t, err, domain.ErrNotFound, "no flash yet")
	require.NoError(t, st.SetFlash(ctx, "session-a", []byte("first")))
	require.NoError(t, st.SetFlash(ctx, "session-a", []byte("second")))
	_, err = st.TakeFlash(ctx, "session-b")
	require.ErrorIs(t, err, domain.ErrNotFound, "another session's flash")

	// Two pages at once: one gets it, the other nothing.
	var wg sync.WaitGroup
	got := make([][]byte, 4)
	for i := range got {
		wg.Go(func() {
			got[i], _ = st.TakeFlash(context.Background(), "session-a")
		})
	}
	wg.Wait()
	var taken []string
	for _, g := range got {
		if g != nil {
			taken = append(taken, string(g))
		}
	}
	require.Equal(t, []string{"second"}, taken, "the last flash, once")

	require.ErrorIs(t, st.SetFlash(ctx, "ended", []byte("x")), domain.ErrNotFound, "a session that is not there")
	require.NoError(t, st.SetFlash(ctx, "session-b", []byte("b")))
	require.NoError(t, st.EndSession(ctx, "session-b"))
	_, err = st.TakeFlash(ctx, "session-b")
	require.ErrorIs(t, err, domain.ErrNotFound, "ended with its session")
}
