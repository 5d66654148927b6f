-- The partner portal: the partners' staff who sign in, their sessions, API
-- keys for machines, and the audit log of every action.

-- Name search on the dashboard: a trigram index answers "contains" fast at
-- any number of customers.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX subaccounts_name_trgm ON subaccounts USING gin (name_key gin_trgm_ops);

-- A partner's staff. A person (an email) belongs to one partner at a time;
-- the identity provider's subject is recorded at the first sign-in.
CREATE TABLE staff (
    id            uuid PRIMARY KEY,
    partner_id    text NOT NULL REFERENCES partners (id),
    email         text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND length(email) <= 254),
    email_key     text NOT NULL,
    issuer        text,
    subject       text,
    name          text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    role          text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    personal_data boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL DEFAULT '',
    last_login_at timestamptz,
    removed_at    timestamptz
);
CREATE UNIQUE INDEX staff_email ON staff (email_key) WHERE removed_at IS NULL;
CREATE UNIQUE INDEX staff_subject ON staff (issuer, subject) WHERE removed_at IS NULL AND subject IS NOT NULL;
CREATE INDEX staff_partner ON staff (partner_id, email_key);

-- Sign-ins under way: the state, PKCE verifier and nonce of one
-- authorization request, used once by the callback.
CREATE TABLE oidc_logins (
    state      text PRIMARY KEY,
    verifier   text NOT NULL,
    nonce      text NOT NULL,
    return_to  text NOT NULL DEFAULT '/',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Signed-in sessions. Only a hash of the session id is stored: the
-- database alone cannot be used to sign in.
CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY,
    staff_id     uuid NOT NULL REFERENCES staff (id),
    csrf         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    addr         text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_staff ON sessions (staff_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- API keys for machines: shown once, stored only as a hash, scoped to one
-- partner and a role, revocable.
CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    partner_id   text NOT NULL REFERENCES partners (id),
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    role         text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    hash         bytea NOT NULL UNIQUE,
    prefix       text NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_partner ON api_keys (partner_id, created_at DESC);

-- Every action taken, by whom, on which customer, when and from where.
CREATE TABLE audit_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    partner_id    text NOT NULL DEFAULT '',
    actor_kind    text NOT NULL,
    actor_id      text NOT NULL,
    action        text NOT NULL,
    subaccount_id uuid,
    onboarding_id text NOT NULL DEFAULT '',
    addr          text NOT NULL DEFAULT '',
    outcome       text NOT NULL CHECK (outcome IN ('done', 'refused', 'failed')),
    detail        text NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_subaccount ON audit_events (subaccount_id, at DESC, id DESC);
CREATE INDEX audit_events_partner ON audit_events (partner_id, at DESC, id DESC);
