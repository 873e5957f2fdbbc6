-- Troupe schema, version 5: single-writer leases (src/persistence/lease.ts). Runs on
-- PostgreSQL 15 and on PGlite. Never edit after release: add a new NNN_name.sql instead.

-- The highest fencing token handed out per lease (`portfolio/paper`, `strategy/ema-cross-1`).
-- A process registers its token here when it takes a lease, and every journal append checks
-- it in the same transaction: a write with a token lower than the stored one (a process that
-- lost its lease and does not know it yet) is refused, so two processes can never both write
-- a portfolio's orders. The Redis fence counter may be lost with Redis; this table is not:
-- new tokens always start above it.
CREATE TABLE lease_fences (
  name     text PRIMARY KEY,
  token    bigint NOT NULL CHECK (token > 0),
  owner    text NOT NULL,
  at       timestamptz NOT NULL DEFAULT now()
);

-- The fencing token the writer held when it appended (NULL: written without a lease).
ALTER TABLE journal ADD COLUMN fence bigint;

-- Recovery checkpoints (journal watermark): the fold of a journal stream up to `sequence`, so
-- a restart reads only the journal after it (src/persistence/recovery.ts).
CREATE TABLE journal_checkpoints (
  stream   text PRIMARY KEY,
  sequence bigint NOT NULL,
  state    jsonb NOT NULL,
  at       timestamptz NOT NULL DEFAULT now()
);
