-- The API's order list by time range across all portfolios (GET /api/v1/orders with a
-- time filter and no portfolio) scanned the whole table: 110 ms p95 at 1M orders
-- (bench/queries.bench.ts). Newest first, with the client order id as the tie-breaker of
-- the gateway's keyset cursor.
CREATE INDEX IF NOT EXISTS orders_time ON orders (created_at DESC, client_order_id DESC);
