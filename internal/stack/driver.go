package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/deps"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/request"
	"github.com/cloudpartners/onboarding/internal/store"
)

// Driver takes the product's own actions against a stack, as an operator
// at the CLI would — launch, wait for a stage or an outcome, read the
// confirmation email, confirm or decline through the webhook's link — for
// every package's integration tests (through testenv), the benchmark and
// the chaos run: one harness, built with the same wiring as the binaries.
type Driver struct {
	deps.Actions
	Store    *store.Store
	Temporal client.Client
	Requests *request.Sender
	Operator domain.Actor
	Mail     *Mailpit
	HTTP     *http.Client

	deps *deps.Deps
}

// OpenDriver opens the actions with the settings the environment names —
// the starter's: Temporal, Postgres, links, the defaults of a launch — and
// reads mail from the mailpit at mailpitURL. The SDK's warnings go to log.
func OpenDriver(ctx context.Context, getenv func(string) string, mailpitURL string, log io.Writer) (*Driver, error) {
	v := config.New(getenv)
	temporal, postgres, links, launch := config.LoadTemporal(v), config.LoadPostgres(v), config.LoadLinks(v), config.LoadLaunch(v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := deps.Open(ctx, deps.Options{Service: "driver", Logger: logger, Temporal: temporal, Postgres: postgres})
	if err != nil {
		return nil, err
	}
	return &Driver{Actions: d.Actions(launch, links), Store: d.Store, Temporal: d.Temporal, Requests: d.Requests, deps: d,
		Operator: domain.Operator("driver"), Mail: NewMailpit(mailpitURL), HTTP: &http.Client{Timeout: 30 * time.Second}}, nil
}

// Launch launches one onboarding as an operator.
func (d *Driver) Launch(ctx context.Context, partnerID string, c onboarding.NewCustomer) (onboarding.Launched, error) {
	return d.Onboarding.Launch(ctx, d.Operator, partnerID, c)
}

// Status is where an onboarding stands, as `starter status` says.
func (d *Driver) Status(ctx context.Context, ref string) (onboarding.View, error) {
	return d.Onboarding.Status(ctx, d.Operator, ref)
}

// poll is how often a wait looks again.
const poll = 50 * time.Millisecond

// WaitStage waits, until ctx is done, for an onboarding to reach a stage.
func (d *Driver) WaitStage(ctx context.Context, ref, stage string) (onboarding.View, error) {
	return d.wait(ctx, ref, "stage "+stage, func(v onboarding.View) (bool, error) { return v.Stage == stage, nil })
}

// WaitOutcome waits, until ctx is done, for an onboarding's run to
// complete with an outcome; one that closes otherwise is an error at once.
func (d *Driver) WaitOutcome(ctx context.Context, ref, outcome string) (onboarding.View, error) {
	return d.wait(ctx, ref, "outcome "+outcome, func(v onboarding.View) (bool, error) {
		if v.Workflow != "" && !v.Running() && (v.Workflow != "COMPLETED" || v.Outcome != outcome) {
			return false, fmt.Errorf("onboarding %s closed %s with outcome %q, want %s (%s)", ref, v.Workflow, v.Outcome, outcome, v.Failure)
		}
		return v.Workflow == "COMPLETED" && v.Outcome == outcome, nil
	})
}

func (d *Driver) wait(ctx context.Context, ref, what string, done func(onboarding.View) (bool, error)) (onboarding.View, error) {
	var last onboarding.View
	var lastErr error
	for {
		v, err := d.Status(ctx, ref)
		if err == nil {
			last, lastErr = v, nil
			ok, err := done(v)
			if err != nil || ok {
				return v, err
			}
		} else if !errors.Is(err, domain.ErrNotFound) {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("onboarding %s did not reach %s (stage %q, outcome %q, last error %v): %w", ref, what, last.Stage, last.Outcome, lastErr, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// Link waits for the n-th confirmation email to an address and returns
// its link.
func (d *Driver) Link(ctx context.Context, address string, n int) (string, error) {
	msgs, err := d.Mail.WaitMail(ctx, address, n)
	if err != nil {
		return "", fmt.Errorf("email #%d to %s: %w", n, address, err)
	}
	link := LinkIn(msgs[n-1].Text)
	if link == "" {
		return "", fmt.Errorf("no confirmation link in email #%d to %s", n, address)
	}
	return link, nil
}

// Answer presses a button of a link's page — "confirm" or "decline" — as
// the customer's browser does, and returns the webhook's status code.
func (d *Driver) Answer(ctx context.Context, link, action string) (int, error) {
	token, err := TokenOf(link)
	if err != nil {
		return 0, err
	}
	u, err := url.Parse(link)
	if err != nil {
		return 0, fmt.Errorf("confirmation link: %w", err)
	}
	base := u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, "/confirm")
	code, _, err := PostAnswer(ctx, d.HTTP, base, token, action)
	return code, err
}

// Close closes what OpenDriver opened.
func (d *Driver) Close() { d.deps.Close() }
