package domain

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	require.NoError(t, Validate("ACME Corp", "owner@acme.example", "acme-prod", "Ann"))
	bad := []struct{ name, email, cloud, contact, field string }{
		{"", "a@b.example", "acme-prod", "", "name"},
		{strings.Repeat("n", 201), "a@b.example", "acme-prod", "", "name"},
		{"bad\x00name", "a@b.example", "acme-prod", "", "name"},
		{"\xff\xfe", "a@b.example", "acme-prod", "", "name"},
		{"ACME", "not-an-email", "acme-prod", "", "email"},
		{"ACME", "Ann <a@b.example>", "acme-prod", "", "email"},
		{"ACME", "a@localhost", "acme-prod", "", "email"},
		{"ACME", "a@b.example", "Prod!", "", "cloud"},
		{"ACME", "a@b.example", "acme-prod", "line\nbreak", "contact"},
	}
	for _, tc := range bad {
		err := Validate(tc.name, tc.email, tc.cloud, tc.contact)
		var ie *InvalidError
		require.True(t, errors.As(err, &ie), "%+v", tc)
		require.Equal(t, tc.field, ie.Field)
		require.ErrorIs(t, err, ErrInvalid)
	}
}

func TestNameKey(t *testing.T) {
	require.Equal(t, "acme corp", NameKey("  ACME \t Corp "))
	require.Equal(t, NameKey("Ünïcode Co"), NameKey("ünïcode  co"))
}

func TestMasking(t *testing.T) {
	require.Equal(t, "o•••@a•••.example", MaskEmail("owner@acme.example"))
	require.Equal(t, "a•••@l•••", MaskEmail("a@localhost"))
	require.Equal(t, "J••• D•••", MaskText("Jane  Doe"))
	require.Equal(t, "É•••", MaskText("Élodie"))
	require.Equal(t, "", MaskText(""))
}

func TestDisplayStatus(t *testing.T) {
	require.Equal(t, "Verification required", DisplayStatus(StatusAcceptanceRequired, ""))
	require.Equal(t, "Declined", DisplayStatus(StatusInactive, ReasonDeclined))
	require.Equal(t, "Expired", DisplayStatus(StatusInactive, ReasonExpired))
	require.Equal(t, "Cancelled", DisplayStatus(StatusInactive, ReasonCancelled))
	require.Equal(t, "Inactive", DisplayStatus(StatusInactive, ReasonSuspensionExpired))
	require.Equal(t, "Suspended", DisplayStatus(StatusSuspended, ""))
}

func TestContactRefusesFormulas(t *testing.T) {
	require.ErrorIs(t, ValidateContact("=HYPERLINK()"), ErrInvalid)
	require.NoError(t, ValidateContact("Ann O'Neil"))
}

// TestWordsForPeople: every status, stage, outcome, reason and way of
// answering has words for partners, never its code.
func TestWordsForPeople(t *testing.T) {
	for _, st := range Statuses {
		require.NotEqual(t, st, StatusLabel(st))
	}
	for _, stage := range []string{StageCreating, StageSending, StageAwaiting, StageActivating, StageDeleting, StageDone, StageFailed} {
		require.NotEqual(t, stage, StageText(stage))
		require.Equal(t, StageText(stage), ProgressText(stage, ""))
	}
	for _, r := range Reasons {
		require.NotEqual(t, r, ReasonText(r))
	}
	for _, o := range []string{OutcomeActive, OutcomeExpired, OutcomeCancelled, OutcomeDeclined} {
		words := ProgressText(StageDone, o)
		require.NotContains(t, words, o)
		require.NotEqual(t, StageText(StageDone), words)
	}
	require.Equal(t, "Ended: the customer declined the invitation", ProgressText(StageDone, OutcomeDeclined))
	for _, via := range []string{ViaLink, ViaLogin} {
		require.NotEqual(t, via, AnswerViaText(via))
	}
}
