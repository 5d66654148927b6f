-- The system of record for partner-customer onboarding.

CREATE TABLE partners (
    id             text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name           text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    partner_status boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE subaccounts (
    id               uuid PRIMARY KEY,
    partner_id       text NOT NULL REFERENCES partners (id),
    onboarding_id    text NOT NULL,
    name             text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    name_key         text NOT NULL CHECK (name_key <> ''),
    email            text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND length(email) <= 254),
    contact          text NOT NULL DEFAULT '' CHECK (length(contact) <= 200),
    cloud_name       text NOT NULL CHECK (cloud_name ~ '^[a-z][a-z0-9-]{1,61}[a-z0-9]$'),
    status           text NOT NULL DEFAULT 'ACCEPTANCE_REQUIRED'
                     CHECK (status IN ('ACCEPTANCE_REQUIRED', 'ACTIVE', 'SUSPENDED', 'INACTIVE')),
    confirm_deadline timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    activated_at     timestamptz,
    deleted_at       timestamptz,
    deleted_reason   text CHECK (deleted_reason IN ('EXPIRED', 'CANCELLED', 'FAILED')),
    CHECK ((status = 'INACTIVE') = (deleted_at IS NOT NULL AND deleted_reason IS NOT NULL)),
    CHECK ((status IN ('ACTIVE', 'SUSPENDED')) <= (activated_at IS NOT NULL))
);

-- One live subaccount per partner and customer name; deleted ones stay for audit.
CREATE UNIQUE INDEX subaccounts_live_name ON subaccounts (partner_id, name_key) WHERE status <> 'INACTIVE';
CREATE INDEX subaccounts_partner_status ON subaccounts (partner_id, status, created_at);

-- The name of a subaccount can never change: only the customer's contact
-- person may rename it, outside this system.
CREATE FUNCTION subaccounts_name_immutable() RETURNS trigger AS $$
BEGIN
    IF NEW.name IS DISTINCT FROM OLD.name OR NEW.name_key IS DISTINCT FROM OLD.name_key
       OR NEW.partner_id IS DISTINCT FROM OLD.partner_id THEN
        RAISE EXCEPTION 'subaccount name and partner are immutable' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER subaccounts_name_immutable BEFORE UPDATE ON subaccounts
    FOR EACH ROW EXECUTE FUNCTION subaccounts_name_immutable();

CREATE TABLE organizations (
    id            uuid PRIMARY KEY,
    subaccount_id uuid NOT NULL UNIQUE REFERENCES subaccounts (id),
    name          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);

CREATE TABLE role_bindings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_type  text NOT NULL CHECK (subject_type IN ('partner', 'customer')),
    subject_id    text NOT NULL,
    role          text NOT NULL CHECK (role IN ('billing.accounts.owner', 'organization-manager.organizations.owner', 'admin')),
    resource_type text NOT NULL CHECK (resource_type IN ('subaccount', 'organization')),
    resource_id   uuid NOT NULL,
    subaccount_id uuid NOT NULL REFERENCES subaccounts (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    UNIQUE (subject_type, subject_id, role, resource_type, resource_id)
);
CREATE INDEX role_bindings_subaccount ON role_bindings (subaccount_id);

CREATE TABLE clouds (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    name            text NOT NULL CHECK (name ~ '^[a-z][a-z0-9-]{1,61}[a-z0-9]$'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, name)
);

-- Confirmation emails handed to the mail server; the message id is decided
-- before sending so that a retry finds the record instead of sending again.
-- The confirmation link is never stored: it is derived with a server secret.
CREATE TABLE emails (
    message_id    text PRIMARY KEY,
    subaccount_id uuid NOT NULL REFERENCES subaccounts (id),
    seq           int NOT NULL CHECK (seq >= 1),
    sent_at       timestamptz NOT NULL,
    UNIQUE (subaccount_id, seq)
);

-- Signatures of accepted login-hook calls, so that a replay is refused.
CREATE TABLE login_hook_calls (
    signature   text PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_hook_calls_received ON login_hook_calls (received_at);
