-- Troupe schema, version 6: the tick partition being written has no btree. Runs on PostgreSQL 15
-- and on PGlite. Never edit after release: add a new NNN_name.sql instead.
--
-- The index on the partitioned `ticks` table put a btree on every day partition, maintained row
-- by row during the session: three times the server's CPU per ingested tick (COPY binary, 1M
-- ticks: 3.2 s with it, 1.1 s without; bench/ingest.bench.ts). Each closed day now gets its own
-- `<partition>_symbol_time` index in one sort, from the retention job
-- (src/persistence/timeseries/partitions.ts `indexClosedTickPartitions`). The partitions that
-- exist now keep an equivalent index, so nothing already stored becomes slower to read.
DROP INDEX IF EXISTS ticks_symbol_time;
DO $$
DECLARE
  part record;
BEGIN
  FOR part IN
    SELECT child.relname AS name
      FROM pg_inherits
      JOIN pg_class child ON child.oid = pg_inherits.inhrelid
      JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
      JOIN pg_namespace ns ON ns.oid = parent.relnamespace
     WHERE parent.relname = 'ticks' AND ns.nspname = current_schema()
       AND child.relnamespace = parent.relnamespace AND child.relname ~ '^ticks_p[0-9]{8}$'
  LOOP
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (symbol, exchange_time)', part.name || '_symbol_time', part.name);
  END LOOP;
END
$$;
