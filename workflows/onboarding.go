// Package workflows holds the onboarding workflow: deterministic code only.
package workflows

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/domain"
)

// maxIgnored bounds the late requests kept in the status.
const maxIgnored = 10

// maxRefusedResends bounds the refused resends an onboarding records.
const maxRefusedResends = 20

// confirmGrace is how long after the deadline the wait still takes a
// confirmation. The webhook refuses links past the deadline, so a signal that
// arrives in this window was accepted at or before the deadline and only
// travelled slowly: a confirm exactly at the deadline wins.
const confirmGrace = 5 * time.Second

// a is the typed handle on the activities; its methods are referenced, never called.
var a *activities.Activities

// Onboarding runs one partner-customer onboarding: create the customer record,
// email the customer, await confirm / resend / cancel / deadline, then
// activate and create the cloud, or delete the record.
func Onboarding(ctx workflow.Context, in Input) (Result, error) {
	o, err := newOnboarding(ctx, in)
	if err != nil {
		return Result{}, err
	}
	return o.run(ctx)
}

// RowIDs are the ids of the rows an onboarding creates.
type RowIDs struct{ Subaccount, Organization, Cloud string }

// idSpace is the UUID namespace of row ids derived from run ids.
var idSpace = uuid.MustParse("5c1e7c4e-2b1a-4f0e-9d6a-0b6f1d3c9a10")

// NewRowIDs derives the row ids of the onboarding whose original run id is
// runID. Released histories depend on it: it must never change.
func NewRowIDs(runID string) RowIDs {
	id := func(what string) string { return uuid.NewSHA1(idSpace, []byte(runID+"/"+what)).String() }
	return RowIDs{Subaccount: id("subaccount"), Organization: id("organization"), Cloud: id("cloud")}
}

// onboarding is the private state of one run.
type onboarding struct {
	in      Input
	id      string
	logger  log.Logger
	status  Status
	started time.Time
	decided time.Time

	ids RowIDs

	cancelRequested bool
	cancelCh        workflow.Channel // the cancel update wakes the wait through it
	sending         bool             // a send is in flight; another resend waits for it to finish
	confirmCh       workflow.ReceiveChannel
	declineCh       workflow.ReceiveChannel

	requestCh  workflow.ReceiveChannel // durable requests (SignalRequest)
	seen       map[string]bool         // the ids of the requests received: the same one again is ignored
	cancels    []Request               // the cancel requests the outcome settles
	requesting int                     // requests being carried out or settled
}

