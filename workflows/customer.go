package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/domain"
)

// maxRunOperations bounds the operations one run carries out before it
// continues as new, so that its history stays short however long the
// customer lives.
const maxRunOperations = 100

// Customer runs the life of one customer after onboarding: more clouds,
// stopping and resuming services, and the deletion of a suspension that is
// not resumed in time. Every operation is an update, carried out one at a
// time; the wait for a suspension to run out is a timer that a resume
// cancels.
func Customer(ctx workflow.Context, in CustomerInput) (CustomerResult, error) {
	c, err := newLifecycle(ctx, in)
	if err != nil {
		return CustomerResult{}, err
	}
	return c.run(ctx)
}

// lifecycle is the private state of one customer workflow run.
type lifecycle struct {
	in      CustomerInput
	logger  log.Logger
	mu      workflow.Mutex // operations never interleave
	status  string
	susp    *Suspension
	ops     int // operations accepted, this run and earlier ones
	runOps  int // operations accepted by this run
	changed int // bumped by every change the main loop must see
	outcome string
	deleted time.Time

	requestCh  workflow.ReceiveChannel // durable requests (SignalRequest)
	seen       []string                // the latest request ids received, carried over a continue-as-new
	requesting int                     // requests being carried out or settled
}

func newLifecycle(ctx workflow.Context, in CustomerInput) (*lifecycle, error) {
	c := &lifecycle{in: in, mu: workflow.NewMutex(ctx), status: in.Status, susp: in.Suspension, ops: in.Operations,
		requestCh: workflow.GetSignalChannel(ctx, SignalRequest), seen: in.Seen}
	c.logger = log.With(workflow.GetLogger(ctx), "subaccount", in.SubaccountID, "partner", in.PartnerID)
	if err := workflow.SetQueryHandler(ctx, QueryCustomer, func() (CustomerStatus, error) { return c.snapshot(), nil }); err != nil {
		return nil, err
	}
	for _, u := range []struct {
		name     string
		handler  any
		validate any
	}{
		{UpdateAddCloud, c.addCloud, c.validateAddCloud},
		{UpdateSuspend, c.suspend, c.validateSuspend},
		{UpdateResume, c.resume, c.validateResume},
	} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler, workflow.UpdateHandlerOptions{Validator: u.validate}); err != nil {
			return nil, err
		}
	}
	c.setDetails(ctx)
	workflow.Go(ctx, c.serve)
	return c, nil
}

// maxSeen bounds the request ids a run remembers and hands to the next.
const maxSeen = 100

// serve carries out the requests (SignalRequest) one at a time, in the
// order they came, each settled exactly once: done, or refused with the
// reason. The version is taken when the first request arrives, so that
// customer workflows in flight at the deploy take requests too.
func (c *lifecycle) serve(ctx workflow.Context) {
	for {
		var r Request
		c.requestCh.Receive(ctx, &r)
		c.requesting++
		c.carryOut(ctx, r)
		c.requesting--
	}
}

func (c *lifecycle) carryOut(ctx workflow.Context, r Request) {
	if slices.Contains(c.seen, r.ID) {
		return
	}
	c.seen = append(c.seen, r.ID)
	if len(c.seen) > maxSeen {
		c.seen = c.seen[len(c.seen)-maxSeen:]
	}
	if workflow.GetVersion(ctx, ChangeRequests, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return // a history recorded before requests existed holds none
	}
	var result any
	var detail string
	var err error
	switch r.Kind {
	case domain.RequestAddCloud:
		var res CloudResult
		res, err = c.addCloud(ctx, CloudRequest{Name: r.CloudName})
		result, detail = res, "cloud "+r.CloudName
		if err == nil && !res.Created {
			detail += " (existed)"
		}
	case domain.RequestSuspend:
		before := c.status
		var st CustomerStatus
		st, err = c.suspend(ctx, SuspendRequest{Reason: r.SuspendReason, Retention: r.Retention})
		result, detail = st, r.SuspendReason
		if err == nil && before == domain.StatusSuspended {
			detail = "already suspended"
		}
	case domain.RequestResume:
		before := c.status
		var st CustomerStatus
		st, err = c.resume(ctx)
		result = st
		if err == nil && before == domain.StatusActive {
			detail = "already active"
		}
	default:
		err = fmt.Errorf("a customer takes no %q request", r.Kind)
	}
	if err != nil {
		if serr := settle(ctx, r, false, failureText(err), nil, ""); serr != nil {
			c.logger.Error("request not settled", "request", r.ID, "error", serr)
		}
		return
	}
	if serr := settle(ctx, r, true, "", result, detail); serr != nil {
		c.logger.Error("request not settled", "request", r.ID, "error", serr)
	}
}

