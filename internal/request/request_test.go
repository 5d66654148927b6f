package request_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/request"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

func resend(id string) activities.Request {
	return activities.Request{ID: id, Kind: domain.RequestResend, PartnerID: "acme", WorkflowID: "onboarding/acme/globex",
		Fingerprint: "resend", By: activities.Actor{Kind: domain.ActorUser, ID: "ed@acme.example"}, At: time.Now().UTC()}
}

// TestTheSameIDFindsTheFirstRequest: a request id used before answers as
// the request made first — refused with the workflow's reason here — and
// delivers nothing; the same id with other arguments is refused as
// reused; a workflow that has gone is not found, and nothing is recorded.
func TestTheSameIDFindsTheFirstRequest(t *testing.T) {
	st, _ := testenv.NewStore(t)
	s := request.New(nil, st, time.Second)
	ctx := context.Background()
	first := resend(uuid.NewString())
	settled := first.Domain()
	settled.Status, settled.Reason = domain.RequestRefused, "too soon:\ntry again in 59s"
	_, err := st.SettleRequest(ctx, settled, domain.AuditEvent{At: first.At, PartnerID: "acme", ActorKind: domain.ActorUser,
		ActorID: "ed@acme.example", Action: "resend", Outcome: domain.OutcomeRefused, Key: "request/" + first.ID})
	require.NoError(t, err)
	delivered := 0
	deliver := func(context.Context, activities.Request) error { delivered++; return nil }

	r, err := s.Send(ctx, first, "tq", deliver)
	require.ErrorIs(t, err, domain.ErrRefused)
	require.Equal(t, "too soon:; try again in 59s", err.Error())
	require.Equal(t, domain.RequestRefused, r.Status)

	other := first
	other.Fingerprint = "resend twice"
	_, err = s.Send(ctx, other, "tq", deliver)
	require.ErrorIs(t, err, request.ErrReused)
	require.Equal(t, domain.Invalid, domain.KindOf(err))
	require.Zero(t, delivered, "nothing delivered for an id used before")

	gone := resend(uuid.NewString())
	_, err = s.Send(ctx, gone, "tq", func(context.Context, activities.Request) error {
		return serviceerror.NewNotFound("workflow execution already completed")
	})
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = st.Request(ctx, "", gone.ID)
	require.ErrorIs(t, err, domain.ErrNotFound, "nothing recorded")
}