func newOnboarding(ctx workflow.Context, in Input) (*onboarding, error) {
	if in.ConfirmWithin <= 0 {
		in.ConfirmWithin = DefaultConfirmWithin
	}
	if in.ResendAfter <= 0 {
		in.ResendAfter = DefaultResendAfter
	}
	if in.MaxSends <= 0 {
		in.MaxSends = DefaultMaxSends
	}
	info := workflow.GetInfo(ctx)
	o := &onboarding{
		in:        in,
		id:        info.WorkflowExecution.ID,
		started:   workflow.Now(ctx),
		confirmCh: workflow.GetSignalChannel(ctx, SignalConfirm),
		declineCh: workflow.GetSignalChannel(ctx, SignalDecline),
		cancelCh:  workflow.NewBufferedChannel(ctx, 1),
		requestCh: workflow.GetSignalChannel(ctx, SignalRequest),
		seen:      map[string]bool{},
	}
	o.logger = log.With(workflow.GetLogger(ctx), "onboarding", o.id, "partner", in.PartnerID)
	o.status.Stage = StageCreating
	o.status.Deadline = o.started.Add(in.ConfirmWithin)

	// Ids for the rows to create are decided once and passed to the
	// activities, so a retry finds the rows it wrote. They derive from the
	// original run id, which a reset keeps: deterministic on replay and after
	// a reset, and unlike a SideEffect they cost no event and no action.
	o.ids = NewRowIDs(info.OriginalRunID)
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { return o.snapshot(), nil }); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateResend, o.resend,
		workflow.UpdateHandlerOptions{Validator: o.validateResend}); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancel, o.cancel,
		workflow.UpdateHandlerOptions{Validator: o.validateCancel}); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *onboarding) run(ctx workflow.Context) (Result, error) {
	count(ctx, MetricStarted)
	// Creating the record and the first send are short and run to the end
	// even if the workflow is cancelled meanwhile; the wait then sees the
	// cancellation and deletes the record, so nothing is left half-done.
	setup, _ := workflow.NewDisconnectedContext(ctx)
	rec, err := o.createRecord(setup)
	if err != nil {
		return Result{}, o.fail(ctx, err)
	}
	o.status.SubaccountID, o.status.OrganizationID = rec.SubaccountID, rec.OrganizationID

	o.setStage(ctx, StageSending, "")
	if err := o.send(setup); err != nil {
		// The record exists but the customer can never be reached: delete it
		// rather than leave it half-done.
		o.logger.Error("first confirmation email failed; deleting the record", "error", err)
		_ = o.delete(ctx, domain.ReasonFailed)
		return Result{}, o.fail(ctx, err)
	}

	outcome := o.await(ctx)
	deleted := false // by the expiry, already
	if outcome == OutcomeExpired {
		var err error
		if outcome, deleted, err = o.expire(ctx); err != nil {
			return Result{}, o.fail(ctx, err)
		}
	}
	o.decided = workflow.Now(ctx)
	count(ctx, MetricDecided, LabelOutcome, outcome)
	if outcome == OutcomeActive {
		record(ctx, MetricConfirmationLatency, o.decided.Sub(o.started))
	}
	switch outcome {
	case OutcomeActive:
		if err := o.activate(ctx); err != nil {
			return Result{}, o.fail(ctx, err)
		}
	case OutcomeExpired, OutcomeCancelled, OutcomeDeclined:
		if deleted {
			break
		}
		reason := map[string]string{OutcomeExpired: domain.ReasonExpired, OutcomeCancelled: domain.ReasonCancelled,
			OutcomeDeclined: domain.ReasonDeclined}[outcome]
		if err := o.delete(ctx, reason); err != nil {
			return Result{}, o.fail(ctx, err)
		}
	}
	o.settleCancels(ctx, outcome)
	return o.finish(ctx, outcome)
}

// await waits for whichever comes first of confirm, cancel and the deadline.
func (o *onboarding) await(ctx workflow.Context) string {
	o.setStage(ctx, StageAwaiting, "")
	timerCtx, stopTimer := workflow.WithCancel(ctx)
	defer stopTimer()
	timer := workflow.NewTimerWithOptions(timerCtx, o.status.Deadline.Add(confirmGrace).Sub(workflow.Now(ctx)),
		workflow.TimerOptions{Summary: "confirmation deadline " + o.status.Deadline.UTC().Format(time.RFC3339)})

	outcome := ""
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(o.confirmCh, func(c workflow.ReceiveChannel, _ bool) {
		var sig Confirm
		c.Receive(ctx, &sig)
		o.status.ConfirmedVia = sig.Via
		outcome = OutcomeActive
	})
	sel.AddFuture(timer, func(f workflow.Future) {
		if err := f.Get(ctx, nil); err != nil {
			// The workflow itself is being cancelled: treat it as the partner's cancel.
			outcome = OutcomeCancelled
			return
		}
		// A confirmation that reached us together with the deadline wins.
		var sig Confirm
		if o.confirmCh.ReceiveAsync(&sig) {
			o.status.ConfirmedVia = sig.Via
			outcome = OutcomeActive
			return
		}
		outcome = OutcomeExpired
	})
	sel.AddReceive(o.cancelCh, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		outcome = OutcomeCancelled
	})
	sel.AddReceive(o.requestCh, func(c workflow.ReceiveChannel, _ bool) {
		var r Request
		c.Receive(ctx, &r)
		o.receive(ctx, r)
	})
	sel.AddReceive(o.declineCh, func(c workflow.ReceiveChannel, _ bool) {
		var d Decline
		c.Receive(ctx, &d)
		// The patch is taken when a decline arrives, not before: onboardings
		// that never see one record no marker and cost nothing more, and
		// those in flight at the deploy that added it can be declined too.
		// Only a history in which the code before the patch received (and
		// ignored) a decline replays the old way.
		if workflow.GetVersion(ctx, ChangeDecline, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			o.ignore(ctx, "decline via "+d.Via, "this onboarding ran code without the decline branch")
			return
		}
		outcome = OutcomeDeclined
	})
	for outcome == "" {
		sel.Select(ctx)
	}
	o.logger.Info("onboarding decided", "outcome", outcome, "via", o.status.ConfirmedVia)
	return outcome
}