// idle reports whether no request waits or is under way: the run may end
// or continue as new without leaving one unanswered.
func (c *lifecycle) idle() bool { return c.requesting == 0 && c.requestCh.Len() == 0 }

// refuseLate settles, refused, the requests that came for a subaccount
// deleted meanwhile.
func (c *lifecycle) refuseLate(ctx workflow.Context) {
	var r Request
	for c.requestCh.ReceiveAsync(&r) {
		if slices.Contains(c.seen, r.ID) {
			continue
		}
		c.seen = append(c.seen, r.ID)
		what := map[string]string{domain.RequestAddCloud: "create a cloud", domain.RequestSuspend: "suspend", domain.RequestResume: "resume"}[r.Kind]
		if err := settle(ctx, r, false, c.refusal(what).Error(), nil, ""); err != nil {
			c.logger.Error("request not settled", "request", r.ID, "error", err)
		}
	}
}

// lifecycleOptions: every lifecycle activity carries out a decision made
// (the partner's request, or the deadline), so it retries until done; only
// permanent errors stop it.
var lifecycleOptions = CommitOptions

func (c *lifecycle) run(ctx workflow.Context) (CustomerResult, error) {
	for c.status != domain.StatusInactive {
		seen := c.changed
		if c.susp != nil {
			susp := *c.susp
			ok := false
			if left := susp.DeleteAfter.Sub(workflow.Now(ctx)); left > 0 {
				opts := workflow.AwaitOptions{Timeout: left,
					TimerOptions: workflow.TimerOptions{Summary: "delete unless resumed by " + susp.DeleteAfter.UTC().Format(time.RFC3339)}}
				var err error
				if ok, err = workflow.AwaitWithOptions(ctx, opts, func() bool { return c.changed != seen }); err != nil {
					return CustomerResult{}, err
				}
			}
			if !ok {
				if err := c.expire(ctx, susp); err != nil {
					return CustomerResult{}, err
				}
			}
			continue
		}
		if err := workflow.Await(ctx, func() bool { return c.changed != seen || c.runOps >= maxRunOperations }); err != nil {
			return CustomerResult{}, err
		}
		if c.runOps >= maxRunOperations || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			// Let the operations under way finish, then go on in a new run
			// with the state carried over.
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && c.idle() }); err != nil {
				return CustomerResult{}, err
			}
			next := c.in
			next.Status, next.Suspension, next.Operations, next.Seen = c.status, c.susp, c.ops, c.seen
			return CustomerResult{}, workflow.NewContinueAsNewError(ctx, CustomerWorkflowName, next)
		}
	}
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && c.requesting == 0 })
	c.refuseLate(ctx)
	return CustomerResult{SubaccountID: c.in.SubaccountID, Outcome: c.outcome, DeletedAt: c.deleted}, nil
}

// expire deletes the subaccount whose suspension ran out, unless it was
// resumed or suspended anew while the lock was awaited.
func (c *lifecycle) expire(ctx workflow.Context, susp Suspension) error {
	if err := c.mu.Lock(ctx); err != nil {
		return err
	}
	defer c.mu.Unlock()
	if c.susp == nil || c.susp.ID != susp.ID {
		return nil
	}
	var acc activities.Account
	err := workflow.ExecuteActivity(withOptions(ctx, lifecycleOptions, "delete subaccount (suspension ran out)"), a.ExpireSuspension,
		activities.ExpireInput{SubaccountID: c.in.SubaccountID, SuspensionID: susp.ID}).Get(ctx, &acc)
	if err != nil {
		return err
	}
	c.status, c.susp, c.outcome, c.deleted = domain.StatusInactive, nil, domain.ReasonSuspensionExpired, workflow.Now(ctx)
	count(ctx, MetricSuspensionsExpired)
	c.logger.Info("suspended subaccount deleted: the retention period ran out")
	c.publish(ctx)
	return nil
}

