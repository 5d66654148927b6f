package stack

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jmoiron/sqlx"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// Runs counts the runs of every workflow in the namespace by workflow id:
// more than one for an onboarding is an onboarding started twice.
func Runs(ctx context.Context, c client.Client, namespace string) (map[string]int, error) {
	runs := map[string]int{}
	var token []byte
	for {
		page, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, PageSize: 1000, NextPageToken: token})
		if err != nil {
			return runs, fmt.Errorf("list workflows: %w", err)
		}
		for _, e := range page.GetExecutions() {
			runs[e.GetExecution().GetWorkflowId()]++
		}
		if token = page.GetNextPageToken(); len(token) == 0 {
			return runs, nil
		}
	}
}

// MailAudit is what a private stack's mailpit holds against the emails
// the store recorded as sent.
type MailAudit struct {
	Recorded   int      // emails recorded as sent
	Delivered  int      // messages mailpit holds
	Duplicates int      // deliveries beyond the first of a Message-ID: an email sent twice
	Unrecorded int      // delivered, never recorded (the send refused for good after it went out)
	Missing    []string // Message-IDs recorded as sent and not delivered
	Foreign    []string // Message-IDs that are not of the form the activities make
}

// messageIDPattern is the form of activities.MessageID: the subaccount and
// the email's sequence number, fixed before sending.
var messageIDPattern = regexp.MustCompile(`^confirm-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-[1-9][0-9]*@[^@]+$`)

// AuditMail compares every message mailpit holds with the emails table of
// db: every recorded send delivered, a duplicate only ever under the same
// Message-ID (so counted), nothing sent that the activities did not make.
func AuditMail(ctx context.Context, m *Mailpit, db *sqlx.DB) (MailAudit, error) {
	var a MailAudit
	got, err := m.MessageIDs(ctx)
	if err != nil {
		return a, fmt.Errorf("read mailpit: %w", err)
	}
	var ids []string
	if err := db.SelectContext(ctx, &ids, `SELECT message_id FROM emails`); err != nil {
		return a, fmt.Errorf("read emails: %w", err)
	}
	recorded := map[string]bool{}
	for _, id := range ids {
		recorded[id] = true
		switch n := got[id]; {
		case n == 0:
			a.Missing = append(a.Missing, id)
		case n > 1:
			a.Duplicates += n - 1
		}
	}
	a.Recorded = len(recorded)
	for id, n := range got {
		a.Delivered += n
		if !messageIDPattern.MatchString(id) {
			a.Foreign = append(a.Foreign, id)
		}
		if !recorded[id] {
			a.Unrecorded += n
		}
	}
	return a, nil
}