// The activity options: every call has explicit timeouts and a retry policy
// chosen on purpose. They are exported for the benchmark's ceiling workflow,
// which must call its activities exactly like this; released histories
// depend on them.
var (
	// CreateOptions are for writing the record: Postgres may be away for a
	// while; retry for an hour, never for errors retrying cannot fix.
	CreateOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: time.Hour,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second, NonRetryableErrorTypes: activities.NonRetryable},
	}
	// SendOptions are for sending mail: a relay may be down for hours; an
	// email sent far past the start is still worth sending, but not forever.
	SendOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    45 * time.Second,
		ScheduleToCloseTimeout: 6 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: 5 * time.Minute, NonRetryableErrorTypes: activities.NonRetryable},
	}
	// CommitOptions are for carrying out a decided outcome (activate, create
	// cloud, delete): the decision is made, so retry until it is done; only
	// permanent errors stop it.
	CommitOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, NonRetryableErrorTypes: activities.NonRetryable},
	}
)

func withOptions(ctx workflow.Context, opts workflow.ActivityOptions, summary string) workflow.Context {
	opts.Summary = summary
	return workflow.WithActivityOptions(ctx, opts)
}

func (o *onboarding) createRecord(ctx workflow.Context) (activities.Record, error) {
	var rec activities.Record
	err := workflow.ExecuteActivity(withOptions(ctx, CreateOptions, "create subaccount, organization and role bindings"),
		a.CreateRecord, activities.CreateRecordInput{
			SubaccountID: o.ids.Subaccount, OrganizationID: o.ids.Organization, OnboardingID: o.id,
			PartnerID: o.in.PartnerID, CustomerName: o.in.CustomerName, CloudName: o.in.CloudName,
			Email: o.in.Email, Contact: o.in.Contact, SealedContact: o.in.SealedContact, Deadline: o.status.Deadline,
			LaunchedBy: o.in.LaunchedBy, ResendAfter: o.in.ResendAfter, MaxSends: o.in.MaxSends,
		}).Get(ctx, &rec)
	return rec, err
}

// send sends the next confirmation email and records it in the status.
func (o *onboarding) send(ctx workflow.Context) error {
	seq := o.status.EmailsSent + 1
	o.sending = true
	defer func() { o.sending = false }()
	var sent activities.Sent
	summary := "send confirmation email"
	if seq > 1 {
		summary = fmt.Sprintf("resend confirmation email (#%d)", seq)
	}
	err := workflow.ExecuteActivity(withOptions(ctx, SendOptions, summary), a.SendConfirmation,
		activities.SendInput{SubaccountID: o.status.SubaccountID, Seq: seq}).Get(ctx, &sent)
	if err != nil {
		return err
	}
	o.status.EmailsSent = seq
	o.status.LastSentAt = sent.SentAt
	kind := EmailFirst
	if seq > 1 {
		kind = EmailResend
	}
	count(ctx, MetricEmailsSent, LabelKind, kind)
	o.setDetails(ctx)
	return nil
}

