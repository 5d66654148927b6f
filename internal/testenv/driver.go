package testenv

import (
	"context"
	"io"
	"maps"
	"net/url"
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/store"
)

// Driver is the one harness every package's integration tests drive
// onboardings with: the product's own actions against the stack, as an
// operator at the CLI takes them (stack.Driver, which the benchmark and
// the chaos run use too), failing the test on an error.
type Driver struct {
	*stack.Driver
	tb testing.TB
}

// NewDriver opens the actions with the stack's addresses and vars on top
// (DATABASE_URL, TASK_QUEUE, ONBOARDING_SECRET, the launch defaults); they
// are closed at cleanup.
func NewDriver(tb testing.TB, vars map[string]string) *Driver {
	tb.Helper()
	RequireStack(tb)
	d, err := stack.OpenDriver(tb.Context(), Getenv(vars), MailpitURL(), io.Discard)
	if err != nil {
		tb.Fatalf("open the actions: %v: run `make up`, or `make test` which starts it", err)
	}
	tb.Cleanup(d.Close)
	return &Driver{Driver: d, tb: tb}
}

// Vars merges variable sets, the later winning.
func Vars(sets ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		maps.Copy(out, s)
	}
	return out
}

// Partner registers a partner with partner status.
func (d *Driver) Partner(id, name string) domain.Partner {
	d.tb.Helper()
	p, err := d.Access.AddPartner(context.Background(), d.Operator, id, name)
	if err != nil {
		d.tb.Fatalf("add partner %s: %v", id, err)
	}
	return p
}

// Launch launches one onboarding, which must start a new run.
func (d *Driver) Launch(partnerID string, c onboarding.NewCustomer) onboarding.Launched {
	d.tb.Helper()
	l, err := d.Driver.Launch(context.Background(), partnerID, c)
	if err != nil || !l.Launched {
		d.tb.Fatalf("launch %q for %s: %+v, %v", c.Name, partnerID, l, err)
	}
	return l
}

// WaitStage waits, at most 30 s, until an onboarding reaches a stage.
func (d *Driver) WaitStage(ref, stage string) onboarding.View {
	d.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := d.Driver.WaitStage(ctx, ref, stage)
	if err != nil {
		d.tb.Fatal(err)
	}
	return v
}

// WaitOutcome waits, at most a minute, until an onboarding has completed
// with an outcome.
func (d *Driver) WaitOutcome(ref, outcome string) onboarding.View {
	d.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := d.Driver.WaitOutcome(ctx, ref, outcome)
	if err != nil {
		d.tb.Fatal(err)
	}
	return v
}

// Status is where an onboarding stands, as `starter status` says.
func (d *Driver) Status(ref string) onboarding.View {
	d.tb.Helper()
	v, err := d.Driver.Status(context.Background(), ref)
	if err != nil {
		d.tb.Fatalf("status of %s: %v", ref, err)
	}
	return v
}

// Link waits, at most 30 s, for the n-th confirmation email to an address
// and returns its link.
func (d *Driver) Link(address string, n int) string {
	d.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	link, err := d.Driver.Link(ctx, address, n)
	if err != nil {
		d.tb.Fatal(err)
	}
	return link
}

// Confirm presses Confirm on a link's page and returns the webhook's status code.
func (d *Driver) Confirm(link string) int { d.tb.Helper(); return d.answer(link, "confirm") }

// Decline presses Decline on a link's page and returns the webhook's status code.
func (d *Driver) Decline(link string) int { d.tb.Helper(); return d.answer(link, "decline") }

func (d *Driver) answer(link, action string) int {
	d.tb.Helper()
	code, err := d.Driver.Answer(context.Background(), link, action)
	if err != nil {
		d.tb.Fatalf("%s %s: %v", action, link, err)
	}
	return code
}

// World is one test's slice of the real stack: a database and a task
// queue of its own, the actions over them, and the real worker binary when
// the test starts it.
type World struct {
	*Driver
	Vars map[string]string
}

// NewWorld opens the actions on a new database and task queue, with vars
// on top (RESEND_MIN_INTERVAL is 100ms unless they say otherwise).
func NewWorld(tb testing.TB, vars map[string]string) *World {
	tb.Helper()
	_, dsn := NewStore(tb)
	v := Vars(map[string]string{"DATABASE_URL": dsn, "TASK_QUEUE": "tq-" + Suffix(), "RESEND_MIN_INTERVAL": "100ms"}, vars)
	return &World{Driver: NewDriver(tb, v), Vars: v}
}

// StartWorker runs the worker binary on the world's database and task
// queue until the test ends.
func (w *World) StartWorker(tb testing.TB) *Process {
	tb.Helper()
	return Start(tb, "worker", Vars(w.Vars, map[string]string{"WORKER_ADDR": FreePort(tb)}))
}

// Token is the token of a confirmation link.
func Token(tb testing.TB, link string) string {
	tb.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		tb.Fatalf("not a confirmation link: %q", link)
	}
	return u.Query().Get("token")
}

// SeedAudit records audit events of a partner through the store, one at
// each of the times (RFC 3339): an edit by a user, on the customer ("":
// none), with the detail.
func SeedAudit(tb testing.TB, st *store.Store, partner, actor, subaccount, detail string, at ...string) {
	tb.Helper()
	for _, a := range at {
		t, err := time.Parse(time.RFC3339, a)
		if err != nil {
			tb.Fatal(err)
		}
		if err := st.Audit(context.Background(), domain.AuditEvent{At: t, PartnerID: partner, ActorKind: domain.ActorUser, ActorID: actor,
			Action: "edit", SubaccountID: subaccount, Outcome: domain.OutcomeDone, Detail: detail}); err != nil {
			tb.Fatal(err)
		}
	}
}
