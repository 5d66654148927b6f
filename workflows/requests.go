package workflows

import (
	"encoding/json"
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudpartners/onboarding/activities"
)

// settle runs the activity that records how a request ended — done with
// the workflow's answer (result, as JSON), or refused with the reason —
// and its audit event, keyed by the request's id, so that a retry records
// it once. It runs even when the workflow is being cancelled: a request
// accepted is always answered.
func settle(ctx workflow.Context, r Request, done bool, reason string, result any, detail string) error {
	in := activities.SettleInput{Request: r, Done: done, Reason: reason, Detail: detail}
	if done && result != nil {
		b, err := json.Marshal(result)
		if err != nil {
			return err
		}
		in.Result = b
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	outcome := "refused"
	if done {
		outcome = "done"
	}
	return workflow.ExecuteActivity(withOptions(dctx, CommitOptions, "record request "+r.Kind+" "+outcome), a.Settle, in).Get(dctx, nil)
}

// failureText is what a failure says, without the SDK's wrapping.
func failureText(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