// refusal explains why an operation cannot be carried out in the current status.
func (c *lifecycle) refusal(what string) error {
	switch c.status {
	case domain.StatusInactive:
		return fmt.Errorf("cannot %s: the subaccount has been deleted (%s)", what, c.outcome)
	case domain.StatusSuspended:
		return fmt.Errorf("cannot %s: the subaccount is suspended; resume its services first", what)
	}
	return fmt.Errorf("cannot %s: the subaccount is %s", what, c.status)
}

func (c *lifecycle) validateAddCloud(_ workflow.Context, req CloudRequest) error {
	if err := domain.ValidateCloudName(req.Name); err != nil {
		return err
	}
	if c.status != domain.StatusActive {
		return c.refusal("create a cloud")
	}
	return nil
}

func (c *lifecycle) validateSuspend(_ workflow.Context, req SuspendRequest) error {
	if err := errors.Join(domain.ValidateRetention(req.Retention), domain.ValidateSuspendReason(req.Reason)); err != nil {
		return err
	}
	if c.status != domain.StatusActive && c.status != domain.StatusSuspended {
		return c.refusal("suspend")
	}
	return nil
}

func (c *lifecycle) validateResume(workflow.Context) error {
	if c.status != domain.StatusActive && c.status != domain.StatusSuspended {
		return c.refusal("resume")
	}
	return nil
}

// begin takes the lock for one operation and checks it is still allowed:
// the status may have changed while an earlier operation held the lock.
func (c *lifecycle) begin(ctx workflow.Context, allowed func() error) error {
	if err := c.mu.Lock(ctx); err != nil {
		return err
	}
	if err := allowed(); err != nil {
		c.mu.Unlock()
		return temporal.NewApplicationError(err.Error(), "Refused")
	}
	c.ops++
	c.runOps++
	return nil
}

// cloudSpace is the UUID namespace of the ids of clouds made after onboarding.
var cloudSpace = uuid.MustParse("7d0c3f5e-4f1b-4c61-9a52-6e1f0f8f2b44")

// CloudID is the id of the cloud named name of a subaccount: the same
// request again finds the same cloud.
func CloudID(subaccountID, name string) string {
	return uuid.NewSHA1(cloudSpace, []byte(subaccountID+"/cloud/"+name)).String()
}

func (c *lifecycle) addCloud(ctx workflow.Context, req CloudRequest) (CloudResult, error) {
	if err := c.begin(ctx, func() error { return c.validateAddCloud(ctx, req) }); err != nil {
		return CloudResult{}, err
	}
	defer c.mu.Unlock()
	var cloud activities.CloudCreated
	err := workflow.ExecuteActivity(withOptions(ctx, lifecycleOptions, "create cloud "+req.Name), a.AddCloud,
		activities.AddCloudInput{CloudID: CloudID(c.in.SubaccountID, req.Name), SubaccountID: c.in.SubaccountID, Name: req.Name}).Get(ctx, &cloud)
	c.changed++
	if err != nil {
		return CloudResult{}, err
	}
	c.logger.Info("cloud created", "cloud", cloud.CloudID, "created", cloud.Created)
	if cloud.Created {
		count(ctx, MetricCloudsCreated, LabelWhen, CloudLater)
	}
	return CloudResult{CloudID: cloud.CloudID, Name: cloud.Name, Created: cloud.Created}, nil
}

// suspensionSpace is the UUID namespace of suspension ids.
var suspensionSpace = uuid.MustParse("0b5e7e55-93f7-4f5c-8d0b-3c8b2d8b1a07")