func (o *onboarding) activate(ctx workflow.Context) error {
	o.setStage(ctx, StageActivating, "")
	actx := withOptions(ctx, CommitOptions, "activate subaccount")
	if err := workflow.ExecuteActivity(actx, a.Activate, o.status.SubaccountID).Get(ctx, nil); err != nil {
		return err
	}
	var cloud activities.CloudCreated
	err := workflow.ExecuteActivity(withOptions(ctx, CommitOptions, "create cloud "+o.in.CloudName), a.CreateCloud,
		activities.CloudInput{CloudID: o.ids.Cloud, SubaccountID: o.status.SubaccountID}).Get(ctx, &cloud)
	if err != nil {
		return err
	}
	o.status.CloudID = cloud.CloudID
	count(ctx, MetricCloudsCreated, LabelWhen, CloudAtOnboarding)
	return nil
}

// expire carries out the deadline (ChangeAnswerOfRecord): the record is
// deleted unless the customer's answer is in it — taken by the store
// before the deadline, its signal lost on the way — and the outcome is
// that answer's: ACTIVE for a confirmation (the record kept, activated
// next), DECLINED for a decline (deleted as declined), else EXPIRED.
// deleted says the record is already deleted. Onboardings that expired
// before the change delete at the end as they always did.
func (o *onboarding) expire(ctx workflow.Context) (outcome string, deleted bool, err error) {
	if workflow.GetVersion(ctx, ChangeAnswerOfRecord, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return OutcomeExpired, false, nil
	}
	o.setStage(ctx, StageDeleting, "")
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	var rec activities.Record
	if err := workflow.ExecuteActivity(withOptions(dctx, CommitOptions, "delete subaccount at the deadline, unless answered"), a.Expire,
		o.status.SubaccountID).Get(dctx, &rec); err != nil {
		return "", false, err
	}
	switch rec.Answer {
	case domain.AnswerConfirm:
		o.status.ConfirmedVia = rec.AnswerVia
		o.logger.Info("the customer's confirmation was in the record at the deadline", "via", rec.AnswerVia)
		return OutcomeActive, false, nil
	case domain.AnswerDecline:
		return OutcomeDeclined, true, nil
	}
	return OutcomeExpired, true, nil
}

// delete deletes the unconfirmed record. It runs in a disconnected context so
// that it still happens when the workflow itself is being cancelled.
func (o *onboarding) delete(ctx workflow.Context, reason string) error {
	o.setStage(ctx, StageDeleting, "")
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	return workflow.ExecuteActivity(withOptions(dctx, CommitOptions, "delete subaccount ("+reason+")"), a.Delete,
		activities.DeleteInput{SubaccountID: o.status.SubaccountID, Reason: reason}).Get(dctx, nil)
}

// finish drains late signals, waits for running handlers, publishes the
// outcome and returns the result.
func (o *onboarding) finish(ctx workflow.Context, outcome string) (Result, error) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	o.status.Outcome = outcome
	// Let an in-flight resend finish, then look at every signal that came
	// after the decision so that none is lost unseen.
	_ = workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) && o.requesting == 0 })
	o.drainLate(dctx)
	_ = workflow.Await(dctx, func() bool { return o.requesting == 0 })
	o.setStage(dctx, StageDone, outcome)
	o.logger.Info("onboarding finished", "outcome", outcome)
	return Result{
		Outcome: outcome, SubaccountID: o.status.SubaccountID, OrganizationID: o.status.OrganizationID,
		CloudID: o.status.CloudID, EmailsSent: o.status.EmailsSent, StartedAt: o.started,
		Deadline: o.status.Deadline, DecidedAt: o.decided, FinishedAt: workflow.Now(dctx),
	}, nil
}

