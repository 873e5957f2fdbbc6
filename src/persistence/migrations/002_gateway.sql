-- Troupe schema, version 2: what the gateway keeps (src/persistence/auth-store.ts,
-- src/persistence/audit-store.ts). Runs on PostgreSQL 15 and on PGlite. Never edit after
-- release: add a new NNN_name.sql instead.

-- Optional TOTP second factor (RFC 6238). The secret must be readable to verify codes; it is
-- pending (enabled = false) between enrolment and the first good code. totp_last_step refuses
-- a code's reuse within its time step.
ALTER TABLE users ADD COLUMN totp_secret text;
ALTER TABLE users ADD COLUMN totp_enabled boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN totp_last_step bigint;

-- Refresh tokens: only the SHA-256 of the token is stored. Tokens rotated from one login share
-- a family; presenting a rotated one revokes the family.
CREATE TABLE refresh_tokens (
  id          text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id   text NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  replaced_by text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

-- API keys: only the SHA-256 of the secret part is stored. rate_limit_per_minute NULL with
-- rate_limit_lifted false means "the role's limit".
CREATE TABLE api_keys (
  id                    text PRIMARY KEY,
  name                  text NOT NULL,
  owner_user_id         text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role                  text NOT NULL CHECK (role IN ('viewer', 'trader', 'admin')),
  key_hash              text NOT NULL,
  created_at            timestamptz NOT NULL,
  last_used_at          timestamptz,
  revoked_at            timestamptz,
  rate_limit_per_minute integer CHECK (rate_limit_per_minute IS NULL OR rate_limit_per_minute > 0),
  rate_limit_lifted     boolean NOT NULL DEFAULT false
);
CREATE INDEX api_keys_owner ON api_keys (owner_user_id);

-- The audit log also says how an action ended and where the request came from.
ALTER TABLE audit_logs ADD COLUMN outcome text NOT NULL DEFAULT 'ok' CHECK (outcome IN ('ok', 'denied', 'failed'));
ALTER TABLE audit_logs ADD COLUMN ip text;
CREATE INDEX audit_logs_action_id ON audit_logs (action, id DESC);
CREATE INDEX audit_logs_actor_id ON audit_logs (actor, id DESC);
