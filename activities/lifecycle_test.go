package activities_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// TestLifecycleActivitiesTwice: each lifecycle activity run twice (a retry
// after a crash) gives the same result and writes once; refusals are
// permanent.
func TestLifecycleActivitiesTwice(t *testing.T) {
	f := newFixture(t)
	a := f.acts
	in := f.createInput(t, "Lifecycle Ltd", "l-"+testenv.Suffix()+"@customer.example")
	r, err := exec[activities.Record](t, f, a.CreateRecord, in)
	require.NoError(t, err)

	// Not yet confirmed: every lifecycle activity refuses for good.
	_, err = exec[activities.CloudCreated](t, f, a.AddCloud, activities.AddCloudInput{CloudID: workflows.CloudID(r.SubaccountID, "early-cloud"), SubaccountID: r.SubaccountID, Name: "early-cloud"})
	requireNonRetryable(t, err, domain.ErrNotConfirmed.Code)
	now := time.Now().UTC().Truncate(time.Microsecond)
	suspend := activities.SuspendInput{SubaccountID: r.SubaccountID, SuspensionID: uuid.NewString(), Reason: "audit", At: now, DeleteAfter: now.Add(time.Hour)}
	_, err = exec[activities.Account](t, f, a.Suspend, suspend)
	requireNonRetryable(t, err, domain.ErrNotConfirmed.Code)

	_, err = exec[activities.Record](t, f, a.Activate, r.SubaccountID)
	require.NoError(t, err)
	_, err = exec[activities.CloudCreated](t, f, a.CreateCloud, activities.CloudInput{CloudID: uuid.NewString(), SubaccountID: r.SubaccountID})
	require.NoError(t, err)

	add := activities.AddCloudInput{CloudID: workflows.CloudID(r.SubaccountID, "second-cloud"), SubaccountID: r.SubaccountID, Name: "second-cloud"}
	c1, err := exec[activities.CloudCreated](t, f, a.AddCloud, add)
	require.NoError(t, err)
	require.True(t, c1.Created)
	c2, err := exec[activities.CloudCreated](t, f, a.AddCloud, add)
	require.NoError(t, err)
	require.Equal(t, c1.CloudID, c2.CloudID)
	require.False(t, c2.Created)
	// The first cloud's name again: one rule for every cloud, the cloud of
	// that name is returned and nothing is created.
	c3, err := exec[activities.CloudCreated](t, f, a.AddCloud, activities.AddCloudInput{CloudID: workflows.CloudID(r.SubaccountID, "main-cloud"), SubaccountID: r.SubaccountID, Name: "main-cloud"})
	require.NoError(t, err)
	require.False(t, c3.Created)
	require.NotEqual(t, workflows.CloudID(r.SubaccountID, "main-cloud"), c3.CloudID, "the onboarding's own cloud, by its own id")

	s1, err := exec[activities.Account](t, f, a.Suspend, suspend)
	require.NoError(t, err)
	s2, err := exec[activities.Account](t, f, a.Suspend, suspend)
	require.NoError(t, err)
	require.Equal(t, s1, s2)
	require.Equal(t, domain.StatusSuspended, s1.Status)
	require.Equal(t, suspend.SuspensionID, s1.SuspensionID)
	_, err = exec[activities.CloudCreated](t, f, a.AddCloud, activities.AddCloudInput{CloudID: workflows.CloudID(r.SubaccountID, "third-cloud"), SubaccountID: r.SubaccountID, Name: "third-cloud"})
	requireNonRetryable(t, err, domain.ErrSuspended.Code)

	e1, err := exec[activities.Account](t, f, a.ExpireSuspension, activities.ExpireInput{SubaccountID: r.SubaccountID, SuspensionID: suspend.SuspensionID})
	require.NoError(t, err)
	e2, err := exec[activities.Account](t, f, a.ExpireSuspension, activities.ExpireInput{SubaccountID: r.SubaccountID, SuspensionID: suspend.SuspensionID})
	require.NoError(t, err)
	require.Equal(t, e1, e2)
	require.Equal(t, domain.StatusInactive, e1.Status)
	_, err = exec[activities.Account](t, f, a.Resume, r.SubaccountID)
	requireNonRetryable(t, err, domain.ErrDeleted.Code)
}

// TestResumeTwice: a resume repeated after a crash is harmless, and a
// resumed suspension can no longer run out.
func TestResumeTwice(t *testing.T) {
	f := newFixture(t)
	a := f.acts
	in := f.createInput(t, "Resume Ltd", "r-"+testenv.Suffix()+"@customer.example")
	r, err := exec[activities.Record](t, f, a.CreateRecord, in)
	require.NoError(t, err)
	_, err = exec[activities.Record](t, f, a.Activate, r.SubaccountID)
	require.NoError(t, err)
	now := time.Now().UTC()
	susp := uuid.NewString()
	_, err = exec[activities.Account](t, f, a.Suspend, activities.SuspendInput{SubaccountID: r.SubaccountID, SuspensionID: susp, At: now, DeleteAfter: now.Add(time.Hour)})
	require.NoError(t, err)
	r1, err := exec[activities.Account](t, f, a.Resume, r.SubaccountID)
	require.NoError(t, err)
	r2, err := exec[activities.Account](t, f, a.Resume, r.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, r1, r2)
	require.Equal(t, domain.StatusActive, r1.Status)
	_, err = exec[activities.Account](t, f, a.ExpireSuspension, activities.ExpireInput{SubaccountID: r.SubaccountID, SuspensionID: susp})
	requireNonRetryable(t, err, domain.ErrNotSuspended.Code)
}