func (o *onboarding) drainLate(ctx workflow.Context) {
	why := "the onboarding had already ended " + o.status.Outcome
	var sig Confirm
	for o.confirmCh.ReceiveAsync(&sig) {
		o.ignore(ctx, "confirm via "+sig.Via, why)
	}
	var d Decline
	for o.declineCh.ReceiveAsync(&d) {
		o.ignore(ctx, "decline via "+d.Via, why)
	}
	o.refuseLate(ctx, o.lateReason())
}

// refuseLate settles, refused, every request still waiting in the channel:
// none is left unanswered when the onboarding ends.
func (o *onboarding) refuseLate(ctx workflow.Context, why string) {
	var r Request
	for o.requestCh.ReceiveAsync(&r) {
		switch {
		case o.seen[r.ID]:
		case r.Kind == domain.RequestCancel && o.status.Outcome == OutcomeCancelled:
			// It came with another cancel, which won: what it asked is done.
			o.seen[r.ID] = true
			o.settle(ctx, r, true, "", Result{Outcome: OutcomeCancelled, SubaccountID: o.status.SubaccountID, DecidedAt: o.decided}, "")
		default:
			o.seen[r.ID] = true
			o.settle(ctx, r, false, why, nil, "")
		}
	}
}

// lateReason is why a request that comes after the decision is refused,
// in a partner's words.
func (o *onboarding) lateReason() string {
	switch {
	case o.status.Outcome == OutcomeActive || o.status.ConfirmedVia != "":
		return "the customer has already confirmed"
	case o.status.Outcome != "":
		return "the onboarding has already ended " + o.status.Outcome + ": the customer is deleted"
	}
	return "the onboarding has failed"
}

// ignore leaves a trace of a request that came too late to matter.
func (o *onboarding) ignore(ctx workflow.Context, what, why string) {
	o.logger.Warn("late request ignored", "request", what, "reason", why)
	o.status.IgnoredCount++
	o.status.Ignored = append(o.status.Ignored, Ignored{What: what, At: workflow.Now(ctx), Why: why})
	if len(o.status.Ignored) > maxIgnored {
		o.status.Ignored = o.status.Ignored[1:]
	}
}

// fail ends the onboarding with a clear reason: the failure is published on
// the search attributes and returned as the workflow's error.
func (o *onboarding) fail(ctx workflow.Context, err error) error {
	var appErr *temporal.ApplicationError
	msg := err.Error()
	if errors.As(err, &appErr) {
		msg = appErr.Message()
	}
	o.status.Failure = msg
	o.logger.Error("onboarding failed", "error", err)
	count(ctx, MetricFailed)
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	o.setStage(dctx, StageFailed, "")
	o.settleCancels(dctx, "")
	o.refuseLate(dctx, o.lateReason())
	_ = workflow.Await(dctx, func() bool { return o.requesting == 0 })
	return temporal.NewNonRetryableApplicationError("onboarding failed: "+msg, "OnboardingFailed", err)
}

// setStage moves to a stage. The search attributes are upserted only at
// milestones (awaiting, done, failed): each upsert is a billable action.
func (o *onboarding) setStage(ctx workflow.Context, stage, outcome string) {
	o.status.Stage = stage
	switch stage {
	case StageAwaiting:
		updates := []temporal.SearchAttributeUpdate{AttrStage.ValueSet(stage)}
		if _, ok := workflow.GetTypedSearchAttributes(ctx).GetKeyword(AttrPartner); !ok {
			// Started without the attributes the starter sets: add the partner now.
			updates = append(updates, AttrPartner.ValueSet(o.in.PartnerID))
		}
		_ = workflow.UpsertTypedSearchAttributes(ctx, updates...)
	case StageFailed:
		_ = workflow.UpsertTypedSearchAttributes(ctx, AttrStage.ValueSet(stage))
	case StageDone:
		_ = workflow.UpsertTypedSearchAttributes(ctx, AttrStage.ValueSet(outcome), AttrOutcome.ValueSet(outcome))
	}
	o.setDetails(ctx)
}

