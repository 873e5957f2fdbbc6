/**
 * What the desk's charts and analytics read from the database: a portfolio's fills (the `trades`
 * table, projected from the journal, so they survive restarts) and one symbol's stored bars.
 */
import type { Fill } from '../model/fill.js';
import type { Bar } from '../model/market.js';
import type { Queryable } from './database.js';
import { readBars } from './timeseries/bars.js';
import { fillOfRow, TRADE_COLUMNS, type TradeRow } from './trade-rows.js';

/** A portfolio's fills executed in `[fromMs, toMs)`, oldest first (ties in journal order). */
export async function readPortfolioFills(db: Queryable, portfolioId: string, fromMs = 0, toMs = 8.64e15): Promise<Fill[]> {
  const rows = await db.query<TradeRow>(
    `SELECT ${TRADE_COLUMNS},
            (extract(epoch FROM executed_at) * 1000)::bigint AS at_ms
       FROM trades
      WHERE portfolio_id = $1 AND executed_at >= timestamptz 'epoch' + $2::bigint * interval '1 millisecond' AND executed_at < timestamptz 'epoch' + $3::bigint * interval '1 millisecond'
      ORDER BY executed_at, id`,
    [portfolioId, fromMs, toMs],
  );
  return rows.map(fillOfRow);
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
