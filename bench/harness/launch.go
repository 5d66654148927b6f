package harness

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/seal"
	"github.com/cloudpartners/onboarding/workflows"
)

// Launcher starts onboardings the way `starter add` does: the workflow id
// from the business key, USE_EXISTING on conflict, the partner and stage
// search attributes set at start, the contact sealed.
type Launcher struct {
	Client       client.Client
	Sealer       *seal.Sealer
	TaskQueue    string
	WorkflowType string // workflows.WorkflowName, or the ceiling's
	PartnerID    string
}

// Customer is one onboarding to launch.
type Customer struct {
	Name, Email, Cloud string
	ConfirmWithin      time.Duration
	ResendAfter        time.Duration
}

// Launch starts the onboarding of one customer and returns its id.
func (l *Launcher) Launch(ctx context.Context, c Customer) (string, error) {
	sealed, err := l.Sealer.Seal(customer.Contact{Email: c.Email})
	if err != nil {
		return "", err
	}
	id := workflows.WorkflowID(l.PartnerID, c.Name)
	_, err = l.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                l.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.AttrPartner.ValueSet(l.PartnerID), workflows.AttrStage.ValueSet(workflows.StageCreating)),
	}, l.WorkflowType, workflows.Input{
		PartnerID: l.PartnerID, CustomerName: c.Name, CloudName: c.Cloud, SealedContact: sealed,
		ConfirmWithin: c.ConfirmWithin, ResendAfter: c.ResendAfter,
	})
	if err != nil {
		return "", fmt.Errorf("start onboarding %s: %w", id, err)
	}
	return id, nil
}

// PostConfirm posts a token to the webhook's confirmation form, as a
// browser does, and returns the status code and the time to the answer.
func PostConfirm(ctx context.Context, hc *http.Client, baseURL, token string) (int, time.Duration, error) {
	form := url.Values{"token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/confirm", strings.NewReader(form))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	t0 := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, time.Since(t0), fmt.Errorf("post /confirm: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(t0), nil
}

// WaitHTTP waits until GET url answers 200.
func WaitHTTP(ctx context.Context, u string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer 200: %w", u, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
