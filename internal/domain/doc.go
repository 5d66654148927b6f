// Package domain is the centre of partner-customer onboarding: the
// entities (partner, subaccount, organization, cloud, suspension, email,
// staff member, API key, audit event), the actor every action is taken by
// and the partner scope it carries, the statuses, reasons and stages, what
// valid input is, and the one vocabulary of failures (Kind) that retries,
// audit outcomes, HTTP statuses and exit codes switch on. It imports no
// database driver, no Temporal client and no HTTP: the workflows, the
// activities, the store, the actions and every edge speak in its types.
package domain
