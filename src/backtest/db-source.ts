/**
 * Bars for a backtest from the time-series store (`bars_1m` or `bars_1h`, see
 * src/persistence/timeseries): the same replay data a CSV folder with the same bars gives.
 */
import type { Bar } from '../model/index.js';
import type { Queryable } from '../persistence/database.js';
import { readBars } from '../persistence/timeseries/bars.js';
import { replayDataFromBars } from '../streams/index.js';
import type { BacktestData } from './backtest.js';

/** The stored bar intervals. */
export type StoredInterval = '1m' | '1h';
export const STORED_INTERVALS: readonly StoredInterval[] = ['1m', '1h'];

/** Everything before this is "from the start" (epoch ms 0, 1970) and after this "to the end". */
const END_OF_TIME_MS = Date.UTC(2200, 0, 1);

export interface DbSelection {
  readonly interval: StoredInterval;
  /** Default: every symbol with bars in the range. */
  readonly symbols?: readonly string[];
  readonly fromMs?: number;
  readonly toMs?: number;
}

/**
 * Reads the bars of the selection. Symbols asked for without bars in the range are
 * reported in `rejected`; throws when nothing at all is stored for the selection.
 */
export async function loadDbData(db: Queryable, selection: DbSelection): Promise<BacktestData> {
  const table = selection.interval === '1m' ? 'bars_1m' : 'bars_1h';
  const fromMs = selection.fromMs ?? 0;
  const toMs = selection.toMs ?? END_OF_TIME_MS;
  const symbols =
    selection.symbols ??
    (
      await db.query<{ symbol: string }>(
        `SELECT DISTINCT symbol FROM ${table}
          WHERE start_time >= timestamptz 'epoch' + $1::bigint * interval '1 millisecond' AND start_time < timestamptz 'epoch' + $2::bigint * interval '1 millisecond'
          ORDER BY symbol`,
        [fromMs, toMs],
      )
    ).map((row) => row.symbol);
  const series = new Map<string, Bar[]>();
  const rejected: { file: string; line: number; reason: string }[] = [];
  for (const symbol of symbols) {
    const bars = (await readBars(db, selection.interval, symbol, fromMs, toMs)).map((bar) => ({ ...bar, startMs: Number(bar.startMs) }));
    if (bars.length === 0) rejected.push({ file: `${table}:${symbol}`, line: 0, reason: 'no bars stored for this symbol in the range' });
    else series.set(symbol, bars);
  }
  if (series.size === 0) throw new Error(`no bars in ${table} for ${selection.symbols ? selection.symbols.join(', ') : 'any symbol'} in the range asked for`);
  return replayDataFromBars(series, selection.interval, rejected);
}
