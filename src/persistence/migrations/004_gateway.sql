-- Troupe schema, version 4: what the gateway keeps beyond users and keys (src/gateway,
-- src/persistence/gateway-state-store.ts). Runs on PostgreSQL 15 and on PGlite. Never edit
-- after release: add a new NNN_name.sql instead.

-- Strategies created or changed through the API (the `strategies` table of migration 001):
-- the config is the one in effect (merged), `state` what the API last asked for. `npm start`
-- re-creates every row at start-up; a row for a strategy of the start-up set overrides it.
ALTER TABLE strategies ADD COLUMN state text NOT NULL DEFAULT 'started' CHECK (state IN ('started', 'paused', 'stopped'));
ALTER TABLE strategies ADD COLUMN created_by text;

-- Named counters, bumped in one statement (UPDATE … RETURNING): manual orders number their
-- intents from `manual-order`, so their client order ids are 1, 2, 3… for the life of the
-- database and never repeat across restarts. Seeded past every manual order already journaled.
CREATE TABLE gateway_sequences (
  name  text PRIMARY KEY,
  value bigint NOT NULL CHECK (value >= 0)
);
INSERT INTO gateway_sequences (name, value)
  SELECT 'manual-order', COALESCE(max(substr(intent_id, 8)::numeric), 0)::bigint
  FROM orders WHERE strategy_id = 'manual' AND intent_id ~ '^manual:[0-9]{1,18}$';

-- Admin actions on users: when a password last changed (a reset or the user's own change).
ALTER TABLE users ADD COLUMN password_changed_at timestamptz;
