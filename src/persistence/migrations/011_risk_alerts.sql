-- Troupe schema, version 11: risk alerts kept, deduplicated and acknowledgeable (issue 20).
-- Runs on PostgreSQL 15 and on PGlite. Never edit after release: add a new NNN_name.sql instead.
--
-- Projected from the journal (stream `risk/alerts`, entries `RiskAlertRaised` and
-- `RiskAlertAcknowledged`) by src/persistence/risk-alert-journal.ts, in the append's transaction;
-- read by src/persistence/history-queries.ts. One row per (code, subject) and dedup window: the
-- same alert raised again within `window_ms` of the row's first sighting (wall clock) adds to
-- `count` and moves `last_*` instead of writing a new row ("×728 in the last minute"). An
-- acknowledged row takes no more sightings: the next one opens a new row.
-- `subject`: what the alert is about ('strategy/symbol', 'strategy', 'symbol' or '' for the process).
-- `first_at` / `last_at`: market time of the alerts; `first_seen` / `last_seen`: wall clock.
CREATE TABLE risk_alerts (
  id                bigserial PRIMARY KEY,
  code              text NOT NULL,
  subject           text NOT NULL,
  severity          text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  message           text NOT NULL,
  strategy_id       text,
  symbol            text,
  count             integer NOT NULL CHECK (count > 0),
  first_at          timestamptz NOT NULL,
  last_at           timestamptz NOT NULL,
  first_seen        timestamptz NOT NULL,
  last_seen         timestamptz NOT NULL,
  window_ms         integer NOT NULL,
  journal_sequence  bigint NOT NULL,
  acknowledged_by   text,
  acknowledged_at   timestamptz,
  acknowledged_note text
);
-- the row an alert joins: the newest of its (code, subject)
CREATE INDEX risk_alerts_subject ON risk_alerts (code, subject, id DESC);
-- the API's filtered lists, newest first (keyset on id)
CREATE INDEX risk_alerts_severity ON risk_alerts (severity, id DESC);
CREATE INDEX risk_alerts_strategy ON risk_alerts (strategy_id, id DESC);
CREATE INDEX risk_alerts_open ON risk_alerts (id DESC) WHERE acknowledged_at IS NULL;

-- trades by time across every portfolio (GET /api/v1/trades with no filter or a date range):
-- newest first, with the fill id as the keyset cursor's tie-breaker
CREATE INDEX trades_time ON trades (executed_at DESC, fill_id DESC);
-- the orders list by side within a time range
CREATE INDEX orders_side_time ON orders (side, created_at DESC);
