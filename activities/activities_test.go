package activities_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/mail"
	"github.com/cloudpartners/onboarding/internal/seal"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

var secret = []byte("activities-test-secret-0123456789abcdef")

type fixture struct {
	acts   *activities.Activities
	st     *store.Store
	sealer *seal.Sealer
	env    *testsuite.TestActivityEnvironment
}

func newFixture(t *testing.T) *fixture {
	testenv.RequireStack(t)
	st, _ := testenv.NewStore(t)
	_, err := st.AddPartner(t.Context(), "partner-a", `Partner <A> & "Sons"`, nil)
	require.NoError(t, err)
	mailer, err := mail.New(mail.Options{Addr: testenv.SMTPAddr(), From: "Example Cloud <onboarding@cloud.example>"})
	require.NoError(t, err)
	sealer, err := seal.New(secret)
	require.NoError(t, err)
	acts := &activities.Activities{Store: st, Mailer: mailer, Sealer: sealer, Links: links.NewSigner(secret),
		PublicURL: "http://127.0.0.1:8088", Brand: "Example Cloud", MailHost: "cloud.example", Now: time.Now}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return &fixture{acts: acts, st: st, sealer: sealer, env: env}
}

func (f *fixture) counts(t *testing.T) [5]int {
	var c [5]int
	require.NoError(t, f.st.DB().QueryRow(`SELECT (SELECT count(*) FROM subaccounts), (SELECT count(*) FROM organizations),
		(SELECT count(*) FROM role_bindings), (SELECT count(*) FROM clouds), (SELECT count(*) FROM emails)`).
		Scan(&c[0], &c[1], &c[2], &c[3], &c[4]))
	return c
}

// exec runs one activity in the SDK's activity environment and decodes its result.
func exec[T any](t *testing.T, f *fixture, fn any, in any) (T, error) {
	t.Helper()
	var out T
	v, err := f.env.ExecuteActivity(fn, in)
	if err != nil {
		return out, err
	}
	require.NoError(t, v.Get(&out))
	return out, nil
}

func (f *fixture) createInput(t *testing.T, name, email string) activities.CreateRecordInput {
	sealed, err := f.sealer.Seal(activities.Contact{Email: email, Contact: "Ann"})
	require.NoError(t, err)
	return activities.CreateRecordInput{SubaccountID: uuid.NewString(), OrganizationID: uuid.NewString(),
		OnboardingID: "onboarding/partner-a/" + name, PartnerID: "partner-a", CustomerName: name, CloudName: "main-cloud",
		SealedContact: sealed, Deadline: time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)}
}

