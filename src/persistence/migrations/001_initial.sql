-- Troupe schema, version 1. Runs on PostgreSQL 15 and on PGlite. Money is bigint paise.
-- Applied by src/persistence/migrate.ts inside one transaction; never edit after release
-- (the runner refuses a changed checksum): add a new NNN_name.sql instead.

CREATE TABLE users (
  id            text PRIMARY KEY,
  username      text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  role          text NOT NULL CHECK (role IN ('viewer', 'trader', 'admin')),
  disabled      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE strategies (
  id           text PRIMARY KEY,
  kind         text NOT NULL,
  portfolio_id text NOT NULL,
  config       jsonb NOT NULL DEFAULT '{}'::jsonb,
  enabled      boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
  id                  bigserial PRIMARY KEY,
  client_order_id     text NOT NULL UNIQUE,
  broker_order_id     text,
  intent_id           text NOT NULL,
  portfolio_id        text NOT NULL,
  strategy_id         text NOT NULL,
  symbol              text NOT NULL,
  side                text NOT NULL CHECK (side IN ('BUY', 'SELL')),
  order_type          text NOT NULL,
  product             text NOT NULL,
  validity            text NOT NULL,
  quantity            integer NOT NULL CHECK (quantity > 0),
  limit_price_paise   bigint,
  trigger_price_paise bigint,
  status              text NOT NULL,
  status_message      text,
  filled_quantity     integer NOT NULL DEFAULT 0,
  cancelled_quantity  integer NOT NULL DEFAULT 0,
  filled_value_paise  bigint NOT NULL DEFAULT 0,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL
);
CREATE INDEX orders_portfolio_time ON orders (portfolio_id, created_at DESC);
CREATE INDEX orders_strategy_time ON orders (strategy_id, created_at DESC);
CREATE INDEX orders_symbol_time ON orders (symbol, created_at DESC);
CREATE INDEX orders_status_time ON orders (status, created_at DESC);
CREATE INDEX orders_broker_order_id ON orders (broker_order_id) WHERE broker_order_id IS NOT NULL;

CREATE TABLE trades (
  id              bigserial PRIMARY KEY,
  fill_id         text NOT NULL UNIQUE,
  client_order_id text NOT NULL,
  broker_order_id text NOT NULL,
  portfolio_id    text NOT NULL,
  strategy_id     text NOT NULL,
  symbol          text NOT NULL,
  side            text NOT NULL CHECK (side IN ('BUY', 'SELL')),
  product         text NOT NULL,
  quantity        integer NOT NULL CHECK (quantity > 0),
  price_paise     bigint NOT NULL,
  charges_paise   bigint NOT NULL DEFAULT 0,
  executed_at     timestamptz NOT NULL
);
CREATE INDEX trades_order ON trades (client_order_id);
CREATE INDEX trades_portfolio_time ON trades (portfolio_id, executed_at DESC);
CREATE INDEX trades_strategy_time ON trades (strategy_id, executed_at DESC);
CREATE INDEX trades_symbol_time ON trades (symbol, executed_at DESC);

-- Position snapshots (the live position is derived from fills; these are points in time).
CREATE TABLE positions (
  id                  bigserial PRIMARY KEY,
  portfolio_id        text NOT NULL,
  symbol              text NOT NULL,
  product             text NOT NULL,
  quantity            bigint NOT NULL,
  average_price_paise bigint NOT NULL,
  realised_paise      bigint NOT NULL DEFAULT 0,
  mark_price_paise    bigint,
  at                  timestamptz NOT NULL
);
CREATE INDEX positions_portfolio_symbol_time ON positions (portfolio_id, symbol, at DESC);
CREATE INDEX positions_time ON positions (at DESC);

-- Compliance and security events: append-only, enforced by triggers.
CREATE TABLE audit_logs (
  id       bigserial PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  actor    text NOT NULL,
  action   text NOT NULL,
  subject  text,
  details  jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_logs_time ON audit_logs (at DESC);
CREATE INDEX audit_logs_subject_time ON audit_logs (subject, at DESC);

CREATE FUNCTION troupe_refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION troupe_refuse_audit_change();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION troupe_refuse_audit_change();

-- Latest snapshot per actor (key = the actor's path unless the behavior names one).
CREATE TABLE actor_snapshots (
  key      text PRIMARY KEY,
  version  integer NOT NULL,
  sequence bigint NOT NULL,
  state    jsonb NOT NULL,
  at       timestamptz NOT NULL
);

-- Every order intent, order state change and fill, durably, before it is acted on.
CREATE TABLE journal (
  sequence bigserial PRIMARY KEY,
  stream   text NOT NULL,
  type     text NOT NULL,
  payload  jsonb NOT NULL,
  at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_stream ON journal (stream, sequence);

-- Time series. Partitions are created by the ingestor (ticks: one per UTC day; bars_1m: one
-- per month; bars_1h: one per year) and dropped whole by the retention job.
CREATE TABLE ticks (
  symbol        text NOT NULL,
  token         integer NOT NULL,
  exchange_time timestamptz NOT NULL,
  ltp_paise     bigint NOT NULL,
  last_quantity integer NOT NULL,
  volume        bigint NOT NULL,
  bid_paise     bigint,
  ask_paise     bigint,
  bid_quantity  integer,
  ask_quantity  integer
) PARTITION BY RANGE (exchange_time);
CREATE INDEX ticks_symbol_time ON ticks (symbol, exchange_time);

CREATE TABLE bars_1m (
  symbol      text NOT NULL,
  start_time  timestamptz NOT NULL,
  open_paise  bigint NOT NULL,
  high_paise  bigint NOT NULL,
  low_paise   bigint NOT NULL,
  close_paise bigint NOT NULL,
  volume      bigint NOT NULL,
  tick_count  integer NOT NULL,
  PRIMARY KEY (symbol, start_time)
) PARTITION BY RANGE (start_time);

CREATE TABLE bars_1h (
  symbol      text NOT NULL,
  start_time  timestamptz NOT NULL,
  open_paise  bigint NOT NULL,
  high_paise  bigint NOT NULL,
  low_paise   bigint NOT NULL,
  close_paise bigint NOT NULL,
  volume      bigint NOT NULL,
  tick_count  integer NOT NULL,
  PRIMARY KEY (symbol, start_time)
) PARTITION BY RANGE (start_time);
