/** A row of the `trades` table (the fills projected from the journal) and the {@link Fill} it is. */
import type { Fill } from '../model/fill.js';
import type { Product, Side } from '../model/order.js';

/** The columns of {@link TradeRow} but the time (each query selects `executed_at` as `at_ms` its own way). */
export const TRADE_COLUMNS =
  'fill_id, client_order_id, broker_order_id, portfolio_id, strategy_id, symbol, side, product, quantity, price_paise, charges_paise';

/** A `trades` row as selected with {@link TRADE_COLUMNS} and `at_ms` (bigints may come back as strings). */
export interface TradeRow {
  fill_id: string;
  client_order_id: string;
  broker_order_id: string;
  portfolio_id: string;
  strategy_id: string;
  symbol: string;
  side: Side;
  product: Product;
  quantity: number;
  price_paise: number;
  charges_paise: number;
  at_ms: number;
}

/** The fill a `trades` row records. */
export function fillOfRow(row: TradeRow): Fill {
  return {
    type: 'fill',
    fillId: row.fill_id,
    clientOrderId: row.client_order_id,
    brokerOrderId: row.broker_order_id,
    portfolioId: row.portfolio_id,
    strategyId: row.strategy_id,
    symbol: row.symbol,
    side: row.side,
    product: row.product,
    quantity: Number(row.quantity),
    pricePaise: Number(row.price_paise),
    chargesPaise: Number(row.charges_paise),
    atMs: Number(row.at_ms),
  };
}