// setDetails describes in the Web UI what the onboarding waits for.
func (o *onboarding) setDetails(ctx workflow.Context) {
	s := o.status
	var d string
	switch s.Stage {
	case StageCreating:
		d = "Creating the customer record."
	case StageSending:
		d = "Sending the confirmation email."
	case StageAwaiting:
		d = fmt.Sprintf("Waiting for the customer to confirm or decline until %s (%d of %d emails sent, last at %s). Partner may resend or cancel.",
			s.Deadline.UTC().Format(time.RFC1123), s.EmailsSent, o.in.MaxSends, s.LastSentAt.UTC().Format(time.RFC1123))
	case StageActivating:
		d = "Confirmed via " + s.ConfirmedVia + ": activating the subaccount and creating cloud " + o.in.CloudName + "."
	case StageDeleting:
		d = "Deleting the unconfirmed subaccount."
	case StageDone:
		d = "Finished: " + s.Outcome + "."
	case StageFailed:
		d = "Failed: " + s.Failure
	}
	workflow.SetCurrentDetails(ctx, d)
}

func (o *onboarding) snapshot() Status {
	s := o.status
	s.Ignored = append([]Ignored(nil), s.Ignored...)
	if s.Stage == StageAwaiting && s.EmailsSent < o.in.MaxSends {
		s.NextResendAt = s.LastSentAt.Add(o.in.ResendAfter)
	}
	return s
}

// validateResend rejects a resend outside the wait, and every resend once
// maxRefusedResends have been refused: a rejected update never reaches the
// history, so a partner hammering resend cannot grow it without bound.
func (o *onboarding) validateResend(workflow.Context) error {
	switch {
	case o.status.Stage != StageAwaiting:
		return o.refuse("resend", fmt.Errorf("the onboarding is not waiting for confirmation (stage %s)", o.status.Stage))
	case o.status.ResendsRefused >= maxRefusedResends:
		return o.refuse("resend", fmt.Errorf("%d resends have been refused already; wait for the customer or cancel", o.status.ResendsRefused))
	}
	return nil
}

// resend sends the email again, or refuses — visibly: logged, counted in
// the status and returned to the caller — when it comes too soon after the
// last send, past the limit, or while another send is in flight.
func (o *onboarding) resend(ctx workflow.Context) (Status, error) {
	if why := o.resendRefusal(ctx); why != nil {
		return o.snapshot(), temporal.NewApplicationError(why.Error(), "ResendRefused")
	}
	if err := o.send(ctx); err != nil {
		return o.snapshot(), err
	}
	o.logger.Info("confirmation email resent", "emails_sent", o.status.EmailsSent)
	return o.snapshot(), nil
}

// resendRefusal is why a resend cannot be sent now — too soon after the
// last send, past the limit, or while another send is in flight — counted
// and logged; nil when it can.
func (o *onboarding) resendRefusal(ctx workflow.Context) error {
	var why error
	var reason string // for the metric
	switch wait := o.status.LastSentAt.Add(o.in.ResendAfter).Sub(workflow.Now(ctx)); {
	case o.status.Stage != StageAwaiting:
		why, reason = fmt.Errorf("the onboarding is not waiting for confirmation (stage %s)", o.status.Stage), RefusedStage
	case o.sending:
		why, reason = errors.New("an email is being sent right now"), RefusedInFlight
	case o.status.EmailsSent >= o.in.MaxSends:
		why, reason = fmt.Errorf("all %d emails allowed have been sent", o.in.MaxSends), RefusedLimit
	case wait > 0:
		why, reason = fmt.Errorf("too soon: the last email went out less than %s ago; try again in %s", o.in.ResendAfter, wait.Round(time.Second)), RefusedTooSoon
	}
	if why == nil {
		return nil
	}
	o.status.ResendsRefused++
	count(ctx, MetricResendsRefused, LabelReason, reason)
	return o.refuse("resend", why)
}

