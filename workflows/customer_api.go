package workflows

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Names of the customer workflow: one per subaccount, from the first
// operation after onboarding until the subaccount is deleted.
const (
	// CustomerWorkflowName is the registered name of the customer workflow type.
	CustomerWorkflowName = "Customer"
	// UpdateAddCloud creates one more cloud (payload CloudRequest; returns CloudResult).
	UpdateAddCloud = "add-cloud"
	// UpdateSuspend stops the customer's services (payload SuspendRequest; returns CustomerStatus).
	UpdateSuspend = "suspend"
	// UpdateResume resumes them (no payload; returns CustomerStatus).
	UpdateResume = "resume"
	// QueryCustomer answers where the customer stands (returns CustomerStatus).
	QueryCustomer = "customer"
)

// Search attributes of the customer workflow, registered by `make up`: with
// OnboardingPartner they find every suspended subaccount of a partner and
// when each will be deleted.
var (
	AttrSubaccountStatus = temporal.NewSearchAttributeKeyKeyword("SubaccountStatus")
	AttrDeleteAfter      = temporal.NewSearchAttributeKeyTime("DeleteAfter")
)

// CustomerSearchAttributes lists the customer workflow's own search attributes.
var CustomerSearchAttributes = []temporal.SearchAttributeKey{AttrSubaccountStatus, AttrDeleteAfter}

// CustomerWorkflowID is the id of a subaccount's customer workflow.
func CustomerWorkflowID(subaccountID string) string { return "customer/" + subaccountID }

// CustomerStartOptions start a subaccount's customer workflow, or find the
// running one: its id from the subaccount, a new run only after a failed or
// terminated one, the partner and status searchable from the start.
func CustomerStartOptions(taskQueue string, in CustomerInput) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       CustomerWorkflowID(in.SubaccountID),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    temporal.NewSearchAttributes(AttrPartner.ValueSet(in.PartnerID), AttrSubaccountStatus.ValueSet(in.Status)),
		StaticSummary:            fmt.Sprintf("Customer %s of partner %s: clouds, suspension and resumption", in.CustomerName, in.PartnerID),
	}
}

// CustomerInput starts (or continues as new) a customer workflow.
type CustomerInput struct {
	PartnerID    string
	SubaccountID string
	CustomerName string
	Status       string      // the subaccount's status: ACTIVE or SUSPENDED
	Suspension   *Suspension // the open suspension, when SUSPENDED
	Operations   int         // operations carried out by earlier runs
	// Seen are the ids of the latest requests received by earlier runs:
	// the same request again is not carried out twice.
	Seen []string `json:",omitempty"`
}

// Suspension is an open stop of the customer's services.
type Suspension struct {
	ID          string
	Reason      string
	At          time.Time
	DeleteAfter time.Time
}

// CloudRequest is the payload of UpdateAddCloud.
type CloudRequest struct {
	Name string
}

// CloudResult is what UpdateAddCloud returns.
type CloudResult struct {
	CloudID string
	Name    string
	Created bool // false: the cloud existed (the same request again)
}

// SuspendRequest is the payload of UpdateSuspend.
type SuspendRequest struct {
	Reason    string
	Retention time.Duration // how long the data is kept; default customer.DefaultRetention
}

// CustomerStatus is where a customer stands, as its workflow knows it.
type CustomerStatus struct {
	SubaccountID string
	Status       string
	Suspension   *Suspension
	Outcome      string // set when the subaccount was deleted: SUSPENSION_EXPIRED
	Operations   int
}

// CustomerResult is what a customer workflow returns when the subaccount is deleted.
type CustomerResult struct {
	SubaccountID string
	Outcome      string
	DeletedAt    time.Time
}
