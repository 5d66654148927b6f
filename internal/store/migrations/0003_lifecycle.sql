-- The customer's life after onboarding: declines, suspensions and the
-- deletions they lead to, and more clouds.

-- Two more reasons a subaccount is deleted: the customer declined the
-- invitation, or a suspension ran out of its retention period.
ALTER TABLE subaccounts DROP CONSTRAINT subaccounts_deleted_reason_check;
ALTER TABLE subaccounts ADD CONSTRAINT subaccounts_deleted_reason_check
    CHECK (deleted_reason IN ('EXPIRED', 'CANCELLED', 'FAILED', 'DECLINED', 'SUSPENSION_EXPIRED'));

-- The customer's answer to the invitation, recorded once: of a confirm and
-- a decline racing, exactly one is recorded, and the page the customer
-- sees tells which.
ALTER TABLE subaccounts ADD COLUMN answer text CHECK (answer IN ('CONFIRM', 'DECLINE'));
ALTER TABLE subaccounts ADD COLUMN answered_at timestamptz;
ALTER TABLE subaccounts ADD CHECK ((answer IS NULL) = (answered_at IS NULL));

-- Each time a partner stops a customer's services. The data is kept until
-- delete_after; a resume before then ends the suspension, otherwise the
-- subaccount is deleted. Rows are kept for audit.
CREATE TABLE suspensions (
    id            uuid PRIMARY KEY,
    subaccount_id uuid NOT NULL REFERENCES subaccounts (id),
    reason        text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    suspended_at  timestamptz NOT NULL,
    delete_after  timestamptz NOT NULL CHECK (delete_after > suspended_at),
    resumed_at    timestamptz,
    expired_at    timestamptz,
    CHECK (resumed_at IS NULL OR expired_at IS NULL)
);
-- At most one open suspension per subaccount.
CREATE UNIQUE INDEX suspensions_open ON suspensions (subaccount_id) WHERE resumed_at IS NULL AND expired_at IS NULL;
CREATE INDEX suspensions_subaccount ON suspensions (subaccount_id, suspended_at DESC);