func TestEveryActivityTwiceGivesTheSameResult(t *testing.T) {
	f := newFixture(t)
	a := f.acts
	email := "owner-" + testenv.Suffix() + "@customer.example"
	in := f.createInput(t, `Fish & <Chips> "Ltd"`, email)

	r1, err := exec[activities.Record](t, f, a.CreateRecord, in)
	require.NoError(t, err)
	c1 := f.counts(t)
	r2, err := exec[activities.Record](t, f, a.CreateRecord, in)
	require.NoError(t, err)
	require.Equal(t, r1, r2)
	require.Equal(t, c1, f.counts(t))
	require.Equal(t, [5]int{1, 1, 4, 0, 0}, c1)

	send := activities.SendInput{SubaccountID: r1.SubaccountID, Seq: 1}
	s1, err := exec[activities.Sent](t, f, a.SendConfirmation, send)
	require.NoError(t, err)
	s2, err := exec[activities.Sent](t, f, a.SendConfirmation, send)
	require.NoError(t, err)
	require.True(t, s2.Repeat, "the second call finds the recorded send")
	require.Equal(t, s1.MessageID, s2.MessageID)
	require.True(t, s1.SentAt.Equal(s2.SentAt))
	require.Equal(t, [5]int{1, 1, 4, 0, 1}, f.counts(t))

	// The mail server got exactly one message, a proper confirmation.
	testenv.WaitMail(t, email, 1, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // a second copy would have arrived by now
	msgs := testenv.MailTo(t, email)
	require.Len(t, msgs, 1, "a send recorded as delivered is not sent again")
	m := msgs[0]
	require.Equal(t, mail.Subject("Example Cloud"), m.Subject)
	require.Equal(t, email, m.To[0].Address)
	require.Equal(t, s1.MessageID, m.MessageID)
	link := testenv.LinkIn(t, m)
	require.True(t, strings.HasPrefix(link, "http://127.0.0.1:8088/confirm?token="))
	token := strings.TrimPrefix(link, "http://127.0.0.1:8088/confirm?token=")
	claims, err := a.Links.Parse(token)
	require.NoError(t, err)
	require.Equal(t, r1.SubaccountID, claims.SubaccountID)
	require.True(t, claims.Deadline.Equal(in.Deadline))
	require.Contains(t, m.HTML, "Fish &amp; &lt;Chips&gt; &#34;Ltd&#34;", "the customer's name is HTML-escaped")
	require.Contains(t, m.HTML, "Partner &lt;A&gt; &amp; &#34;Sons&#34;", "the partner's name is HTML-escaped")
	require.NotContains(t, m.HTML, "<Chips>")
	require.Contains(t, m.Text, `Fish & <Chips> "Ltd"`, "the text part is plain")
	require.Contains(t, m.Text, in.Deadline.Format("2 January 2006"))

	act1, err := exec[activities.Record](t, f, a.Activate, r1.SubaccountID)
	require.NoError(t, err)
	act2, err := exec[activities.Record](t, f, a.Activate, r1.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, act1, act2)
	require.Equal(t, domain.StatusActive, act1.Status)

	cloud := activities.CloudInput{CloudID: uuid.NewString(), SubaccountID: r1.SubaccountID}
	cl1, err := exec[activities.CloudCreated](t, f, a.CreateCloud, cloud)
	require.NoError(t, err)
	cl2, err := exec[activities.CloudCreated](t, f, a.CreateCloud, cloud)
	require.NoError(t, err)
	require.Equal(t, cl1, cl2)
	require.Equal(t, activities.CloudCreated{CloudID: cloud.CloudID, Name: "main-cloud"}, cl1)
	require.Equal(t, [5]int{1, 1, 4, 1, 1}, f.counts(t))
}

func TestDeleteTwice(t *testing.T) {
	f := newFixture(t)
	r, err := exec[activities.Record](t, f, f.acts.CreateRecord, f.createInput(t, "Short Lived", "x-"+testenv.Suffix()+"@customer.example"))
	require.NoError(t, err)
	del := activities.DeleteInput{SubaccountID: r.SubaccountID, Reason: domain.ReasonExpired}
	d1, err := exec[activities.Record](t, f, f.acts.Delete, del)
	require.NoError(t, err)
	before := f.counts(t)
	d2, err := exec[activities.Record](t, f, f.acts.Delete, del)
	require.NoError(t, err)
	require.Equal(t, d1, d2)
	require.Equal(t, domain.StatusInactive, d1.Status)
	require.Equal(t, before, f.counts(t))

	// A send for a deleted subaccount is refused for good and sends nothing.
	_, err = exec[activities.Sent](t, f, f.acts.SendConfirmation, activities.SendInput{SubaccountID: r.SubaccountID, Seq: 1})
	requireNonRetryable(t, err, activities.ErrTypeDeleted)
	_, err = exec[activities.Record](t, f, f.acts.Activate, r.SubaccountID)
	requireNonRetryable(t, err, activities.ErrTypeDeleted)
}

func TestPermanentFailuresAreNonRetryable(t *testing.T) {
	f := newFixture(t)
	_, err := f.st.AddPartner(t.Context(), "lapsed", "Lapsed", nil)
	require.NoError(t, err)
	_, err = f.st.SetPartnerStatus(t.Context(), "lapsed", false, nil)
	require.NoError(t, err)
	taken := f.createInput(t, "Taken", "t@customer.example")
	_, err = exec[activities.Record](t, f, f.acts.CreateRecord, taken)
	require.NoError(t, err)

	cases := []struct {
		name   string
		change func(*activities.CreateRecordInput)
		typ    string
	}{
		{"unknown partner", func(in *activities.CreateRecordInput) { in.PartnerID = "nobody" }, activities.ErrTypeUnknownPartner},
		{"partner without partner status", func(in *activities.CreateRecordInput) { in.PartnerID = "lapsed" }, activities.ErrTypeNotPartner},
		{"invalid email", func(in *activities.CreateRecordInput) {
			in.SealedContact, _ = f.sealer.Seal(activities.Contact{Email: "no-at-sign"})
		}, activities.ErrTypeInvalid},
		{"name taken", func(in *activities.CreateRecordInput) { in.CustomerName = "TAKEN" }, activities.ErrTypeNameTaken},
		{"contact sealed with another key", func(in *activities.CreateRecordInput) { in.SealedContact = "sealed.v1.AAAA" }, activities.ErrTypeInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := f.counts(t)
			in := f.createInput(t, "Brand New", "n@customer.example")
			tc.change(&in)
			_, err := exec[activities.Record](t, f, f.acts.CreateRecord, in)
			requireNonRetryable(t, err, tc.typ)
			require.Equal(t, before, f.counts(t), "nothing half-created")
		})
	}
}

func requireNonRetryable(t *testing.T, err error, typ string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, typ, appErr.Type())
	require.True(t, appErr.NonRetryable())
}
