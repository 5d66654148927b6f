-- Durable requests and an audit log that loses nothing.
--
-- A request to an onboarding or a customer (resend, cancel, add a cloud,
-- suspend, resume) is accepted once its signal is in the workflow's
-- history; this row is how the edges follow it: accepted, then done or
-- refused with its reason, written by the workflow with the audit row of
-- the action in one transaction. Its id is the idempotency key: the same
-- request again finds this row.
CREATE TABLE requests (
    id            uuid PRIMARY KEY,
    partner_id    text NOT NULL,
    subaccount_id uuid,
    onboarding_id text NOT NULL DEFAULT '',
    workflow_id   text NOT NULL,
    kind          text NOT NULL,
    summary       text NOT NULL DEFAULT '',
    fingerprint   text NOT NULL DEFAULT '', -- what was asked: the same key with other arguments is refused
    actor_kind    text NOT NULL,
    actor_id      text NOT NULL,
    addr          text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'accepted' CHECK (status IN ('accepted', 'done', 'refused')),
    reason        text NOT NULL DEFAULT '',
    result        jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX requests_pending ON requests (subaccount_id, created_at) WHERE status = 'accepted';
CREATE INDEX requests_onboarding_pending ON requests (onboarding_id, created_at) WHERE status = 'accepted';

-- An audit row written by a workflow's activity or with the change it
-- records carries a key: a retry of the activity writes it once.
ALTER TABLE audit_events ADD COLUMN key text;
CREATE UNIQUE INDEX audit_events_key ON audit_events (key) WHERE key IS NOT NULL;

-- The resend rules an onboarding was launched with, written with its
-- record, so that a resend that comes too soon or past the limit is
-- refused before it is accepted. NULL for records written before.
ALTER TABLE subaccounts ADD COLUMN resend_after_ms bigint, ADD COLUMN max_sends int;
