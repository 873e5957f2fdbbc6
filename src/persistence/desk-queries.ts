/**
 * What the desk's charts and analytics read from the database: a portfolio's fills (the `trades`
 * table, projected from the journal, so they survive restarts) and one symbol's stored bars.
 */
import type { Fill } from '../model/fill.js';
import type { Product, Side } from '../model/order.js';
import type { Bar } from '../model/market.js';
import type { Queryable } from './database.js';
import { readBars } from './timeseries/bars.js';

interface TradeRow {
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

/** A portfolio's fills executed in `[fromMs, toMs)`, oldest first (ties in journal order). */
export async function readPortfolioFills(db: Queryable, portfolioId: string, fromMs = 0, toMs = 8.64e15): Promise<Fill[]> {
  const rows = await db.query<TradeRow>(
    `SELECT fill_id, client_order_id, broker_order_id, portfolio_id, strategy_id, symbol, side, product, quantity, price_paise, charges_paise,
            (extract(epoch FROM executed_at) * 1000)::bigint AS at_ms
       FROM trades
      WHERE portfolio_id = $1 AND executed_at >= timestamptz 'epoch' + $2::bigint * interval '1 millisecond' AND executed_at < timestamptz 'epoch' + $3::bigint * interval '1 millisecond'
      ORDER BY executed_at, id`,
    [portfolioId, fromMs, toMs],
  );
  return rows.map((row) => ({
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
  }));
}

/** The desk's reads over one database (the gateway's `DeskSources`). */
export function deskSources(db: Queryable): {
  bars(symbol: string, interval: '1m' | '1h', fromMs: number, toMs: number): Promise<Bar[]>;
  fills(portfolioId: string, fromMs?: number, toMs?: number): Promise<Fill[]>;
} {
  return {
    bars: (symbol, interval, fromMs, toMs) => readBars(db, interval, symbol, fromMs, toMs),
    fills: (portfolioId, fromMs, toMs) => readPortfolioFills(db, portfolioId, fromMs, toMs),
  };
}
