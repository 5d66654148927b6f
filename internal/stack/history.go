package stack

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// Cost is what one workflow run's history says about its price and health.
//
// Actions are counted by Temporal Cloud's published rules, as far as a
// history shows them: the start, each signal, each accepted update, each
// timer, each activity scheduled plus each retry (attempt − 1 of the attempt
// that started last), each search-attribute upsert, and side-effect markers
// once per workflow task that records any (the server batches them).
// Queries and rejected updates never reach a history; they are billed but
// not counted here.
type Cost struct {
	Events  int
	Actions int
	// Health.
	WorkflowTaskFailed   int
	NonDeterministic     int
	WorkflowTaskTimedOut int
	ActivityRetries      int
	Signals              int
	UpdatesAccepted      int
	UpdatesSucceeded     map[string]int // by update name: accepted and completed without error
	// Time tasks waited in their task queue (scheduled → started), summed.
	WorkflowTaskWait, ActivityWait time.Duration
	WorkflowTasks, ActivityTasks   int
}

// History reads a run's history and counts its cost.
func History(ctx context.Context, c client.Client, workflowID, runID string) (Cost, error) {
	cost := Cost{UpdatesSucceeded: map[string]int{}}
	markerTasks := map[int64]bool{}
	updateNames := map[string]string{} // update id → name
	scheduled := map[int64]time.Time{} // event id → when a task was scheduled
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return Cost{}, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		cost.Events++
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
			scheduled[e.GetEventId()] = e.GetEventTime().AsTime()
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			if t, ok := scheduled[e.GetWorkflowTaskStartedEventAttributes().GetScheduledEventId()]; ok {
				cost.WorkflowTaskWait += e.GetEventTime().AsTime().Sub(t)
				cost.WorkflowTasks++
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			cost.Actions++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			cost.Actions++
			cost.Signals++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			cost.Actions++
			cost.UpdatesAccepted++
			req := e.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest()
			updateNames[req.GetMeta().GetUpdateId()] = req.GetInput().GetName()
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
			a := e.GetWorkflowExecutionUpdateCompletedEventAttributes()
			if a.GetOutcome().GetFailure() == nil {
				cost.UpdatesSucceeded[updateNames[a.GetMeta().GetUpdateId()]]++
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			cost.Actions++
			scheduled[e.GetEventId()] = e.GetEventTime().AsTime()
		case enumspb.EVENT_TYPE_TIMER_STARTED, enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			cost.Actions++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			// The started event of an activity is written when it completes,
			// with the time it was picked up.
			if t, ok := scheduled[e.GetActivityTaskStartedEventAttributes().GetScheduledEventId()]; ok {
				cost.ActivityWait += e.GetEventTime().AsTime().Sub(t)
				cost.ActivityTasks++
			}
			if n := int(e.GetActivityTaskStartedEventAttributes().GetAttempt()) - 1; n > 0 {
				cost.Actions += n
				cost.ActivityRetries += n
			}
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			markerTasks[e.GetMarkerRecordedEventAttributes().GetWorkflowTaskCompletedEventId()] = true
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
			cost.WorkflowTaskFailed++
			if e.GetWorkflowTaskFailedEventAttributes().GetCause() == enumspb.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR {
				cost.NonDeterministic++
			}
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
			cost.WorkflowTaskTimedOut++
		}
	}
	cost.Actions += len(markerTasks)
	return cost, nil
}