func (c *lifecycle) suspend(ctx workflow.Context, req SuspendRequest) (CustomerStatus, error) {
	if err := c.begin(ctx, func() error { return c.validateSuspend(ctx, req) }); err != nil {
		return CustomerStatus{}, err
	}
	defer c.mu.Unlock()
	if c.status == domain.StatusSuspended {
		return c.snapshot(), nil // suspending twice is one suspension
	}
	retention := req.Retention
	if retention == 0 {
		retention = domain.DefaultRetention
	}
	now := workflow.Now(ctx)
	// The id is decided here, once, from the operation's number: a retry
	// of the activity finds the row it wrote.
	susp := Suspension{ID: uuid.NewSHA1(suspensionSpace, []byte(c.in.SubaccountID+"/"+strconv.Itoa(c.ops))).String(),
		Reason: req.Reason, At: now, DeleteAfter: now.Add(retention)}
	var acc activities.Account
	err := workflow.ExecuteActivity(withOptions(ctx, lifecycleOptions, "stop services (data kept until "+susp.DeleteAfter.UTC().Format(time.RFC3339)+")"),
		a.Suspend, activities.SuspendInput{SubaccountID: c.in.SubaccountID, SuspensionID: susp.ID, Reason: susp.Reason,
			At: susp.At, DeleteAfter: susp.DeleteAfter}).Get(ctx, &acc)
	if err != nil {
		return CustomerStatus{}, err
	}
	c.status, c.susp = domain.StatusSuspended, &susp
	count(ctx, MetricSuspended)
	c.logger.Info("services stopped", "delete_after", susp.DeleteAfter)
	c.publish(ctx)
	return c.snapshot(), nil
}

func (c *lifecycle) resume(ctx workflow.Context) (CustomerStatus, error) {
	if err := c.begin(ctx, func() error { return c.validateResume(ctx) }); err != nil {
		return CustomerStatus{}, err
	}
	defer c.mu.Unlock()
	if c.status == domain.StatusActive {
		return c.snapshot(), nil // resuming twice is one resume
	}
	var acc activities.Account
	if err := workflow.ExecuteActivity(withOptions(ctx, lifecycleOptions, "resume services"), a.Resume, c.in.SubaccountID).Get(ctx, &acc); err != nil {
		return CustomerStatus{}, err
	}
	c.status, c.susp = domain.StatusActive, nil
	count(ctx, MetricResumed)
	c.logger.Info("services resumed")
	c.publish(ctx)
	return c.snapshot(), nil
}

// publish makes a change of status visible: the search attributes (each
// upsert is a billable action, so only on a change of status), the current
// details, and the main loop.
func (c *lifecycle) publish(ctx workflow.Context) {
	c.changed++
	deleteAfter := AttrDeleteAfter.ValueUnset()
	if c.susp != nil {
		deleteAfter = AttrDeleteAfter.ValueSet(c.susp.DeleteAfter)
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrSubaccountStatus.ValueSet(c.status), deleteAfter)
	c.setDetails(ctx)
}

// setDetails describes in the Web UI where the customer stands and what the workflow waits for.
func (c *lifecycle) setDetails(ctx workflow.Context) {
	var d string
	switch {
	case c.status == domain.StatusInactive:
		d = fmt.Sprintf("Deleted at %s: the services were stopped and not resumed in time.", c.deleted.UTC().Format(time.RFC1123))
	case c.susp != nil:
		d = fmt.Sprintf("Suspended since %s (%s). The subaccount is deleted at %s unless the partner resumes its services.",
			c.susp.At.UTC().Format(time.RFC1123), dashIfEmpty(c.susp.Reason), c.susp.DeleteAfter.UTC().Format(time.RFC1123))
	default:
		d = "Active. The partner may create clouds or stop the services."
	}
	workflow.SetCurrentDetails(ctx, d)
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}

func (c *lifecycle) snapshot() CustomerStatus {
	s := CustomerStatus{SubaccountID: c.in.SubaccountID, Status: c.status, Outcome: c.outcome, Operations: c.ops}
	if c.susp != nil {
		susp := *c.susp
		s.Suspension = &susp
	}
	return s
}
