package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

func TestLiveSubaccount(t *testing.T) {
	ctx := context.Background()
	st, _ := testenv.NewStore(t)
	for _, p := range []string{"p1", "p2"} {
		if _, err := st.AddPartner(ctx, p, "Partner "+p, nil); err != nil {
			t.Fatal(err)
		}
	}
	create := func(partner, name string) domain.Subaccount {
		t.Helper()
		sa, err := st.CreateCustomer(ctx, store.NewCustomer{
			SubaccountID: uuid.NewString(), OrganizationID: uuid.NewString(),
			OnboardingID: "onboarding/" + partner + "/" + name, PartnerID: partner, Name: name,
			Email: "a@example.com", CloudName: "main", Deadline: time.Now().Add(time.Hour),
		})
		if err != nil {
			t.Fatal(err)
		}
		return sa
	}

	if _, err := st.LiveSubaccount(ctx, "p1", "Acme Corp"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("before any record: err = %v, want ErrNotFound", err)
	}
	old := create("p1", "Acme Corp")
	if _, err := st.Delete(ctx, old.ID, domain.ReasonExpired, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.LiveSubaccount(ctx, "p1", "Acme Corp"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("only a deleted record: err = %v, want ErrNotFound", err)
	}
	live := create("p1", "Acme Corp")
	other := create("p2", "Acme Corp")

	got, err := st.LiveSubaccount(ctx, "p1", "  acme   CORP ")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != live.ID {
		t.Errorf("p1: got subaccount %s, want the live one %s (not the deleted %s)", got.ID, live.ID, old.ID)
	}
	got, err = st.LiveSubaccount(ctx, "p2", "Acme Corp")
	if err != nil || got.ID != other.ID {
		t.Errorf("p2: got %s, %v; want %s", got.ID, err, other.ID)
	}
	// An active (confirmed) subaccount is live too.
	if _, err := st.Activate(ctx, live.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, err := st.LiveSubaccount(ctx, "p1", "Acme Corp"); err != nil || got.Status != domain.StatusActive {
		t.Errorf("active: got %+v, %v; want the ACTIVE subaccount", got.Status, err)
	}
}
