-- Troupe schema, version 8: the `orders` projection follows the journal's order, not a clock
-- (issue 15). Runs on PostgreSQL 15 and on PGlite. Never edit after release: add a new file.
--
-- `journal_sequence`: the journal sequence of the last entry applied to the row. The order
-- journal's projection (src/persistence/journal-orders.ts) updates a row only with an entry of a
-- greater sequence. Comparing `updated_at` instead left rows stale after a restart, whose market
-- clock starts earlier than the last run's (an order OPEN at 11:00 cancelled at 09:20 stayed OPEN).
ALTER TABLE orders ADD COLUMN journal_sequence bigint;

-- Rows written before this version: each becomes its order as of the last journal entry that
-- carries it (what a fold of the journal says), which also repairs the rows left stale.
UPDATE orders
   SET broker_order_id = COALESCE(latest.o ->> 'brokerOrderId', orders.broker_order_id),
       status = latest.o ->> 'status',
       status_message = latest.o ->> 'statusMessage',
       filled_quantity = (latest.o ->> 'filledQuantity')::integer,
       cancelled_quantity = (latest.o ->> 'cancelledQuantity')::integer,
       filled_value_paise = (latest.o ->> 'filledValuePaise')::bigint,
       updated_at = timestamptz 'epoch' + (latest.o ->> 'updatedAtMs')::bigint * interval '1 millisecond',
       journal_sequence = latest.sequence
  FROM (SELECT DISTINCT ON (payload -> 'order' ->> 'clientOrderId') payload -> 'order' ->> 'clientOrderId' AS client_order_id, payload -> 'order' AS o, sequence
          FROM journal
         WHERE payload ? 'order'
         ORDER BY payload -> 'order' ->> 'clientOrderId', sequence DESC) AS latest
 WHERE latest.client_order_id = orders.client_order_id;
