/**
 * Bars in `bars_1m` and `bars_1h`: upserts (a bar rewritten with the same symbol and start
 * replaces the stored one) and the 1 h roll-up from 1 m bars.
 */
import type { Bar } from '../../model/market.js';
import type { Queryable } from '../database.js';
import { insertColumns, timestampColumn } from '../columns.js';
import { PartitionCache, type SeriesTable } from './partitions.js';

const TABLE_OF: Partial<Record<Bar['interval'], SeriesTable>> = { '1m': 'bars_1m', '1h': 'bars_1h' };

const BAR_COLUMNS = insertColumns<Bar>({
  symbol: ['text', (bar) => bar.symbol],
  start_time: timestampColumn((bar) => bar.startMs),
  open_paise: ['bigint', (bar) => bar.openPaise],
  high_paise: ['bigint', (bar) => bar.highPaise],
  low_paise: ['bigint', (bar) => bar.lowPaise],
  close_paise: ['bigint', (bar) => bar.closePaise],
  volume: ['bigint', (bar) => bar.volume],
  tick_count: ['int', (bar) => bar.tickCount],
});

/** Upserts bars (1 m and 1 h; other intervals are not stored and throw). */
export async function upsertBars(db: Queryable, bars: readonly Bar[], partitions: PartitionCache = new PartitionCache(db)): Promise<void> {
  const byTable = new Map<SeriesTable, Bar[]>();
  for (const bar of bars) {
    const table = TABLE_OF[bar.interval];
    if (table === undefined) throw new RangeError(`bars of interval ${bar.interval} are not stored (only 1m and 1h)`);
    await partitions.ensure(table, bar.startMs);
    const list = byTable.get(table) ?? [];
    list.push(bar);
    byTable.set(table, list);
  }
  for (const [table, list] of byTable) {
    await db.query(
      `INSERT INTO ${table} ${BAR_COLUMNS.list} SELECT * FROM ${BAR_COLUMNS.unnest}
       ON CONFLICT (symbol, start_time) DO UPDATE SET open_paise = EXCLUDED.open_paise, high_paise = EXCLUDED.high_paise, low_paise = EXCLUDED.low_paise,
         close_paise = EXCLUDED.close_paise, volume = EXCLUDED.volume, tick_count = EXCLUDED.tick_count`,
      BAR_COLUMNS.params(list),
    );
  }
}

interface BarRow {
  symbol: string;
  start_ms: number;
  open_paise: number;
  high_paise: number;
  low_paise: number;
  close_paise: number;
  volume: number;
  tick_count: number;
}

/** Bars of `symbol` in `[fromMs, toMs)`, oldest first. */
export async function readBars(db: Queryable, interval: '1m' | '1h', symbol: string, fromMs: number, toMs: number): Promise<Bar[]> {
  const table = interval === '1m' ? 'bars_1m' : 'bars_1h';
  const rows = await db.query<BarRow>(
    `SELECT symbol, (extract(epoch FROM start_time) * 1000)::bigint AS start_ms, open_paise, high_paise, low_paise, close_paise, volume, tick_count
       FROM ${table}
      WHERE symbol = $1 AND start_time >= timestamptz 'epoch' + $2::bigint * interval '1 millisecond' AND start_time < timestamptz 'epoch' + $3::bigint * interval '1 millisecond'
      ORDER BY start_time`,
    [symbol, fromMs, toMs],
  );
  return rows.map((row) => ({
    type: 'bar',
    symbol: row.symbol,
    interval,
    startMs: row.start_ms,
    openPaise: row.open_paise,
    highPaise: row.high_paise,
    lowPaise: row.low_paise,
    closePaise: row.close_paise,
    volume: row.volume,
    tickCount: row.tick_count,
  }));
}

/**
 * Rebuilds the 1 h bars of the hours that overlap `[fromMs, toMs)` from the 1 m bars (open of the
 * first minute, close of the last, high/low extremes, summed volume and tick count).
 */
export async function rollUpHourBars(db: Queryable, fromMs: number, toMs: number, partitions: PartitionCache = new PartitionCache(db)): Promise<void> {
  const hourMs = 3_600_000;
  const startMs = Math.floor(fromMs / hourMs) * hourMs;
  const endMs = Math.ceil(toMs / hourMs) * hourMs;
  for (let atMs = startMs; atMs < endMs; atMs = Date.UTC(new Date(atMs).getUTCFullYear() + 1, 0, 1)) await partitions.ensure('bars_1h', atMs);
  await db.query(
    `INSERT INTO bars_1h (symbol, start_time, open_paise, high_paise, low_paise, close_paise, volume, tick_count)
     SELECT symbol, date_trunc('hour', start_time, 'UTC'),
            (array_agg(open_paise ORDER BY start_time))[1], max(high_paise), min(low_paise),
            (array_agg(close_paise ORDER BY start_time DESC))[1], sum(volume), sum(tick_count)
       FROM bars_1m
      WHERE start_time >= timestamptz 'epoch' + $1::bigint * interval '1 millisecond' AND start_time < timestamptz 'epoch' + $2::bigint * interval '1 millisecond'
      GROUP BY symbol, date_trunc('hour', start_time, 'UTC')
     ON CONFLICT (symbol, start_time) DO UPDATE SET open_paise = EXCLUDED.open_paise, high_paise = EXCLUDED.high_paise, low_paise = EXCLUDED.low_paise,
       close_paise = EXCLUDED.close_paise, volume = EXCLUDED.volume, tick_count = EXCLUDED.tick_count`,
    [startMs, endMs],
  );
}
