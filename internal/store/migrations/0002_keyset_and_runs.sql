-- The exact Temporal run that created each subaccount, so that lists join
-- Temporal by run id; empty for rows created before this column existed.
ALTER TABLE subaccounts ADD COLUMN run_id text NOT NULL DEFAULT '';

-- Keyset pagination, newest first: every page of a partner's customers,
-- filtered by status or not, is an index range scan, as fast at any depth.
DROP INDEX subaccounts_partner_status;
CREATE INDEX subaccounts_partner_created ON subaccounts (partner_id, created_at DESC, id DESC);
CREATE INDEX subaccounts_partner_status_created ON subaccounts (partner_id, status, created_at DESC, id DESC);
CREATE INDEX subaccounts_created ON subaccounts (created_at DESC, id DESC);

-- Looking a customer up by its onboarding id (the CLI's handle).
CREATE INDEX subaccounts_onboarding ON subaccounts (onboarding_id, created_at DESC);
