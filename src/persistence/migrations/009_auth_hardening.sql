-- Troupe schema, version 9: token generations and portfolio ownership (src/persistence/auth-store.ts).
-- Runs on PostgreSQL 15 and on PGlite. Never edit after release: add a new NNN_name.sql instead.

-- A user's access tokens carry the generation they were issued under (`ver`); logout, logout
-- everywhere, a password change or reset, and disabling or enabling the user bump it, so every
-- access token issued before stops working at once (not only when it expires).
ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0;

-- Who may act on a portfolio: its owner and members. A member's rights are the lesser of their
-- user role and this role (owner > trader > viewer); admins act on every portfolio without a row.
CREATE TABLE portfolio_members (
  portfolio_id text NOT NULL,
  user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role         text NOT NULL CHECK (role IN ('owner', 'trader', 'viewer')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portfolio_id, user_id)
);
CREATE INDEX portfolio_members_user ON portfolio_members (user_id);
