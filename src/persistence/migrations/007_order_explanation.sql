-- Troupe schema, version 7: why an order exists (issue 8). Runs on PostgreSQL 15 and on PGlite.
-- Never edit after release: add a new NNN_name.sql instead.
--
-- `reason`: the intent's free text; `explanation`: its structured explanation (src/model/
-- order-explanation.ts: source, summary, the aggregator's decision, score and confidence, the
-- signals that voted with weight and confidence, the regime) as JSON. Both are NULL when the
-- intent gave none. Written by the order journal's projection (src/persistence/journal-orders.ts),
-- read by src/persistence/order-queries.ts.
ALTER TABLE orders ADD COLUMN reason text;
ALTER TABLE orders ADD COLUMN explanation jsonb;

-- Orders placed before this version: the journal's OrderPlaced payload has both.
UPDATE orders
   SET reason = placed.payload -> 'order' ->> 'reason',
       explanation = placed.payload -> 'order' -> 'explanation'
  FROM journal AS placed
 WHERE placed.type = 'OrderPlaced'
   AND placed.payload -> 'order' ->> 'clientOrderId' = orders.client_order_id
   AND (placed.payload -> 'order' ? 'reason' OR placed.payload -> 'order' ? 'explanation');
