package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
)

// seed creates n customers of the partner, the i-th named "Customer 000i";
// every third is activated and every fifth deleted as expired.
func seed(t *testing.T, st *store.Store, ctx context.Context, partner string, n int) []domain.Subaccount {
	t.Helper()
	var out []domain.Subaccount
	for i := range n {
		sa, err := st.CreateCustomer(ctx, newCustomer(partner, fmt.Sprintf("Customer %04d", i)))
		require.NoError(t, err)
		switch {
		case i%5 == 0:
			sa, err = st.Delete(ctx, sa.ID, domain.ReasonExpired, sa.CreatedAt)
		case i%3 == 0:
			sa, err = st.Activate(ctx, sa.ID, sa.CreatedAt)
		}
		require.NoError(t, err)
		out = append(out, sa)
	}
	return out
}

func ids(items []domain.Subaccount) []string {
	var out []string
	for _, sa := range items {
		out = append(out, sa.Name)
	}
	return out
}

func TestListPagesByKeyset(t *testing.T) {
	st, ctx := setup(t)
	_, err := st.AddPartner(ctx, "other", "Other", nil)
	require.NoError(t, err)
	all := seed(t, st, ctx, "integrator", 23)
	seed(t, st, ctx, "other", 3)
	var want []string // newest first
	for i := len(all) - 1; i >= 0; i-- {
		want = append(want, all[i].Name)
	}

	// Forward through every page: each row once, newest first.
	var got []string
	q := store.ListQuery{PartnerID: "integrator", Limit: 10}
	var pages []store.Page
	for {
		p, err := st.ListSubaccounts(ctx, q)
		require.NoError(t, err)
		pages = append(pages, p)
		got = append(got, ids(p.Items)...)
		if p.Next == nil {
			break
		}
		q.After = p.Next
	}
	require.Equal(t, want, got)
	require.Len(t, pages, 3)
	require.Nil(t, pages[0].Prev, "the first page has no previous page")
	require.NotNil(t, pages[2].Prev)

	// Back from the last page to the first, by the Prev cursors.
	last, err := st.ListSubaccounts(ctx, store.ListQuery{PartnerID: "integrator", Limit: 10, Last: true})
	require.NoError(t, err)
	require.Equal(t, want[13:], ids(last.Items), "the last page holds the oldest rows")
	require.Nil(t, last.Next)
	mid, err := st.ListSubaccounts(ctx, store.ListQuery{PartnerID: "integrator", Limit: 10, Before: last.Prev})
	require.NoError(t, err)
	require.Equal(t, want[3:13], ids(mid.Items))
	require.NotNil(t, mid.Next)
	first, err := st.ListSubaccounts(ctx, store.ListQuery{PartnerID: "integrator", Limit: 10, Before: mid.Prev})
	require.NoError(t, err)
	require.Equal(t, want[:3], ids(first.Items), "pages counted from the end need not align with those from the start")
	require.Nil(t, first.Prev, "nothing is newer than the first page")

	// Filters: status, deletion reason, name search, each with keyset pages.
	active, err := st.ListSubaccounts(ctx, store.ListQuery{PartnerID: "integrator", Status: domain.StatusActive, Limit: 3})
	require.NoError(t, err)
	require.Equal(t, []string{"Customer 0021", "Customer 0018", "Customer 0012"}, ids(active.Items))
	more, err := st.ListSubaccounts(ctx, store.ListQuery{PartnerID: "integrator", Status: domain.StatusActive, Limit: 3, After: active.Next})
	require.NoError(t, err)
	require.Equal(t, []string{"Customer 0009", "Customer 0006", "Customer 0003"}, ids(more.Items))
	expired, err := st.ListSubaccounts(ctx, store.ListQuery{PartnerID: "integrator", Reason: domain.ReasonExpired})
	require.NoError(t, err)
	require.Len(t, expired.Items, 5)
	found, err := st.ListSubaccounts(ctx, store.ListQuery{PartnerID: "integrator", Search: "  CUSTOMER   001"})
	require.NoError(t, err)
	require.Len(t, found.Items, 10)
	none, err := st.ListSubaccounts(ctx, store.ListQuery{PartnerID: "integrator", Search: "%"})
	require.NoError(t, err)
	require.Empty(t, none.Items, "search text is matched as it is, not as a pattern")

	// A cursor survives its text form; a forged one is refused clearly.
	c, err := store.ParseCursor(pages[0].Next.String())
	require.NoError(t, err)
	require.True(t, c.CreatedAt.Equal(pages[0].Next.CreatedAt))
	require.Equal(t, pages[0].Next.ID, c.ID)
	for _, bad := range []string{"", "!!", "MTIz", "eHguYWJj"} {
		_, err := store.ParseCursor(bad)
		require.ErrorIs(t, err, domain.ErrInvalid, bad)
	}
}