// validateCancel refuses to cancel once the outcome is decided.
func (o *onboarding) validateCancel(workflow.Context) error {
	if o.status.Stage != StageAwaiting && o.status.Stage != StageSending && o.status.Stage != StageCreating {
		if o.status.ConfirmedVia != "" {
			return o.refuse("cancel", errors.New("the customer has already confirmed"))
		}
		return o.refuse("cancel", fmt.Errorf("the onboarding has already ended or is ending (stage %s)", o.status.Stage))
	}
	if o.cancelRequested {
		return o.refuse("cancel", errors.New("a cancel is already under way"))
	}
	return nil
}

// cancel asks the wait to end as CANCELLED and answers once the record is deleted.
func (o *onboarding) cancel(ctx workflow.Context) (Result, error) {
	o.cancelRequested = true
	o.cancelCh.SendAsync(true)
	if err := workflow.Await(ctx, func() bool { return o.status.Outcome != "" || o.status.Stage == StageFailed }); err != nil {
		return Result{}, err
	}
	if o.status.Outcome != OutcomeCancelled {
		return Result{}, fmt.Errorf("cancel came too late: the onboarding ended %s", o.status.Outcome)
	}
	return Result{Outcome: o.status.Outcome, SubaccountID: o.status.SubaccountID, DecidedAt: o.decided}, nil
}

func (o *onboarding) refuse(what string, err error) error {
	o.logger.Info("request refused", "request", what, "reason", err.Error())
	return err
}

// receive takes a request (SignalRequest) while the onboarding waits for
// the customer. The version is taken when the first request arrives, so
// onboardings in flight at the deploy that added requests take them too.
// The same request again (its id) is ignored: it is settled once.
func (o *onboarding) receive(ctx workflow.Context, r Request) {
	if o.seen[r.ID] {
		return
	}
	o.seen[r.ID] = true
	if workflow.GetVersion(ctx, ChangeRequests, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return // a history recorded before requests existed holds none
	}
	switch r.Kind {
	case domain.RequestResend:
		if why := o.resendRefusal(ctx); why != nil {
			o.settle(ctx, r, false, why.Error(), nil, "")
			return
		}
		o.sending = true // the next request sees this one in flight
		o.requesting++
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() { o.requesting-- }()
			if err := o.send(ctx); err != nil {
				o.settle(ctx, r, false, "the email could not be sent: "+failureText(err), nil, "")
				return
			}
			o.logger.Info("confirmation email resent", "emails_sent", o.status.EmailsSent, "request", r.ID)
			o.settle(ctx, r, true, "", o.snapshot(), fmt.Sprintf("email %d of %d sent", o.status.EmailsSent, o.in.MaxSends))
		})
	case domain.RequestCancel:
		o.cancels = append(o.cancels, r)
		if !o.cancelRequested {
			o.cancelRequested = true
			o.cancelCh.SendAsync(true)
		}
	default:
		o.settle(ctx, r, false, fmt.Sprintf("an onboarding takes no %q request", r.Kind), nil, "")
	}
}

// settleCancels settles the cancel requests once the outcome is known:
// done when it is CANCELLED (the record deleted), refused otherwise.
func (o *onboarding) settleCancels(ctx workflow.Context, outcome string) {
	for _, r := range o.cancels {
		if outcome == OutcomeCancelled {
			o.settle(ctx, r, true, "", Result{Outcome: outcome, SubaccountID: o.status.SubaccountID, DecidedAt: o.decided}, "")
		} else {
			o.settle(ctx, r, false, o.lateReason(), nil, "")
		}
	}
	o.cancels = nil
}

// settle records how a request ended, with its audit event, by an
// activity keyed by the request: it runs beside the workflow, which waits
// for every settle before it ends.
func (o *onboarding) settle(ctx workflow.Context, r Request, done bool, reason string, result any, detail string) {
	o.requesting++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { o.requesting-- }()
		if err := settle(ctx, r, done, reason, result, detail); err != nil {
			o.logger.Error("request not settled", "request", r.ID, "error", err)
		}
	})
}
