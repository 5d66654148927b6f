package domain

// Stages an onboarding moves through. The onboarding workflow publishes
// them (search attribute OnboardingStage); the values are released.
const (
	StageCreating   = "CREATING_RECORD"
	StageSending    = "SENDING_EMAIL"
	StageAwaiting   = "AWAITING_CONFIRMATION"
	StageActivating = "ACTIVATING"
	StageDeleting   = "DELETING"
	StageDone       = "DONE"
	StageFailed     = "FAILED"
)

// Outcomes: an onboarding ends in exactly one.
const (
	OutcomeActive    = "ACTIVE"
	OutcomeExpired   = "EXPIRED"
	OutcomeCancelled = "CANCELLED"
	OutcomeDeclined  = "DECLINED"
)

// Stage is where the customer's onboarding stands as its record shows it —
// no workflow needed: what the customer page polls. The workflow's own
// stage can be a moment ahead (an email on its way, a deletion under way).
func (s Subaccount) Stage() string {
	switch {
	case s.Status == StatusInactive, (s.Status == StatusActive || s.Status == StatusSuspended) && s.Clouds > 0:
		return StageDone
	case s.Status == StatusActive || s.Status == StatusSuspended || s.Answer == AnswerConfirm:
		return StageActivating
	case s.Answer == AnswerDecline:
		return StageDeleting
	case s.EmailsSent == 0:
		return StageSending
	}
	return StageAwaiting
}

// Outcome is how the onboarding ended, as the record shows it: "" while it
// runs.
func (s Subaccount) Outcome() string {
	switch {
	case s.Status == StatusInactive && s.DeletedReason != ReasonSuspensionExpired:
		return s.DeletedReason
	case s.Stage() == StageDone:
		return OutcomeActive // and perhaps deleted later, when a suspension ran out
	}
	return ""
}

// StageText says in a partner's words what the onboarding of a customer
// is doing.
func StageText(stage string) string {
	switch stage {
	case StageCreating:
		return "Creating the customer record"
	case StageSending:
		return "Sending the confirmation email"
	case StageAwaiting:
		return "Waiting for the customer to confirm"
	case StageActivating:
		return "Confirmed: activating the customer and creating the cloud"
	case StageDeleting:
		return "Deleting the customer"
	case StageDone:
		return "Onboarding finished"
	case StageFailed:
		return "The onboarding could not go on"
	}
	return stage
}

// ProgressText says in a partner's words where an onboarding stands: how
// it ended, once it has an outcome, else what it is doing (StageText).
// A page adds the deadline to StageAwaiting's words: "… until <time>".
func ProgressText(stage, outcome string) string {
	switch outcome {
	case "":
		return StageText(stage)
	case OutcomeActive:
		return "Onboarded: the customer confirmed and the cloud is created"
	}
	return "Ended: " + ReasonText(outcome)
}
